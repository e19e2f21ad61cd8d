// minifs/tests/test_support.h: an Fs over malloc with leak counting, allocation failure
// injection, a settable clock, and small helpers.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "minifs/fs.h"
#include "minifs/path.h"

namespace utx::minifs::testing {

struct TestHeap {
    static inline int64_t live_allocs = 0;
    static inline int64_t live_pages = 0;
    static inline int64_t fail_after = -1;  // allocations left before they fail; -1: never
    static inline uint64_t now = 1'000'000'000'000'000'000ull;

    static bool should_fail() {
        if (fail_after < 0) return false;
        if (fail_after == 0) return true;
        --fail_after;
        return false;
    }
    static void* alloc(size_t n) {
        if (should_fail()) return nullptr;
        void* p = malloc(n);
        memset(p, 0xa5, n);  // minifs must not count on zeroed memory
        ++live_allocs;
        return p;
    }
    static void free(void* p) {
        --live_allocs;
        ::free(p);
    }
    static void* alloc_page() {
        if (should_fail()) return nullptr;
        void* p = aligned_alloc(4096, 4096);
        memset(p, 0x5a, 4096);
        ++live_pages;
        return p;
    }
    static void free_page(void* p) {
        --live_pages;
        ::free(p);
    }
    static uint64_t clock() { return now; }
};

inline Config test_config(uint64_t budget = 256ull << 20) {
    Config c;
    c.allocator = {TestHeap::alloc, TestHeap::free, TestHeap::alloc_page, TestHeap::free_page};
    c.now_ns = TestHeap::clock;
    c.budget_bytes = budget;
    return c;
}

class FsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        TestHeap::fail_after = -1;
        start_allocs_ = TestHeap::live_allocs;
        start_pages_ = TestHeap::live_pages;
        ASSERT_EQ(fs.init(test_config(budget())), 0);
        ctx = PathContext{fs.root(), Cred{}, true};
    }
    void TearDown() override {
        TestHeap::fail_after = -1;
        fs.destroy();
        EXPECT_EQ(TestHeap::live_allocs, start_allocs_) << "leaked allocations";
        EXPECT_EQ(TestHeap::live_pages, start_pages_) << "leaked pages";
    }
    virtual uint64_t budget() const { return 256ull << 20; }

    Inode* root() { return fs.root(); }
    // Path helpers that must succeed.
    Inode* mkdir(const char* path, uint32_t perm = 0755) {
        Result<Inode*> r = mkdir_at(fs, ctx, root(), Name(path), perm);
        EXPECT_TRUE(r.ok()) << path << ": " << r.error();
        return r.ok() ? *r : nullptr;
    }
    Inode* file(const char* path, const std::string& data = "", uint32_t perm = 0644) {
        Result<OpenResult> r = open_at(fs, ctx, root(), Name(path), kOpenCreate | kOpenExcl, perm);
        EXPECT_TRUE(r.ok()) << path << ": " << r.error();
        if (!r.ok()) return nullptr;
        if (!data.empty()) {
            EXPECT_EQ(fs.write((*r).inode, 0, data.data(), data.size()), int64_t(data.size()));
        }
        return (*r).inode;
    }
    Inode* get(const char* path, unsigned flags = kFollowLast) {
        Result<Inode*> r = resolve(fs, ctx, root(), Name(path), flags);
        return r.ok() ? *r : nullptr;
    }
    int err(const char* path, unsigned flags = kFollowLast) {
        return resolve(fs, ctx, root(), Name(path), flags).error();
    }
    std::string contents(Inode* inode) {
        std::string s(inode->size, '\0');
        EXPECT_EQ(fs.read(inode, 0, s.data(), s.size()), int64_t(s.size()));
        return s;
    }
    // Names in a directory, in iteration order, without . and ..
    std::vector<std::string> names(Inode* dir) {
        std::vector<std::string> out;
        DirentInfo e;
        for (uint64_t cookie = 0; fs.dir_next(dir, cookie, &e) == 1; cookie = e.cookie) {
            std::string n(e.name.data, e.name.len);
            if (n != "." && n != "..") out.push_back(n);
        }
        return out;
    }

    Fs fs;
    PathContext ctx{};

  private:
    int64_t start_allocs_ = 0;
    int64_t start_pages_ = 0;
};

}  // namespace utx::minifs::testing

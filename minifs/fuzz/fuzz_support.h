// minifs/fuzz/fuzz_support.h: an Fs over malloc that counts what is live, and a checker of
// the file system's invariants, for the fuzzers and the randomized tests.
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <set>
#include <vector>

#include "minifs/fs.h"

namespace utx::minifs::fuzz {

struct Heap {
    static inline long live = 0;
    static void* alloc(size_t n) {
        ++live;
        return malloc(n);
    }
    static void free(void* p) {
        --live;
        ::free(p);
    }
    static void* alloc_page() {
        ++live;
        return aligned_alloc(4096, 4096);
    }
    static void now_free_page(void* p) { free(p); }
    static uint64_t now() { return 1700000000ull * 1000000000ull; }
};

inline Config config(uint64_t budget) {
    Config c;
    c.allocator = {Heap::alloc, Heap::free, Heap::alloc_page, Heap::now_free_page};
    c.now_ns = Heap::now;
    c.budget_bytes = budget;
    return c;
}

#define MINIFS_CHECK(cond)                                                               \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

// Walks the tree from the root (breadth first, no recursion) and checks: every entry can be
// looked up by its name, directories' ".." and link counts, files' link counts against the
// names found, data within the budget. Referenced inodes without names are not reachable
// and are left out of the name counts.
inline void check_invariants(Fs& fs) {
    std::map<Inode*, uint32_t> names;
    std::set<Inode*> seen_dirs{fs.root()};
    std::vector<Inode*> dirs{fs.root()};
    MINIFS_CHECK(fs.root()->dir.parent == fs.root());
    uint64_t pages = 0;
    for (size_t i = 0; i < dirs.size(); ++i) {
        Inode* dir = dirs[i];
        uint32_t subdirs = 0;
        uint64_t entries = 0;
        DirentInfo e;
        uint64_t last_cookie = 2;
        int r;
        for (uint64_t c = 0; (r = fs.dir_next(dir, c, &e)) == 1; c = e.cookie) {
            if (c >= 2) {
                MINIFS_CHECK(e.cookie > last_cookie);
                last_cookie = e.cookie;
            }
            if (e.name.is_dot() || e.name.is_dotdot()) continue;
            ++entries;
            Result<Inode*> found = fs.lookup(dir, e.name);
            MINIFS_CHECK(found.ok());
            Inode* inode = *found;
            MINIFS_CHECK(inode->ino == e.ino);
            MINIFS_CHECK(e.type == dirent_type(inode->mode));
            if (inode->is_dir()) {
                ++subdirs;
                MINIFS_CHECK(inode->dir.parent == dir);
                MINIFS_CHECK(seen_dirs.insert(inode).second);  // one name per directory
                dirs.push_back(inode);
            } else if (names[inode]++ == 0 && inode->is_regular()) {
                pages += inode->file.pages;
            }
        }
        MINIFS_CHECK(r == 0);
        MINIFS_CHECK(entries == dir->dir.entry_count);
        MINIFS_CHECK(dir->nlink == 2 + subdirs);
    }
    for (auto& [inode, count] : names) MINIFS_CHECK(inode->nlink == count);
    FsStats s = fs.stats();
    MINIFS_CHECK(pages <= s.data_pages);
    MINIFS_CHECK(s.used_bytes <= s.budget_bytes);
    MINIFS_CHECK(s.used_bytes >= s.data_pages * kPageSize);
}

}  // namespace utx::minifs::fuzz

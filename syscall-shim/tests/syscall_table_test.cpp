// syscall-shim/tests/syscall_table_test.cpp: syscalls.def is consistent with itself: one
// line per syscall, no number used twice, a handler exactly where the status promises one.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Entry {
    int x86_64;
    int riscv64;
    std::string_view name;
    std::string_view handler;
    std::string_view status;
    std::string_view note;
    int line;  // index in the table, for messages
};

const std::vector<Entry>& table() {
    static const std::vector<Entry> entries = [] {
        std::vector<Entry> v;
#define SYSCALL(x86_64_nr, riscv64_nr, name, handler, status, note) \
    v.push_back({x86_64_nr, riscv64_nr, #name, #handler, #status, note, int(v.size())});
#include "syscalls.def"
#undef SYSCALL
        return v;
    }();
    return entries;
}

std::string describe(const Entry& e) {
    return std::string(e.name) + " (entry " + std::to_string(e.line) + ")";
}

TEST(SyscallTable, IsNotEmptyAndHasTheBasics) {
    ASSERT_GT(table().size(), 300u);
    std::map<std::string_view, const Entry*> by_name;
    for (const auto& e : table()) by_name[e.name] = &e;
    for (auto [name, x86, rv] : {std::tuple{"read", 0, 63}, std::tuple{"write", 1, 64},
                                 std::tuple{"exit_group", 231, 94}, std::tuple{"mmap", 9, 222}}) {
        ASSERT_TRUE(by_name.count(name)) << name;
        EXPECT_EQ(by_name[name]->x86_64, x86) << name;
        EXPECT_EQ(by_name[name]->riscv64, rv) << name;
    }
}

TEST(SyscallTable, NoDuplicateX86Numbers) {
    std::map<int, std::string_view> seen;
    for (const auto& e : table()) {
        if (e.x86_64 == -1) continue;
        auto [it, fresh] = seen.emplace(e.x86_64, e.name);
        EXPECT_TRUE(fresh) << "x86-64 number " << e.x86_64 << " used by " << it->second << " and "
                           << describe(e);
    }
}

TEST(SyscallTable, NoDuplicateRiscv64Numbers) {
    std::map<int, std::string_view> seen;
    for (const auto& e : table()) {
        if (e.riscv64 == -1) continue;
        auto [it, fresh] = seen.emplace(e.riscv64, e.name);
        EXPECT_TRUE(fresh) << "riscv64 number " << e.riscv64 << " used by " << it->second << " and "
                           << describe(e);
    }
}

TEST(SyscallTable, NoDuplicateNames) {
    std::set<std::string_view> seen;
    for (const auto& e : table()) {
        EXPECT_TRUE(seen.insert(e.name).second) << describe(e);
    }
}

TEST(SyscallTable, NumbersInRange) {
    for (const auto& e : table()) {
        EXPECT_TRUE(e.x86_64 == -1 || (e.x86_64 >= 0 && e.x86_64 <= 511)) << describe(e);
        EXPECT_TRUE(e.riscv64 == -1 || (e.riscv64 >= 0 && e.riscv64 <= 511)) << describe(e);
        EXPECT_FALSE(e.x86_64 == -1 && e.riscv64 == -1) << describe(e) << " exists nowhere";
    }
}

TEST(SyscallTable, StatusIsKnown) {
    for (const auto& e : table()) {
        EXPECT_TRUE(e.status == "implemented" || e.status == "partial" || e.status == "stub" ||
                    e.status == "missing")
            << describe(e) << ": status " << e.status;
    }
}

TEST(SyscallTable, ImplementedAndPartialHaveAHandler) {
    for (const auto& e : table()) {
        if (e.status == "implemented" || e.status == "partial") {
            EXPECT_NE(e.handler, "none") << describe(e) << " is " << e.status;
        }
    }
}

TEST(SyscallTable, HandlersAreNamedAfterTheSyscall) {
    for (const auto& e : table()) {
        if (e.handler == "none") continue;
        EXPECT_EQ(e.handler, "sys_" + std::string(e.name)) << describe(e);
    }
}

TEST(SyscallTable, MissingEntriesHaveNoHandler) {
    // `missing` means -ENOSYS from the table's default: a handler there would be dead code
    // or a status nobody updated. (`stub` may go either way.)
    for (const auto& e : table()) {
        if (e.status == "missing") {
            EXPECT_EQ(e.handler, "none") << describe(e);
        }
    }
}

TEST(SyscallTable, PartialAndStubEntriesExplainThemselves) {
    for (const auto& e : table()) {
        if (e.status == "partial" || e.status == "stub") {
            EXPECT_FALSE(e.note.empty()) << describe(e) << " is " << e.status << " without a note";
        }
    }
}

TEST(SyscallTable, NotesAreOneLine) {
    for (const auto& e : table()) {
        EXPECT_EQ(e.note.find('\n'), std::string_view::npos) << describe(e);
    }
}

}  // namespace

// minifs/tests/dir_test.cpp: directory iteration (getdents cookies) under change.
#include <algorithm>
#include <set>

#include "minifs/tests/test_support.h"

namespace utx::minifs::testing {
namespace {

using DirTest = FsTest;

TEST_F(DirTest, DotAndDotDotComeFirst) {
    Inode* d = mkdir("d");
    Inode* f = file("d/f");
    DirentInfo e;
    ASSERT_EQ(fs.dir_next(d, 0, &e), 1);
    EXPECT_EQ(std::string(e.name.data, e.name.len), ".");
    EXPECT_EQ(e.ino, d->ino);
    EXPECT_EQ(e.type, DirentType::kDir);
    ASSERT_EQ(fs.dir_next(d, e.cookie, &e), 1);
    EXPECT_EQ(std::string(e.name.data, e.name.len), "..");
    EXPECT_EQ(e.ino, root()->ino);
    ASSERT_EQ(fs.dir_next(d, e.cookie, &e), 1);
    EXPECT_EQ(std::string(e.name.data, e.name.len), "f");
    EXPECT_EQ(e.ino, f->ino);
    EXPECT_EQ(e.type, DirentType::kRegular);
    EXPECT_EQ(fs.dir_next(d, e.cookie, &e), 0);
    EXPECT_EQ(fs.dir_next(f, 0, &e), -kENOTDIR);
    // The root's ".." is itself.
    ASSERT_EQ(fs.dir_next(root(), 1, &e), 1);
    EXPECT_EQ(e.ino, root()->ino);
}

TEST_F(DirTest, TypesOfEntries) {
    mkdir("d");
    file("f");
    ASSERT_TRUE(fs.symlink(root(), "l", "f", {}).ok());
    ASSERT_TRUE(fs.mknod(root(), "c", kTypeChar | 0600, 0, {}).ok());
    ASSERT_TRUE(fs.mknod(root(), "b", kTypeBlock | 0600, 0, {}).ok());
    ASSERT_TRUE(fs.mknod(root(), "p", kTypeFifo | 0600, 0, {}).ok());
    ASSERT_TRUE(fs.mknod(root(), "s", kTypeSocket | 0600, 0, {}).ok());
    std::vector<int> types;
    DirentInfo e;
    for (uint64_t c = 2; fs.dir_next(root(), c, &e) == 1; c = e.cookie)
        types.push_back(int(e.type));
    EXPECT_EQ(types, (std::vector<int>{4, 8, 10, 2, 6, 1, 12}));
}

TEST_F(DirTest, ManyEntriesAllFoundInCreationOrder) {
    Inode* d = mkdir("d");
    std::vector<std::string> made;
    for (int i = 0; i < 10000; ++i) {
        made.push_back("entry-" + std::to_string(i));
        ASSERT_TRUE(fs.create(d, made.back().c_str(), 0644, {}).ok());
    }
    EXPECT_EQ(names(d), made);
    for (const std::string& n : made) ASSERT_TRUE(fs.lookup(d, n.c_str()).ok()) << n;
    EXPECT_GE(d->dir.bucket_count, 2048u);  // the tables grew
    for (size_t i = 0; i < made.size(); i += 2) ASSERT_EQ(fs.unlink(d, made[i].c_str()), 0);
    std::vector<std::string> odd;
    for (size_t i = 1; i < made.size(); i += 2) odd.push_back(made[i]);
    EXPECT_EQ(names(d), odd);
}

// 2,100 levels: each reached from its parent, the whole chain by relative paths until the
// path is longer than PATH_MAX, ".." all the way back, and removal from the bottom.
TEST_F(DirTest, DeepTree) {
    std::vector<Inode*> chain{root()};
    for (int i = 0; i < 2100; ++i) {
        Result<Inode*> r = mkdir_at(fs, ctx, chain.back(), Name("d"), 0755);
        ASSERT_TRUE(r.ok()) << i;
        chain.push_back(*r);
    }
    std::string path = "d";
    while (path.size() + 2 < kPathMax) path += "/d";  // 2,048 levels in 4,095 bytes
    Result<Inode*> deep = resolve(fs, ctx, root(), Name(path.c_str()), kFollowLast);
    ASSERT_TRUE(deep.ok());
    EXPECT_EQ(*deep, chain[(path.size() + 1) / 2]);
    EXPECT_EQ(resolve(fs, ctx, root(), Name((path + "/d").c_str()), kFollowLast).error(),
              -kENAMETOOLONG);
    std::string up = "..";
    for (int i = 1; i < 1000; ++i) up += "/..";
    EXPECT_EQ(*resolve(fs, ctx, chain[1500], Name(up.c_str()), kFollowLast), chain[500]);
    EXPECT_EQ(rmdir_at(fs, ctx, root(), Name("d")), -kENOTEMPTY);
    for (size_t i = chain.size() - 1; i > 0; --i)
        ASSERT_EQ(rmdir_at(fs, ctx, chain[i - 1], Name("d")), 0) << i;
    EXPECT_EQ(names(root()), std::vector<std::string>{});
}

TEST_F(DirTest, RemovingDuringIterationNeverSkipsOrRepeatsTheRest) {
    Inode* d = mkdir("d");
    for (int i = 0; i < 100; ++i) file(("d/" + std::to_string(i)).c_str());
    std::vector<std::string> seen;
    DirentInfo e;
    uint64_t cookie = 2;
    while (fs.dir_next(d, cookie, &e) == 1) {
        std::string n(e.name.data, e.name.len);
        seen.push_back(n);
        cookie = e.cookie;
        // Like `rm -rf`: remove what was just returned, and also some entries ahead.
        ASSERT_EQ(fs.unlink(d, n.c_str()), 0);
        int i = std::stoi(n);
        if (i % 10 == 0 && i + 5 < 100) {
            ASSERT_EQ(fs.unlink(d, std::to_string(i + 5).c_str()), 0);
        }
    }
    // Every entry not removed ahead of time was seen exactly once.
    std::vector<std::string> expected;
    for (int i = 0; i < 100; ++i)
        if (!(i % 10 == 5)) expected.push_back(std::to_string(i));
    EXPECT_EQ(seen, expected);
    EXPECT_TRUE(Fs::dir_is_empty(d));
}

TEST_F(DirTest, ResumingAtARemovedCookieContinuesAfterIt) {
    Inode* d = mkdir("d");
    for (const char* n : {"a", "b", "c", "d"}) file((std::string("d/") + n).c_str());
    DirentInfo e;
    uint64_t cookie = 2;
    ASSERT_EQ(fs.dir_next(d, cookie, &e), 1);    // a
    ASSERT_EQ(fs.dir_next(d, e.cookie, &e), 1);  // b
    cookie = e.cookie;
    // b and c go away between two getdents calls.
    ASSERT_EQ(fs.unlink(d, "b"), 0);
    ASSERT_EQ(fs.unlink(d, "c"), 0);
    ASSERT_EQ(fs.dir_next(d, cookie, &e), 1);
    EXPECT_EQ(std::string(e.name.data, e.name.len), "d");
    EXPECT_EQ(fs.dir_next(d, e.cookie, &e), 0);
}

TEST_F(DirTest, EntriesAddedDuringIterationComeAfterTheOldOnes) {
    Inode* d = mkdir("d");
    for (int i = 0; i < 10; ++i) file(("d/old" + std::to_string(i)).c_str());
    std::vector<std::string> seen;
    DirentInfo e;
    int added = 0;
    for (uint64_t c = 2; fs.dir_next(d, c, &e) == 1; c = e.cookie) {
        seen.emplace_back(e.name.data, e.name.len);
        if (added < 5) file(("d/new" + std::to_string(added++)).c_str());
    }
    ASSERT_EQ(seen.size(), 15u);
    std::set<std::string> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), 15u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(seen[i], "old" + std::to_string(i));
}

TEST_F(DirTest, RenameOverKeepsTheEntryPosition) {
    Inode* d = mkdir("d");
    file("d/a");
    file("d/b");
    file("d/c");
    ASSERT_EQ(fs.rename(d, "c", d, "a", 0), 0);
    EXPECT_EQ(names(d), (std::vector<std::string>{"a", "b"}));
}

TEST_F(DirTest, RmdirFreesTheEntriesAndTables) {
    file("anchor");  // the root's own tables exist before the count starts
    uint64_t before = fs.stats().metadata_bytes;
    Inode* d = mkdir("d");
    for (int i = 0; i < 300; ++i) file(("d/" + std::to_string(i)).c_str());
    EXPECT_GT(d->dir.bucket_count, 8u);
    for (int i = 0; i < 300; ++i) ASSERT_EQ(fs.unlink(d, std::to_string(i).c_str()), 0);
    ASSERT_EQ(fs.rmdir(root(), "d"), 0);
    EXPECT_EQ(fs.stats().metadata_bytes, before);
}

}  // namespace
}  // namespace utx::minifs::testing

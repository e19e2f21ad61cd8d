// minifs/tests/fs_test.cpp: the path-free operations on names and metadata.
#include <sys/sysmacros.h>

#include "minifs/tests/test_support.h"

namespace utx::minifs::testing {
namespace {

using NamespaceTest = FsTest;

TEST_F(NamespaceTest, RootIsAnEmptyDirectory) {
    Stat st;
    fs.stat(root(), &st);
    EXPECT_EQ(st.mode, kTypeDir | 0755);
    EXPECT_EQ(st.nlink, 2u);
    EXPECT_EQ(st.ino, 1u);
    EXPECT_EQ(*fs.lookup(root(), ".."), root());
    EXPECT_EQ(*fs.lookup(root(), "."), root());
    EXPECT_TRUE(names(root()).empty());
}

TEST_F(NamespaceTest, CreateThenLookup) {
    Cred owner{1000, 100};
    Result<Inode*> f = fs.create(root(), "hello", 0640, owner);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(*fs.lookup(root(), "hello"), *f);
    Stat st;
    fs.stat(*f, &st);
    EXPECT_EQ(st.mode, kTypeRegular | 0640);
    EXPECT_EQ(st.uid, 1000u);
    EXPECT_EQ(st.gid, 100u);
    EXPECT_EQ(st.nlink, 1u);
    EXPECT_EQ(st.size, 0u);
    EXPECT_NE(st.ino, root()->ino);
}

TEST_F(NamespaceTest, CreateErrors) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    EXPECT_EQ(fs.create(root(), "f", 0644, {}).error(), -kEEXIST);
    EXPECT_EQ(fs.create(root(), ".", 0644, {}).error(), -kEEXIST);
    EXPECT_EQ(fs.create(root(), "..", 0644, {}).error(), -kEEXIST);
    EXPECT_EQ(fs.create(f, "x", 0644, {}).error(), -kENOTDIR);
    EXPECT_EQ(fs.create(root(), "", 0644, {}).error(), -kENOENT);
    EXPECT_EQ(fs.create(root(), "a/b", 0644, {}).error(), -kEINVAL);
    std::string longest(255, 'n'), too_long(256, 'n');
    EXPECT_TRUE(fs.create(root(), longest.c_str(), 0644, {}).ok());
    EXPECT_EQ(fs.create(root(), too_long.c_str(), 0644, {}).error(), -kENAMETOOLONG);
    EXPECT_EQ(fs.lookup(root(), too_long.c_str()).error(), -kENAMETOOLONG);
    EXPECT_EQ(fs.lookup(root(), "missing").error(), -kENOENT);
    EXPECT_EQ(fs.lookup(f, "x").error(), -kENOTDIR);
}

TEST_F(NamespaceTest, MkdirCountsLinks) {
    Inode* a = *fs.mkdir(root(), "a", 0700, {});
    EXPECT_EQ(a->mode, kTypeDir | 0700);
    EXPECT_EQ(a->nlink, 2u);
    EXPECT_EQ(root()->nlink, 3u);
    Inode* b = *fs.mkdir(a, "b", 0755, {});
    EXPECT_EQ(a->nlink, 3u);
    EXPECT_EQ(*fs.lookup(b, ".."), a);
    EXPECT_EQ(fs.mkdir(root(), "a", 0755, {}).error(), -kEEXIST);
}

TEST_F(NamespaceTest, SetGidDirectoryPassesItsGroupOn) {
    Inode* shared = *fs.mkdir(root(), "shared", 0775, {});
    ASSERT_EQ(fs.chown(shared, 0, 50), 0);
    ASSERT_EQ(fs.chmod(shared, 02775), 0);
    Inode* f = *fs.create(shared, "f", 0644, {1000, 100});
    EXPECT_EQ(f->gid, 50u);
    EXPECT_EQ(f->mode & kSetGid, 0u);
    Inode* d = *fs.mkdir(shared, "d", 0755, {1000, 100});
    EXPECT_EQ(d->gid, 50u);
    EXPECT_EQ(d->mode & kSetGid, kSetGid);
}

TEST_F(NamespaceTest, MknodMakesEveryNodeType) {
    Inode* c = *fs.mknod(root(), "null", kTypeChar | 0666, make_dev(1, 3), {});
    EXPECT_EQ(c->type(), kTypeChar);
    Stat st;
    fs.stat(c, &st);
    EXPECT_EQ(st.rdev, 0x103u);  // what stat shows for /dev/null
    Inode* b = *fs.mknod(root(), "sda", kTypeBlock | 0660, make_dev(8, 0), {});
    EXPECT_EQ(b->rdev, make_dev(8, 0));
    EXPECT_EQ((*fs.mknod(root(), "fifo", kTypeFifo | 0644, 0, {}))->type(), kTypeFifo);
    EXPECT_EQ((*fs.mknod(root(), "sock", kTypeSocket | 0755, 0, {}))->type(), kTypeSocket);
    Inode* r = *fs.mknod(root(), "reg", kTypeRegular | 0600, 1234, {});
    EXPECT_EQ(r->rdev, 0u);
    EXPECT_EQ(fs.mknod(root(), "dir", kTypeDir | 0755, 0, {}).error(), -kEPERM);
    EXPECT_EQ(fs.mknod(root(), "link", kTypeSymlink | 0777, 0, {}).error(), -kEINVAL);
    EXPECT_EQ(fs.mknod(root(), "bad", 0770000, 0, {}).error(), -kEINVAL);
    EXPECT_EQ(fs.mknod(root(), "null", kTypeChar | 0666, 0, {}).error(), -kEEXIST);
    EXPECT_EQ(make_dev(259, 70000), makedev(259, 70000));
    EXPECT_EQ(make_dev(4095, 0xfffff), makedev(4095, 0xfffff));
    EXPECT_EQ(make_dev(0xfffff, 7), makedev(0xfffff, 7));
}

TEST_F(NamespaceTest, Symlinks) {
    Inode* l = *fs.symlink(root(), "l", "some/where", {});
    EXPECT_EQ(l->mode, kTypeSymlink | 0777);
    EXPECT_EQ(l->size, 10u);
    char buf[64];
    EXPECT_EQ(fs.readlink(l, buf, sizeof buf), 10);
    EXPECT_EQ(std::string(buf, 10), "some/where");
    EXPECT_EQ(fs.readlink(l, buf, 4), 4);
    EXPECT_EQ(std::string(buf, 4), "some");
    EXPECT_EQ(fs.readlink(root(), buf, sizeof buf), -kEINVAL);
    EXPECT_EQ(fs.symlink(root(), "empty", Name("", 0), {}).error(), -kENOENT);
    std::string huge(4096, 'x');
    EXPECT_EQ(fs.symlink(root(), "huge", Name(huge.data(), huge.size()), {}).error(),
              -kENAMETOOLONG);
    EXPECT_TRUE(fs.symlink(root(), "max", Name(huge.data(), 4095), {}).ok());
    EXPECT_EQ(fs.symlink(root(), "l", "x", {}).error(), -kEEXIST);
}

TEST_F(NamespaceTest, HardLinks) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    ASSERT_EQ(fs.link(d, "g", f), 0);
    EXPECT_EQ(f->nlink, 2u);
    EXPECT_EQ(*fs.lookup(d, "g"), f);
    EXPECT_EQ(fs.link(root(), "d2", d), -kEPERM);
    EXPECT_EQ(fs.link(root(), "f", f), -kEEXIST);
    EXPECT_EQ(fs.link(f, "x", f), -kENOTDIR);
    ASSERT_EQ(fs.unlink(root(), "f"), 0);
    EXPECT_EQ(f->nlink, 1u);
    EXPECT_EQ(*fs.lookup(d, "g"), f);
    // An inode without names cannot get one back.
    fs.ref(f);
    ASSERT_EQ(fs.unlink(d, "g"), 0);
    EXPECT_EQ(fs.link(root(), "back", f), -kENOENT);
    fs.unref(f);
}

TEST_F(NamespaceTest, UnlinkErrorsAndFreeing) {
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    EXPECT_EQ(fs.unlink(root(), "d"), -kEISDIR);
    EXPECT_EQ(fs.unlink(root(), "."), -kEISDIR);
    EXPECT_EQ(fs.unlink(root(), "nope"), -kENOENT);
    EXPECT_EQ(fs.unlink(d, "nope"), -kENOENT);
    uint64_t inodes = fs.stats().inodes;
    Inode* f = *fs.create(d, "f", 0644, {});
    ASSERT_EQ(fs.write(f, 0, "data", 4), 4);
    EXPECT_EQ(fs.stats().inodes, inodes + 1);
    ASSERT_EQ(fs.unlink(d, "f"), 0);
    EXPECT_EQ(fs.stats().inodes, inodes);
    EXPECT_EQ(fs.stats().data_pages, 0u);
    EXPECT_EQ(fs.lookup(d, "f").error(), -kENOENT);
}

TEST_F(NamespaceTest, UnlinkWhileOpenKeepsTheData) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    ASSERT_EQ(fs.write(f, 0, "still here", 10), 10);
    fs.ref(f);  // an open file description
    uint64_t inodes = fs.stats().inodes;
    ASSERT_EQ(fs.unlink(root(), "f"), 0);
    EXPECT_EQ(f->nlink, 0u);
    EXPECT_EQ(fs.stats().inodes, inodes);  // not freed yet
    EXPECT_EQ(contents(f), "still here");
    EXPECT_EQ(fs.write(f, 10, "!", 1), 1);
    Inode* g = *fs.create(root(), "f", 0644, {});  // the name is free again
    EXPECT_NE(g, f);
    EXPECT_EQ(contents(f), "still here!");
    fs.unref(f);
    EXPECT_EQ(fs.stats().inodes, inodes);  // f gone, g added
    EXPECT_EQ(fs.stats().data_pages, 0u);
}

TEST_F(NamespaceTest, UnnamedFilesLiveByTheirReferences) {
    uint64_t inodes = fs.stats().inodes;
    Inode* shared = *fs.mkdir(root(), "shared", 02775, {0, 50});
    Inode* f = *fs.create_unnamed(shared, 0600, {1000, 100});
    fs.ref(f);
    EXPECT_EQ(f->nlink, 0u);
    EXPECT_EQ(f->mode, kTypeRegular | 0600);
    EXPECT_EQ(f->gid, 50u);  // the set-group-ID directory's group
    EXPECT_TRUE(names(shared).empty());
    EXPECT_EQ(fs.write(f, 0, "data", 4), 4);
    EXPECT_EQ(contents(f), "data");
    Inode* m = *fs.create_unnamed(nullptr, 0777, {});  // memfd: in no directory
    fs.ref(m);
    EXPECT_EQ(fs.stats().inodes, inodes + 3);
    fs.unref(f);
    fs.unref(m);
    EXPECT_EQ(fs.stats().inodes, inodes + 1);
    EXPECT_EQ(fs.stats().data_pages, 0u);
    fs.ref(shared);
    ASSERT_EQ(fs.rmdir(root(), "shared"), 0);
    EXPECT_EQ(fs.create_unnamed(shared, 0600, {}).error(), -kENOENT);
    fs.unref(shared);
}

TEST_F(NamespaceTest, RmdirErrors) {
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    ASSERT_TRUE(fs.create(d, "f", 0644, {}).ok());
    EXPECT_EQ(fs.rmdir(root(), "d"), -kENOTEMPTY);
    EXPECT_EQ(fs.rmdir(d, "f"), -kENOTDIR);
    EXPECT_EQ(fs.rmdir(root(), "."), -kEINVAL);
    EXPECT_EQ(fs.rmdir(d, ".."), -kENOTEMPTY);
    EXPECT_EQ(fs.rmdir(root(), "nope"), -kENOENT);
    ASSERT_EQ(fs.unlink(d, "f"), 0);
    EXPECT_EQ(root()->nlink, 3u);
    ASSERT_EQ(fs.rmdir(root(), "d"), 0);
    EXPECT_EQ(root()->nlink, 2u);
    EXPECT_EQ(fs.lookup(root(), "d").error(), -kENOENT);
}

TEST_F(NamespaceTest, RmdirWhileOpen) {
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    fs.ref(d);  // a process's cwd
    ASSERT_EQ(fs.rmdir(root(), "d"), 0);
    EXPECT_EQ(d->nlink, 0u);
    EXPECT_EQ(*fs.lookup(d, "."), d);
    EXPECT_EQ(fs.lookup(d, "..").error(), -kENOENT);
    EXPECT_EQ(fs.lookup(d, "x").error(), -kENOENT);
    EXPECT_EQ(fs.create(d, "x", 0644, {}).error(), -kENOENT);
    EXPECT_EQ(fs.mkdir(d, "x", 0755, {}).error(), -kENOENT);
    DirentInfo e;
    ASSERT_EQ(fs.dir_next(d, 0, &e), 1);
    ASSERT_EQ(fs.dir_next(d, e.cookie, &e), 1);
    EXPECT_EQ(fs.dir_next(d, e.cookie, &e), 0);
    fs.unref(d);
}

TEST_F(NamespaceTest, TimesFollowChanges) {
    TestHeap::now = 5'000'000'000;
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    EXPECT_EQ(d->mtime_ns, 5'000'000'000);
    TestHeap::now = 6'000'000'000;
    Inode* f = *fs.create(d, "f", 0644, {});
    EXPECT_EQ(d->mtime_ns, 6'000'000'000);
    EXPECT_EQ(d->ctime_ns, 6'000'000'000);
    TestHeap::now = 7'000'000'000;
    ASSERT_EQ(fs.chmod(f, 0600), 0);
    EXPECT_EQ(f->ctime_ns, 7'000'000'000);
    EXPECT_EQ(f->mtime_ns, 6'000'000'000);
    TestHeap::now = 8'000'000'000;
    ASSERT_EQ(fs.utimens(f, 123, kTimeOmit), 0);
    EXPECT_EQ(f->atime_ns, 123);
    EXPECT_EQ(f->mtime_ns, 6'000'000'000);
    EXPECT_EQ(f->ctime_ns, 8'000'000'000);
    TestHeap::now = 9'000'000'000;
    ASSERT_EQ(fs.utimens(f, kTimeOmit, kTimeNow), 0);
    EXPECT_EQ(f->mtime_ns, 9'000'000'000);
    EXPECT_EQ(f->atime_ns, 123);
    TestHeap::now = 10'000'000'000;
    ASSERT_EQ(fs.utimens(f, kTimeOmit, kTimeOmit), 0);
    EXPECT_EQ(f->ctime_ns, 9'000'000'000);  // nothing at all changes
    ASSERT_EQ(fs.utimens(f, -5, -7), 0);    // before 1970
    EXPECT_EQ(f->atime_ns, -5);
    EXPECT_EQ(f->mtime_ns, -7);
}

TEST_F(NamespaceTest, ChmodKeepsTheTypeAndChownKeepsMinusOne) {
    Inode* f = *fs.create(root(), "f", 0644, {1, 2});
    ASSERT_EQ(fs.chmod(f, 0177777), 0);
    EXPECT_EQ(f->mode, kTypeRegular | 07777);
    ASSERT_EQ(fs.chown(f, 0xffffffffu, 9), 0);
    EXPECT_EQ(f->uid, 1u);
    EXPECT_EQ(f->gid, 9u);
    ASSERT_EQ(fs.chown(f, 7, 0xffffffffu), 0);
    EXPECT_EQ(f->uid, 7u);
    EXPECT_EQ(f->gid, 9u);
}

TEST_F(NamespaceTest, AccessFollowsLinuxRules) {
    Inode* f = *fs.create(root(), "f", 0640, {1000, 100});
    Cred owner{1000, 100}, group{2000, 100}, other{3000, 300}, root_cred{0, 0};
    EXPECT_EQ(access(f, owner, kMayRead | kMayWrite), 0);
    EXPECT_EQ(access(f, owner, kMayExec), -kEACCES);
    EXPECT_EQ(access(f, group, kMayRead), 0);
    EXPECT_EQ(access(f, group, kMayWrite), -kEACCES);
    EXPECT_EQ(access(f, other, kMayRead), -kEACCES);
    uint32_t groups[] = {7, 100};
    Cred supplementary{3000, 300, groups, 2};
    EXPECT_EQ(access(f, supplementary, kMayRead), 0);
    // The owner class applies even when it grants less than the others get.
    ASSERT_EQ(fs.chmod(f, 0077), 0);
    EXPECT_EQ(access(f, owner, kMayRead), -kEACCES);
    EXPECT_EQ(access(f, other, kMayRead), 0);
    // Root reads and writes anything, executes only what has an x bit.
    ASSERT_EQ(fs.chmod(f, 0000), 0);
    EXPECT_EQ(access(f, root_cred, kMayRead | kMayWrite), 0);
    EXPECT_EQ(access(f, root_cred, kMayExec), -kEACCES);
    ASSERT_EQ(fs.chmod(f, 0001), 0);
    EXPECT_EQ(access(f, root_cred, kMayExec), 0);
    Inode* d = *fs.mkdir(root(), "d", 0000, {});
    EXPECT_EQ(access(d, root_cred, kMayExec | kMayRead | kMayWrite), 0);
    EXPECT_EQ(access(d, other, kMayExec), -kEACCES);
}

TEST_F(NamespaceTest, StickyDirectoryProtectsOthersFiles) {
    Inode* tmp = *fs.mkdir(root(), "tmp", 01777, {});
    Inode* mine = *fs.create(tmp, "mine", 0644, {1000, 100});
    Cred me{1000, 100}, them{2000, 200};
    EXPECT_EQ(may_delete(tmp, mine, me), 0);
    EXPECT_EQ(may_delete(tmp, mine, them), -kEPERM);
    EXPECT_EQ(may_delete(tmp, mine, Cred{}), 0);
    ASSERT_EQ(fs.chmod(tmp, 0777), 0);
    EXPECT_EQ(may_delete(tmp, mine, them), 0);
    ASSERT_EQ(fs.chmod(tmp, 0755), 0);
    EXPECT_EQ(may_delete(tmp, mine, them), -kEACCES);
}

TEST_F(NamespaceTest, StatOfADirectoryAndBlocks) {
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    Stat st;
    fs.stat(d, &st);
    EXPECT_EQ(st.size, 40u);
    ASSERT_TRUE(fs.create(d, "a", 0644, {}).ok());
    fs.stat(d, &st);
    EXPECT_EQ(st.size, 60u);
    EXPECT_EQ(st.blksize, 4096u);
}

TEST_F(NamespaceTest, InodeNumbersAreUnique) {
    std::vector<uint64_t> seen{root()->ino};
    for (int i = 0; i < 50; ++i) {
        std::string n = "f" + std::to_string(i);
        Inode* f = *fs.create(root(), n.c_str(), 0644, {});
        for (uint64_t s : seen) EXPECT_NE(s, f->ino);
        seen.push_back(f->ino);
        if (i % 2) {
            ASSERT_EQ(fs.unlink(root(), n.c_str()), 0);  // never reused either
        }
    }
}

TEST_F(NamespaceTest, DestroyFreesReferencedAndUnreferencedInodes) {
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    Inode* f = *fs.create(d, "f", 0644, {});
    ASSERT_EQ(fs.write(f, 1 << 20, "x", 1), 1);
    fs.ref(f);
    ASSERT_EQ(fs.unlink(d, "f"), 0);
    ASSERT_TRUE(fs.symlink(d, "l", "f", {}).ok());
    fs.destroy();  // TearDown checks the heap
    EXPECT_EQ(fs.stats().inodes, 0u);
    EXPECT_EQ(fs.stats().used_bytes, 0u);
    ASSERT_EQ(fs.init(test_config()), 0);
}

}  // namespace
}  // namespace utx::minifs::testing

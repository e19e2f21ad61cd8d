// minifs/tests/path_test.cpp: path resolution, symlinks, and the *at() operations.
#include "minifs/tests/test_support.h"

namespace utx::minifs::testing {
namespace {

class PathTest : public FsTest {
  protected:
    void SetUp() override {
        FsTest::SetUp();
        usr = mkdir("usr");
        bin = mkdir("usr/bin");
        sh = file("usr/bin/sh", "#!");
    }
    Inode *usr, *bin, *sh;
};

TEST_F(PathTest, AbsoluteRelativeDotAndDotDot) {
    EXPECT_EQ(get("/usr/bin/sh"), sh);
    EXPECT_EQ(get("usr/bin/sh"), sh);
    EXPECT_EQ(get("//usr///bin//sh"), sh);
    EXPECT_EQ(get("/usr/./bin/../bin/sh"), sh);
    EXPECT_EQ(get("/.."), root());
    EXPECT_EQ(get("/../../usr"), usr);
    EXPECT_EQ(get("/"), root());
    EXPECT_EQ(get("."), root());
    EXPECT_EQ(*resolve(fs, ctx, bin, "sh", 0), sh);
    EXPECT_EQ(*resolve(fs, ctx, bin, "../..", 0), root());
    EXPECT_EQ(*resolve(fs, ctx, bin, "/usr", 0), usr);
}

TEST_F(PathTest, Errors) {
    EXPECT_EQ(err(""), -kENOENT);
    EXPECT_EQ(err("/nope"), -kENOENT);
    EXPECT_EQ(err("/nope/x"), -kENOENT);
    EXPECT_EQ(err("/usr/bin/sh/x"), -kENOTDIR);
    EXPECT_EQ(err("/usr/bin/sh/"), -kENOTDIR);
    EXPECT_EQ(err("/usr/bin/sh/."), -kENOTDIR);
    EXPECT_EQ(err(("/" + std::string(256, 'a')).c_str()), -kENAMETOOLONG);
    EXPECT_EQ(err(("/" + std::string(256, 'a') + "/x").c_str()), -kENAMETOOLONG);
    EXPECT_EQ(err(std::string(4096, '/').c_str()), -kENAMETOOLONG);
    EXPECT_EQ(get(std::string(4095, '/').c_str()), root());
    EXPECT_EQ(resolve(fs, ctx, sh, "x", 0).error(), -kENOTDIR);
    EXPECT_EQ(get("/usr/bin/", kMustBeDir), bin);
    EXPECT_EQ(err("/usr/bin/sh", kMustBeDir), -kENOTDIR);
}

TEST_F(PathTest, SymlinksRelativeAndAbsolute) {
    ASSERT_TRUE(fs.symlink(usr, "b", "bin", {}).ok());
    ASSERT_TRUE(fs.symlink(root(), "abs", "/usr/bin/sh", {}).ok());
    ASSERT_TRUE(fs.symlink(bin, "up", "../b/sh", {}).ok());
    ASSERT_TRUE(fs.symlink(root(), "slash", "/", {}).ok());
    EXPECT_EQ(get("/usr/b/sh"), sh);
    EXPECT_EQ(get("/abs"), sh);
    EXPECT_EQ(get("/usr/bin/up"), sh);
    EXPECT_EQ(get("/slash/usr"), usr);
    EXPECT_EQ(get("/slash"), root());
    // Without follow-last the link itself; a trailing slash follows anyway.
    Inode* b = get("/usr/b", 0);
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->is_symlink());
    EXPECT_EQ(get("/usr/b/", 0), bin);
    EXPECT_TRUE(get("/abs", 0)->is_symlink());
    EXPECT_EQ(err("/abs/", 0), -kENOTDIR);  // a link to a file, then "/"
}

TEST_F(PathTest, DanglingSymlinkIsEnoent) {
    ASSERT_TRUE(fs.symlink(root(), "dangling", "nowhere", {}).ok());
    EXPECT_EQ(err("/dangling"), -kENOENT);
    EXPECT_TRUE(get("/dangling", 0)->is_symlink());
    EXPECT_EQ(err("/dangling/x"), -kENOENT);
}

TEST_F(PathTest, SymlinkLoopsAreEloop) {
    ASSERT_TRUE(fs.symlink(root(), "self", "self", {}).ok());
    ASSERT_TRUE(fs.symlink(root(), "ping", "pong", {}).ok());
    ASSERT_TRUE(fs.symlink(root(), "pong", "/ping", {}).ok());
    EXPECT_EQ(err("/self"), -kELOOP);
    EXPECT_EQ(err("/ping/x"), -kELOOP);
    EXPECT_EQ(err("/self", 0), 0);
    // A chain of 40 links resolves; 41 is too many.
    ASSERT_TRUE(fs.symlink(root(), "l0", "usr/bin/sh", {}).ok());
    for (int i = 1; i <= 40; ++i)
        ASSERT_TRUE(fs.symlink(root(), ("l" + std::to_string(i)).c_str(),
                               ("l" + std::to_string(i - 1)).c_str(), {})
                        .ok());
    EXPECT_EQ(get("/l39"), sh);
    EXPECT_EQ(err("/l40"), -kELOOP);
}

TEST_F(PathTest, SearchPermission) {
    ASSERT_EQ(fs.chmod(usr, 0700), 0);
    ctx.cred = Cred{1000, 1000};
    EXPECT_EQ(err("/usr/bin/sh"), -kEACCES);
    EXPECT_EQ(get("/usr", 0), usr);  // the last component needs no search permission
    ctx.check_permissions = false;
    EXPECT_EQ(get("/usr/bin/sh"), sh);
    ctx.check_permissions = true;
    ctx.cred = Cred{};
    EXPECT_EQ(get("/usr/bin/sh"), sh);
}

TEST_F(PathTest, RootOfTheContextStopsDotDot) {
    PathContext jail{usr, Cred{}, true};
    EXPECT_EQ(*resolve(fs, jail, bin, "../../..", 0), usr);
    EXPECT_EQ(*resolve(fs, jail, root(), "/bin/sh", 0), sh);
    ASSERT_TRUE(fs.symlink(bin, "out", "/../../usr", {}).ok());
    EXPECT_EQ(resolve(fs, jail, root(), "/bin/out/bin", kFollowLast).error(), -kENOENT);
}

TEST_F(PathTest, ResolveNoSymlinksAndMagicLinks) {
    ASSERT_TRUE(fs.symlink(root(), "l", "usr/bin", {}).ok());
    ASSERT_TRUE(fs.symlink(bin, "magic", "sh", {}).ok());
    static const PathHooks hooks{[](const Inode*, Name name) { return name.equals("magic"); },
                                 nullptr};
    ctx.hooks = &hooks;
    EXPECT_EQ(get("/usr/bin/magic"), sh);  // no restriction: followed as text
    ctx.resolve = kResolveNoSymlinks;
    EXPECT_EQ(err("/l/sh"), -kELOOP);
    EXPECT_EQ(err("/l"), -kELOOP);
    EXPECT_EQ(get("/l", 0), *fs.lookup(root(), "l"));  // not followed: fine
    EXPECT_EQ(get("/usr/bin/sh"), sh);
    ctx.resolve = kResolveNoMagicLinks;
    EXPECT_EQ(get("/l/sh"), sh);
    EXPECT_EQ(err("/usr/bin/magic"), -kELOOP);
    ctx.resolve = kResolveInRoot;
    EXPECT_EQ(err("/usr/bin/magic"), -kEXDEV);
}

TEST_F(PathTest, ResolveBeneathAndInRoot) {
    ASSERT_TRUE(fs.symlink(bin, "abs", "/usr/bin/sh", {}).ok());
    ASSERT_TRUE(fs.symlink(bin, "rel", "../bin/sh", {}).ok());
    ASSERT_TRUE(fs.symlink(bin, "out", "../../usr", {}).ok());
    PathContext beneath{bin, Cred{}, true, kResolveBeneath};
    EXPECT_EQ(*resolve(fs, beneath, bin, "sh", 0), sh);
    EXPECT_EQ(resolve(fs, beneath, bin, "./sh/../sh", 0).error(), -kENOTDIR);
    EXPECT_EQ(resolve(fs, beneath, bin, "/usr", 0).error(), -kEXDEV);
    EXPECT_EQ(resolve(fs, beneath, bin, "..", 0).error(), -kEXDEV);
    EXPECT_EQ(resolve(fs, beneath, bin, "abs", kFollowLast).error(), -kEXDEV);
    EXPECT_EQ(resolve(fs, beneath, bin, "rel", kFollowLast).error(), -kEXDEV);
    EXPECT_EQ(resolve(fs, beneath, bin, "out", kFollowLast).error(), -kEXDEV);
    EXPECT_EQ(*resolve(fs, beneath, bin, "abs", 0), *fs.lookup(bin, "abs"));
    Inode* sub = *fs.mkdir(bin, "sub", 0755, {});
    EXPECT_EQ(*resolve(fs, beneath, bin, "sub/..", 0), bin);
    EXPECT_EQ(*resolve(fs, beneath, bin, "sub/../sh", 0), sh);
    PathContext beneath_sub{sub, Cred{}, true, kResolveBeneath};
    EXPECT_EQ(resolve(fs, beneath_sub, sub, "../sh", 0).error(), -kEXDEV);
    PathContext in_root{usr, Cred{}, true, kResolveInRoot};
    EXPECT_EQ(*resolve(fs, in_root, usr, "/bin/sh", 0), sh);
    EXPECT_EQ(*resolve(fs, in_root, usr, "../../bin/sh", 0), sh);
    EXPECT_EQ(resolve(fs, in_root, usr, "bin/abs", kFollowLast).error(), -kENOENT);  // /usr/usr
    ASSERT_TRUE(fs.symlink(usr, "top", "/bin", {}).ok());
    EXPECT_EQ(*resolve(fs, in_root, usr, "top/sh", 0), sh);
}

TEST_F(PathTest, ResolveNoXdev) {
    Inode* proc = mkdir("proc");
    Inode* self = mkdir("proc/self");
    ASSERT_TRUE(fs.symlink(self, "up", "/usr", {}).ok());
    ASSERT_TRUE(fs.symlink(root(), "p", "proc", {}).ok());
    static Inode* mount;
    mount = proc;
    static const PathHooks hooks{nullptr, [](const Inode* d) { return d == mount; }};
    ctx.hooks = &hooks;
    ctx.resolve = kResolveNoXdev;
    EXPECT_EQ(err("/proc/self"), -kEXDEV);
    EXPECT_EQ(err("/proc"), -kEXDEV);
    EXPECT_EQ(err("/p/self"), -kEXDEV);
    EXPECT_EQ(get("/usr/bin/sh"), sh);
    EXPECT_EQ(*resolve(fs, ctx, self, "..", 0), proc);
    EXPECT_EQ(resolve(fs, ctx, self, "../..", 0).error(), -kEXDEV);
    EXPECT_EQ(resolve(fs, ctx, self, "up", kFollowLast).error(), -kEXDEV);
    EXPECT_EQ(*resolve(fs, ctx, self, "/usr", 0), usr);  // an absolute path argument is fine
    ctx.resolve = 0;
    EXPECT_EQ(get("/proc/self/up"), usr);
}

TEST_F(PathTest, OpenPathGivesTheSymlinkItselfAndTmpfileAt) {
    ASSERT_TRUE(fs.symlink(root(), "l", "usr/bin/sh", {}).ok());
    EXPECT_EQ((*open_at(fs, ctx, root(), "/l", kOpenPath | kOpenNoFollow, 0)).inode,
              *fs.lookup(root(), "l"));
    EXPECT_EQ((*open_at(fs, ctx, root(), "/l", kOpenPath, 0)).inode, sh);
    Inode* t = *tmpfile_at(fs, ctx, root(), "/usr/bin", 0, 0640);
    fs.ref(t);
    EXPECT_EQ(t->nlink, 0u);
    EXPECT_EQ(t->mode, kTypeRegular | 0640);
    EXPECT_EQ(names(bin), std::vector<std::string>{"sh"});
    fs.unref(t);
    EXPECT_EQ(tmpfile_at(fs, ctx, root(), "/usr/bin/sh", 0, 0640).error(), -kENOTDIR);
    EXPECT_EQ(tmpfile_at(fs, ctx, root(), "/nope", 0, 0640).error(), -kENOENT);
    ASSERT_TRUE(fs.symlink(root(), "b", "usr/bin", {}).ok());
    EXPECT_EQ(tmpfile_at(fs, ctx, root(), "/b", kOpenNoFollow, 0640).error(), -kENOTDIR);
    ctx.cred = Cred{1000, 1000};
    EXPECT_EQ(tmpfile_at(fs, ctx, root(), "/usr/bin", 0, 0640).error(), -kEACCES);
}

TEST_F(PathTest, ResolveParent) {
    ParentLookup p = *resolve_parent(fs, ctx, root(), "/usr/bin/new");
    EXPECT_EQ(p.dir, bin);
    EXPECT_EQ(std::string(p.last.data, p.last.len), "new");
    EXPECT_FALSE(p.trailing_slash);
    p = *resolve_parent(fs, ctx, root(), "usr/bin//");
    EXPECT_EQ(p.dir, usr);
    EXPECT_EQ(std::string(p.last.data, p.last.len), "bin");
    EXPECT_TRUE(p.trailing_slash);
    p = *resolve_parent(fs, ctx, root(), "///");
    EXPECT_TRUE(p.names_root);
    EXPECT_EQ(p.dir, root());
    EXPECT_EQ(resolve_parent(fs, ctx, root(), "/nope/x").error(), -kENOENT);
    EXPECT_EQ(resolve_parent(fs, ctx, root(), "/usr/bin/sh/x").error(), -kENOTDIR);
    EXPECT_EQ(resolve_parent(fs, ctx, root(), ("/" + std::string(300, 'x')).c_str()).error(),
              -kENAMETOOLONG);
}

TEST_F(PathTest, OpenWithoutCreate) {
    EXPECT_EQ((*open_at(fs, ctx, root(), "/usr/bin/sh", 0, 0)).inode, sh);
    EXPECT_FALSE((*open_at(fs, ctx, root(), "/usr/bin/sh", 0, 0)).created);
    EXPECT_EQ(open_at(fs, ctx, root(), "/usr/bin/nope", 0, 0).error(), -kENOENT);
    ASSERT_TRUE(fs.symlink(root(), "l", "usr/bin/sh", {}).ok());
    EXPECT_EQ((*open_at(fs, ctx, root(), "/l", 0, 0)).inode, sh);
    EXPECT_EQ(open_at(fs, ctx, root(), "/l", kOpenNoFollow, 0).error(), -kELOOP);
    EXPECT_EQ(open_at(fs, ctx, root(), "/l", kOpenDirectory, 0).error(), -kENOTDIR);
    EXPECT_EQ((*open_at(fs, ctx, root(), "/usr", kOpenDirectory, 0)).inode, usr);
}

TEST_F(PathTest, OpenCreate) {
    OpenResult r = *open_at(fs, ctx, root(), "/usr/new", kOpenCreate, 0600);
    EXPECT_TRUE(r.created);
    EXPECT_EQ(r.inode->mode, kTypeRegular | 0600);
    OpenResult again = *open_at(fs, ctx, root(), "/usr/new", kOpenCreate, 0600);
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.inode, r.inode);
    EXPECT_EQ(open_at(fs, ctx, root(), "/usr/new", kOpenCreate | kOpenExcl, 0600).error(),
              -kEEXIST);
    EXPECT_EQ(open_at(fs, ctx, root(), "/usr", kOpenCreate, 0600).error(), -kEISDIR);
    EXPECT_EQ(open_at(fs, ctx, root(), "/", kOpenCreate, 0600).error(), -kEISDIR);
    EXPECT_EQ(open_at(fs, ctx, root(), "/usr/x/", kOpenCreate, 0600).error(), -kEISDIR);
    EXPECT_EQ(open_at(fs, ctx, root(), "/nope/x", kOpenCreate, 0600).error(), -kENOENT);
}

TEST_F(PathTest, OpenCreateThroughADanglingSymlinkCreatesItsTarget) {
    ASSERT_TRUE(fs.symlink(bin, "later", "../made", {}).ok());
    OpenResult r = *open_at(fs, ctx, root(), "/usr/bin/later", kOpenCreate, 0644);
    EXPECT_TRUE(r.created);
    EXPECT_EQ(get("/usr/made"), r.inode);
    EXPECT_EQ(open_at(fs, ctx, root(), "/usr/bin/later", kOpenCreate | kOpenExcl, 0644).error(),
              -kEEXIST);
    ASSERT_TRUE(fs.symlink(root(), "loop", "loop", {}).ok());
    EXPECT_EQ(open_at(fs, ctx, root(), "/loop", kOpenCreate, 0644).error(), -kELOOP);
    EXPECT_EQ(open_at(fs, ctx, root(), "/usr/bin/later", kOpenCreate | kOpenNoFollow, 0644).error(),
              -kELOOP);
}

TEST_F(PathTest, CreatingNeedsWriteAndSearchOnTheDirectory) {
    ctx.cred = Cred{1000, 1000};
    EXPECT_EQ(open_at(fs, ctx, root(), "/usr/x", kOpenCreate, 0644).error(), -kEACCES);
    EXPECT_EQ(mkdir_at(fs, ctx, root(), "/usr/x", 0755).error(), -kEACCES);
    // An existing name is EEXIST even without the permission to create it.
    EXPECT_EQ(mkdir_at(fs, ctx, root(), "/usr/bin", 0755).error(), -kEEXIST);
    ctx.cred = Cred{};
    ASSERT_EQ(fs.chown(usr, 1000, 1000), 0);
    ctx.cred = Cred{1000, 1000};
    Inode* x = *mkdir_at(fs, ctx, root(), "/usr/x", 0755);
    EXPECT_EQ(x->uid, 1000u);
}

TEST_F(PathTest, MkdirAt) {
    EXPECT_TRUE(mkdir_at(fs, ctx, root(), "/usr/lib/", 0755).ok());
    EXPECT_EQ(mkdir_at(fs, ctx, root(), "/", 0755).error(), -kEEXIST);
    EXPECT_EQ(mkdir_at(fs, ctx, root(), "/usr/.", 0755).error(), -kEEXIST);
    EXPECT_EQ(mkdir_at(fs, ctx, root(), "/usr/bin/sh", 0755).error(), -kEEXIST);
    EXPECT_EQ(mkdir_at(fs, ctx, root(), "/usr/bin/sh/x", 0755).error(), -kENOTDIR);
    EXPECT_EQ(mkdir_at(fs, ctx, root(), "/no/x", 0755).error(), -kENOENT);
}

TEST_F(PathTest, MknodSymlinkAndLinkAt) {
    EXPECT_TRUE(mknod_at(fs, ctx, root(), "/null", kTypeChar | 0666, make_dev(1, 3)).ok());
    EXPECT_EQ(mknod_at(fs, ctx, root(), "/fifo/", kTypeFifo | 0666, 0).error(), -kENOENT);
    EXPECT_EQ(mknod_at(fs, ctx, root(), "/null", kTypeFifo | 0666, 0).error(), -kEEXIST);
    EXPECT_TRUE(symlink_at(fs, ctx, "usr/bin/sh", root(), "/sh").ok());
    EXPECT_EQ(symlink_at(fs, ctx, "x", root(), "/sh").error(), -kEEXIST);
    EXPECT_EQ(symlink_at(fs, ctx, "x", root(), "/new/").error(), -kENOENT);
    // link: without AT_SYMLINK_FOLLOW, a link to the symlink itself.
    ASSERT_EQ(link_at(fs, ctx, root(), "/sh", root(), "/sh2", false), 0);
    EXPECT_TRUE(get("/sh2", 0)->is_symlink());
    ASSERT_EQ(link_at(fs, ctx, root(), "/sh", root(), "/sh3", true), 0);
    EXPECT_EQ(get("/sh3", 0), sh);
    EXPECT_EQ(sh->nlink, 2u);
    EXPECT_EQ(link_at(fs, ctx, root(), "/usr", root(), "/usr2", false), -kEPERM);
    EXPECT_EQ(link_at(fs, ctx, root(), "/nope", root(), "/x", false), -kENOENT);
    EXPECT_EQ(link_at(fs, ctx, root(), "/sh", root(), "/usr", false), -kEEXIST);
}

TEST_F(PathTest, UnlinkAt) {
    EXPECT_EQ(unlink_at(fs, ctx, root(), "/usr"), -kEISDIR);
    EXPECT_EQ(unlink_at(fs, ctx, root(), "/usr/"), -kEISDIR);
    EXPECT_EQ(unlink_at(fs, ctx, root(), "/"), -kEISDIR);
    EXPECT_EQ(unlink_at(fs, ctx, root(), "/usr/bin/sh/"), -kENOTDIR);
    EXPECT_EQ(unlink_at(fs, ctx, root(), "/usr/bin/nope"), -kENOENT);
    ASSERT_TRUE(fs.symlink(root(), "l", "usr", {}).ok());
    ASSERT_EQ(unlink_at(fs, ctx, root(), "/l"), 0);  // the link, not its target
    EXPECT_EQ(get("/usr"), usr);
    ASSERT_EQ(unlink_at(fs, ctx, root(), "/usr/bin/sh"), 0);
    EXPECT_EQ(get("/usr/bin/sh"), nullptr);
}

TEST_F(PathTest, RmdirAt) {
    EXPECT_EQ(rmdir_at(fs, ctx, root(), "/"), -kEBUSY);
    EXPECT_EQ(rmdir_at(fs, ctx, root(), "/usr/."), -kEINVAL);
    EXPECT_EQ(rmdir_at(fs, ctx, root(), "/usr/bin/.."), -kENOTEMPTY);
    EXPECT_EQ(rmdir_at(fs, ctx, root(), "/usr"), -kENOTEMPTY);
    EXPECT_EQ(rmdir_at(fs, ctx, root(), "/usr/bin/sh"), -kENOTDIR);
    EXPECT_EQ(rmdir_at(fs, ctx, root(), "/nope"), -kENOENT);
    PathContext jail{usr, Cred{}, true};
    ASSERT_EQ(unlink_at(fs, ctx, root(), "/usr/bin/sh"), 0);
    EXPECT_EQ(rmdir_at(fs, jail, root(), "/"), -kEBUSY);
    ASSERT_EQ(rmdir_at(fs, ctx, root(), "/usr/bin/"), 0);
    EXPECT_EQ(usr->nlink, 2u);
}

TEST_F(PathTest, StickyTmp) {
    Inode* tmp = mkdir("tmp", 01777);
    (void)tmp;
    ctx.cred = Cred{1000, 1000};
    ASSERT_TRUE(open_at(fs, ctx, root(), "/tmp/mine", kOpenCreate, 0644).ok());
    ctx.cred = Cred{2000, 2000};
    EXPECT_EQ(unlink_at(fs, ctx, root(), "/tmp/mine"), -kEPERM);
    EXPECT_EQ(rename_at(fs, ctx, root(), "/tmp/mine", root(), "/tmp/theirs", 0), -kEPERM);
    ctx.cred = Cred{1000, 1000};
    EXPECT_EQ(unlink_at(fs, ctx, root(), "/tmp/mine"), 0);
}

}  // namespace
}  // namespace utx::minifs::testing

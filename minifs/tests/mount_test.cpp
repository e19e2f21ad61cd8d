// minifs/tests/mount_test.cpp: walks hand the rest of a path over at a mounted inode
// (PathContext::crossing), and a mounted inode cannot be removed or renamed.
#include "minifs/tests/test_support.h"

namespace utx::minifs::testing {
namespace {

class MountTest : public FsTest {
  protected:
    void SetUp() override {
        FsTest::SetUp();
        data = mkdir("data");
        conf = file("etc.conf", "placeholder");
        data->mount = 1;
        conf->mount = 2;
        ASSERT_TRUE(fs.symlink(root(), "link", "/data/x/y", {}).ok());
        ctx.crossing = &crossing;
    }
    // The crossing a walk of `path` reports: "mountpoint-number:rest", or the error.
    std::string cross(const char* path, unsigned flags = kFollowLast) {
        crossing = {};
        Result<Inode*> r = resolve(fs, ctx, root(), Name(path), flags);
        if (r.ok()) return "resolved";
        if (r.error() != -kECrossMount) return "error " + std::to_string(r.error());
        return std::to_string(crossing.mountpoint->mount) + ":" + crossing.rest;
    }
    Inode *data, *conf;
    MountCrossing crossing{};
};

TEST_F(MountTest, WalksHandTheRestOver) {
    EXPECT_EQ(cross("/data/a/b"), "1:a/b");
    EXPECT_EQ(cross("/data//a/../b/"), "1:a/../b/");  // the host keeps "must be a directory"
    EXPECT_EQ(cross("/data"), "1:");
    EXPECT_EQ(cross("/data/"), "1:.");
    EXPECT_EQ(cross("/./data/."), "1:.");
    EXPECT_EQ(cross("/etc.conf"), "2:");
    EXPECT_EQ(cross("/etc.conf/x"), "2:x");
    // Through a symlink: the rest of its target, then the rest of the path.
    EXPECT_EQ(cross("/link"), "1:x/y");
    EXPECT_EQ(cross("/link/z"), "1:x/y/z");
    EXPECT_EQ(cross("/link", 0), "resolved");  // the symlink itself is in minifs
}

TEST_F(MountTest, WithoutACrossingMountpointsAreOrdinary) {
    ctx.crossing = nullptr;
    EXPECT_EQ(get("/data"), data);
    EXPECT_EQ(err("/data/a"), -kENOENT);
}

TEST_F(MountTest, ParentLookupsStopBeforeTheMountpoint) {
    Result<ParentLookup> p = resolve_parent(fs, ctx, root(), Name("/data"));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ((*p).dir, root());
    p = resolve_parent(fs, ctx, root(), Name("/data/new"));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error(), -kECrossMount);
    EXPECT_STREQ(crossing.rest, "new");
}

TEST_F(MountTest, OpenWithCreateOfAMountedFileHandsOver) {
    Result<OpenResult> r = open_at(fs, ctx, root(), Name("/etc.conf"), kOpenCreate, 0644);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), -kECrossMount);
    EXPECT_EQ(crossing.mountpoint, conf);
    EXPECT_STREQ(crossing.rest, "");
    r = open_at(fs, ctx, root(), Name("/data/f"), kOpenCreate, 0644);
    ASSERT_FALSE(r.ok());
    EXPECT_STREQ(crossing.rest, "f");
}

TEST_F(MountTest, MountpointsAreBusy) {
    EXPECT_EQ(rmdir_at(fs, ctx, root(), Name("/data")), -kEBUSY);
    EXPECT_EQ(unlink_at(fs, ctx, root(), Name("/etc.conf")), -kEBUSY);
    EXPECT_EQ(unlink_at(fs, ctx, root(), Name("/data")), -kEISDIR);
    EXPECT_EQ(rename_at(fs, ctx, root(), Name("/data"), root(), Name("/other"), 0), -kEBUSY);
    file("f");
    EXPECT_EQ(rename_at(fs, ctx, root(), Name("/f"), root(), Name("/etc.conf"), 0), -kEBUSY);
    EXPECT_EQ(mkdir_at(fs, ctx, root(), Name("/data"), 0755).error(), -kEEXIST);
    EXPECT_EQ(get("/data", 0), nullptr);  // still crossing: not an inode of ours
}

}  // namespace
}  // namespace utx::minifs::testing

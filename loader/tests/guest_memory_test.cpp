// loader/tests/guest_memory_test.cpp: GuestMemory refuses every access outside RAM.
#include "loader/guest_memory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "loader/tests/guarded_buffer.h"

namespace utx::loader {
namespace {

constexpr uint64_t kMax = ~0ULL;

TEST(GuestMemory, CreateRefusesBadSizes) {
    errno = 0;
    EXPECT_FALSE(GuestMemory::create(0, GuestMemory::Backing::PrivateAnonymous));
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_FALSE(GuestMemory::create(4097, GuestMemory::Backing::SharedMemfd));
    EXPECT_EQ(errno, EINVAL);
}

TEST(GuestMemory, CreatePrivateAnonymous) {
    auto mem = GuestMemory::create(1 << 20, GuestMemory::Backing::PrivateAnonymous);
    ASSERT_TRUE(mem);
    EXPECT_EQ(mem->size(), 1u << 20);
    EXPECT_EQ(mem->memfd(), -1);
    ASSERT_NE(mem->host_base(), nullptr);
    EXPECT_EQ(mem->host_base()[12345], 0);  // anonymous memory starts zeroed
    mem->host_base()[(1 << 20) - 1] = 7;    // the whole range is writable
}

TEST(GuestMemory, TheSharedTailIsSharedWithAForkedChildAndTheRestIsNot) {
    constexpr uint64_t kSize = 4 << 20, kTail = 1 << 20;
    auto mem = GuestMemory::create(kSize, GuestMemory::Backing::PrivateAnonymous, kTail);
    ASSERT_TRUE(mem);
    uint8_t* head = mem->host_base();
    uint8_t* tail = mem->host_base() + (kSize - kTail);
    head[0] = tail[0] = tail[kTail - 1] = 1;
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        head[0] = tail[0] = tail[kTail - 1] = 2;
        _exit(0);
    }
    int status = -1;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_EQ(head[0], 1);  // copy on write: the child's own
    EXPECT_EQ(tail[0], 2);  // the family region: one for both
    EXPECT_EQ(tail[kTail - 1], 2);
    EXPECT_EQ(head[kSize - kTail - 1], 0);  // the private part ends where the tail begins
}

TEST(GuestMemory, CreateRefusesATailLargerThanRam) {
    errno = 0;
    EXPECT_FALSE(GuestMemory::create(1 << 20, GuestMemory::Backing::PrivateAnonymous, 2 << 20));
    EXPECT_EQ(errno, EINVAL);
    EXPECT_FALSE(GuestMemory::create(1 << 20, GuestMemory::Backing::PrivateAnonymous, 100));
}

TEST(GuestMemory, CreateSharedMemfdIsVisibleThroughTheFd) {
    auto mem = GuestMemory::create(1 << 20, GuestMemory::Backing::SharedMemfd);
    ASSERT_TRUE(mem);
    ASSERT_GE(mem->memfd(), 0);
    const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
    ASSERT_TRUE(mem->write(0x54321, hello));
    uint8_t back[5] = {};
    ASSERT_EQ(pread(mem->memfd(), back, sizeof back, 0x54321), 5);
    EXPECT_EQ(std::memcmp(back, hello, 5), 0);
    EXPECT_EQ(lseek(mem->memfd(), 0, SEEK_END), 1 << 20);
}

// The QEMU backend's fork: the family region is a memfd of its own, which the copy leaves
// shared; the rest is copied (only the pages written, the holes stay holes) and the copy
// takes the old part's place at the same address.
TEST(GuestMemory, SharedMemfdCopiesItsOwnPartAndSharesTheTail) {
    constexpr uint64_t kSize = 4 << 20, kTail = 1 << 20;
    auto mem = GuestMemory::create(kSize, GuestMemory::Backing::SharedMemfd, kTail);
    ASSERT_TRUE(mem);
    ASSERT_GE(mem->family_memfd(), 0);
    EXPECT_EQ(mem->shared_tail(), kTail);
    EXPECT_EQ(lseek(mem->memfd(), 0, SEEK_END), off_t(kSize - kTail));
    EXPECT_EQ(lseek(mem->family_memfd(), 0, SEEK_END), off_t(kTail));
    uint8_t* base = mem->host_base();
    base[0x1234] = 'a';
    base[2 << 20] = 'b';                // a page far from the first: a hole between
    base[kSize - kTail + 7] = 'f';      // the family region, through its own memfd
    uint8_t f = 0;
    ASSERT_EQ(pread(mem->family_memfd(), &f, 1, 7), 1);
    EXPECT_EQ(f, 'f');

    const int old_fd = mem->memfd();
    const int copy = mem->copy_private();
    ASSERT_GE(copy, 0);
    EXPECT_EQ(lseek(copy, 0, SEEK_END), off_t(kSize - kTail));
    EXPECT_EQ(lseek(copy, 0, SEEK_DATA), 0x1000) << "untouched pages were copied";
    EXPECT_EQ(lseek(copy, 0x1000, SEEK_HOLE), 0x2000) << "untouched pages were copied";
    EXPECT_EQ(lseek(copy, 0x2000, SEEK_DATA), 2 << 20);
    base[0x1234] = 'A';  // the original changes after the copy; the copy keeps what it had
    ASSERT_TRUE(mem->replace_private(copy));
    EXPECT_EQ(mem->memfd(), copy);
    EXPECT_EQ(mem->host_base(), base);
    EXPECT_EQ(base[0x1234], 'a');
    EXPECT_EQ(base[2 << 20], 'b');
    EXPECT_EQ(base[kSize - kTail + 7], 'f');
    EXPECT_EQ(fcntl(old_fd, F_GETFD), -1) << "the replaced memfd stayed open";
    base[kSize - kTail + 8] = 'g';  // the tail is still the family memfd
    ASSERT_EQ(pread(mem->family_memfd(), &f, 1, 8), 1);
    EXPECT_EQ(f, 'g');
    EXPECT_FALSE(mem->replace_private(-1));
}

TEST(GuestMemory, MoveTransfersOwnership) {
    auto mem = GuestMemory::create(1 << 16, GuestMemory::Backing::SharedMemfd);
    ASSERT_TRUE(mem);
    uint8_t* base = mem->host_base();
    int fd = mem->memfd();
    GuestMemory moved(std::move(*mem));
    EXPECT_EQ(moved.host_base(), base);
    EXPECT_EQ(moved.memfd(), fd);
    EXPECT_EQ(mem->memfd(), -1);
    mem.reset();  // must neither unmap nor close what `moved` now owns
    moved.host_base()[100] = 1;
    EXPECT_NE(fcntl(fd, F_GETFD), -1) << "the memfd was closed by the moved-from object";
}

TEST(GuestMemory, WrapDoesNotOwn) {
    std::vector<uint8_t> bytes(8192, 0x5a);
    {
        GuestMemory mem = GuestMemory::wrap(bytes);
        EXPECT_EQ(mem.size(), 8192u);
        EXPECT_EQ(mem.host_base(), bytes.data());
        EXPECT_EQ(mem.memfd(), -1);
    }
    bytes[0] = 1;  // still ours after the wrapper is gone
    EXPECT_EQ(bytes[8191], 0x5a);
}

TEST(GuestMemory, SliceBounds) {
    testing::GuardedBuffer buf(0x3000);
    GuestMemory mem = GuestMemory::wrap(buf.span());
    const uint64_t size = mem.size();

    auto whole = mem.slice(0, size);
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->data(), buf.data());
    EXPECT_EQ(whole->size(), size);

    auto last = mem.slice(size - 1, 1);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->data(), buf.data() + size - 1);

    EXPECT_TRUE(mem.slice(size, 0));  // empty slice at the very end
    EXPECT_TRUE(mem.slice(0, 0));
    EXPECT_FALSE(mem.slice(size + 1, 0));
    EXPECT_FALSE(mem.slice(size, 1));
    EXPECT_FALSE(mem.slice(size - 1, 2));
    EXPECT_FALSE(mem.slice(0, size + 1));
    // gpa + len wraps around 2^64 to something small: must still be refused.
    EXPECT_FALSE(mem.slice(1, kMax));
    EXPECT_FALSE(mem.slice(kMax, 2));
    EXPECT_FALSE(mem.slice(kMax - 0xfff, 0x1000));
    EXPECT_FALSE(mem.slice(0x1000, kMax - 0xfff));
    EXPECT_FALSE(mem.slice(kMax, 0));
    EXPECT_FALSE(mem.slice(0, kMax));
}

TEST(GuestMemory, ObjectChecksAlignmentAndBounds) {
    testing::GuardedBuffer buf(0x2000);
    GuestMemory mem = GuestMemory::wrap(buf.span());
    EXPECT_EQ(mem.object<uint64_t>(0x100), reinterpret_cast<uint64_t*>(buf.data() + 0x100));
    EXPECT_EQ(mem.object<uint64_t>(0x104), nullptr);  // misaligned
    EXPECT_EQ(mem.object<uint64_t>(0x101), nullptr);
    EXPECT_NE(mem.object<uint32_t>(0x104), nullptr);
    EXPECT_NE(mem.object<uint64_t>(0x2000 - 8), nullptr);  // last whole object
    EXPECT_EQ(mem.object<uint64_t>(0x2000), nullptr);      // starts at the end
    EXPECT_EQ(mem.object<uint64_t>(kMax - 7), nullptr);    // wraps
    struct Big {
        uint64_t words[64];
    };
    EXPECT_EQ(mem.object<Big>(0x2000 - sizeof(Big)),
              reinterpret_cast<Big*>(buf.data() + 0x2000 - sizeof(Big)));
    EXPECT_EQ(mem.object<Big>(0x2000 - sizeof(Big) + 8), nullptr);  // straddles the end
}

TEST(GuestMemory, WriteRefusesOutOfRangeAndLeavesMemoryAlone) {
    testing::GuardedBuffer buf(0x1000);
    std::memset(buf.data(), 0, buf.size());
    GuestMemory mem = GuestMemory::wrap(buf.span());
    const uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    EXPECT_FALSE(mem.write(0x1000 - 15, data));
    EXPECT_FALSE(mem.write(kMax - 7, data));
    for (size_t i = 0; i < buf.size(); ++i) ASSERT_EQ(buf.data()[i], 0) << i;
    EXPECT_TRUE(mem.write(0x1000 - 16, data));
    EXPECT_EQ(std::memcmp(buf.data() + 0x1000 - 16, data, 16), 0);
    EXPECT_TRUE(mem.write(0x1000, std::span<const uint8_t>()));  // empty write at the end
}

}  // namespace
}  // namespace utx::loader

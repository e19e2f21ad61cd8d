#include "loader/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace utx::loader {
namespace {

int make_memfd(const char* name, uint64_t size) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, static_cast<off_t>(size)) != 0) {
        const int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

}  // namespace

std::optional<GuestMemory> GuestMemory::create(uint64_t size, Backing backing,
                                               uint64_t shared_tail) {
    if (size == 0 || size % 4096 != 0 || shared_tail % 4096 != 0 || shared_tail > size) {
        errno = EINVAL;
        return std::nullopt;
    }
    if (backing == Backing::PrivateAnonymous) {
        void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return std::nullopt;
        if (shared_tail) {
            void* tail = static_cast<uint8_t*>(p) + (size - shared_tail);
            if (mmap(tail, shared_tail, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) {
                const int saved = errno;
                munmap(p, size);
                errno = saved;
                return std::nullopt;
            }
        }
        return GuestMemory(static_cast<uint8_t*>(p), size, -1, true);
    }
    // Two memfds under QEMU: the private part, which a fork copies (copy_private), and the
    // family region, which every VM of the tree maps as it is.
    const uint64_t own = size - shared_tail;
    int fd = make_memfd("utx-guest-ram", own);
    if (fd < 0) return std::nullopt;
    int tail_fd = shared_tail ? make_memfd("utx-family", shared_tail) : -1;
    void* p = shared_tail && tail_fd < 0
                  ? MAP_FAILED
                  : mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p != MAP_FAILED && shared_tail &&
        mmap(static_cast<uint8_t*>(p) + own, shared_tail, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_NORESERVE | MAP_FIXED, tail_fd, 0) == MAP_FAILED) {
        const int saved = errno;
        munmap(p, size);
        errno = saved;
        p = MAP_FAILED;
    }
    if (p == MAP_FAILED) {
        const int saved = errno;
        close(fd);
        if (tail_fd >= 0) close(tail_fd);
        errno = saved;
        return std::nullopt;
    }
    GuestMemory mem(static_cast<uint8_t*>(p), size, fd, true);
    mem.family_memfd_ = tail_fd;
    mem.shared_tail_ = shared_tail;
    return mem;
}

int GuestMemory::copy_private() const {
    const uint64_t own = size_ - shared_tail_;
    if (memfd_ < 0) return errno = EINVAL, -1;
    int fd = make_memfd("utx-guest-ram", own);
    if (fd < 0) return -1;
    // Only what the guest has touched: the rest of the memfd is holes, and stays so.
    for (off_t at = 0; at < off_t(own);) {
        const off_t data = lseek(memfd_, at, SEEK_DATA);
        if (data < 0) break;  // ENXIO: no data after `at`
        off_t hole = lseek(memfd_, data, SEEK_HOLE);
        if (hole < 0 || hole > off_t(own)) hole = off_t(own);
        for (off_t o = data; o < hole;) {
            const ssize_t n = pwrite(fd, base_ + o, size_t(hole - o), o);
            if (n <= 0) {
                const int saved = n < 0 ? errno : EIO;
                close(fd);
                return errno = saved, -1;
            }
            o += n;
        }
        at = hole;
    }
    return fd;
}

bool GuestMemory::replace_private(int fd) {
    const uint64_t own = size_ - shared_tail_;
    if (memfd_ < 0 || fd < 0 ||
        mmap(base_, own, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | MAP_FIXED, fd, 0) ==
            MAP_FAILED)
        return false;
    close(memfd_);
    memfd_ = fd;
    return true;
}

GuestMemory GuestMemory::wrap(std::span<uint8_t> bytes) {
    return GuestMemory(bytes.data(), bytes.size(), -1, false);
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : base_(other.base_),
      size_(other.size_),
      memfd_(other.memfd_),
      owned_(other.owned_),
      family_memfd_(other.family_memfd_),
      shared_tail_(other.shared_tail_) {
    other.base_ = nullptr;
    other.memfd_ = -1;
    other.family_memfd_ = -1;
    other.owned_ = false;
}

GuestMemory::~GuestMemory() {
    if (owned_ && base_) munmap(base_, size_);
    if (memfd_ >= 0) close(memfd_);
    if (family_memfd_ >= 0) close(family_memfd_);
}

std::optional<std::span<uint8_t>> GuestMemory::slice(uint64_t gpa, uint64_t len) const {
    if (gpa > size_ || len > size_ - gpa) return std::nullopt;
    return std::span<uint8_t>(base_ + gpa, len);
}

}  // namespace utx::loader

#include "loader/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace utx::loader {

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
    int fd = memfd_create("utx-guest-ram", 0);
    if (fd < 0) return std::nullopt;
    if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return std::nullopt;
    }
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
        int saved = errno;
        close(fd);
        errno = saved;
        return std::nullopt;
    }
    return GuestMemory(static_cast<uint8_t*>(p), size, fd, true);
}

GuestMemory GuestMemory::wrap(std::span<uint8_t> bytes) {
    return GuestMemory(bytes.data(), bytes.size(), -1, false);
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : base_(other.base_), size_(other.size_), memfd_(other.memfd_), owned_(other.owned_) {
    other.base_ = nullptr;
    other.memfd_ = -1;
    other.owned_ = false;
}

GuestMemory::~GuestMemory() {
    if (owned_ && base_) munmap(base_, size_);
    if (memfd_ >= 0) close(memfd_);
}

std::optional<std::span<uint8_t>> GuestMemory::slice(uint64_t gpa, uint64_t len) const {
    if (gpa > size_ || len > size_ - gpa) return std::nullopt;
    return std::span<uint8_t>(base_ + gpa, len);
}

}  // namespace utx::loader

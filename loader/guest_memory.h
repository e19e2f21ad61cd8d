// loader/guest_memory.h: the guest's RAM as seen by the VMM. Every access by guest-physical
// address goes through slice(), which refuses anything outside RAM.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace utx::loader {

class GuestMemory {
public:
    enum class Backing {
        PrivateAnonymous,  // KVM: MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE (fork copies on write)
        SharedMemfd,       // QEMU: a memfd mapped by both utx-run and QEMU
    };

    // Returns nullopt (and sets errno) when the mapping cannot be made. The last
    // `shared_tail` bytes (the family region, abi/boot_info.h) are MAP_SHARED even under
    // PrivateAnonymous: a forked VMM's guest sees the same bytes there as its parent's.
    static std::optional<GuestMemory> create(uint64_t size, Backing backing,
                                             uint64_t shared_tail = 0);
    // Wraps caller-owned memory (unit tests).
    static GuestMemory wrap(std::span<uint8_t> bytes);

    GuestMemory(GuestMemory&& other) noexcept;
    GuestMemory& operator=(GuestMemory&&) = delete;
    GuestMemory(const GuestMemory&) = delete;
    ~GuestMemory();

    uint64_t size() const { return size_; }
    uint8_t* host_base() const { return base_; }
    // SharedMemfd: the memfd of the guest's own part, and (-1 without a shared tail) that
    // of the family region, the last shared_tail() bytes.
    int memfd() const { return memfd_; }
    int family_memfd() const { return family_memfd_; }
    uint64_t shared_tail() const { return shared_tail_; }
    // SharedMemfd: a new memfd holding a copy of the guest's own part (the bytes it has
    // touched; the rest stays holes), or -1 with errno. The family region is not copied.
    int copy_private() const;
    // SharedMemfd: the guest's own part becomes `fd` (from copy_private), at the same host
    // address; the old memfd is closed. False (and nothing changed) if it cannot be mapped.
    bool replace_private(int fd);

    // [gpa, gpa+len) inside RAM, or an empty optional. len 0 is valid anywhere up to size().
    std::optional<std::span<uint8_t>> slice(uint64_t gpa, uint64_t len) const;

    template <typename T>
    T* object(uint64_t gpa) const {
        if (gpa % alignof(T) != 0) return nullptr;
        auto s = slice(gpa, sizeof(T));
        return s ? reinterpret_cast<T*>(s->data()) : nullptr;
    }

    bool write(uint64_t gpa, std::span<const uint8_t> bytes) const {
        auto s = slice(gpa, bytes.size());
        if (!s) return false;
        // An empty span's data() may be null, which memcpy may not be given even for 0 bytes.
        if (!bytes.empty()) std::memcpy(s->data(), bytes.data(), bytes.size());
        return true;
    }

private:
    GuestMemory(uint8_t* base, uint64_t size, int memfd, bool owned)
        : base_(base), size_(size), memfd_(memfd), owned_(owned) {}

    uint8_t* base_;
    uint64_t size_;
    int memfd_;
    bool owned_;
    int family_memfd_ = -1;
    uint64_t shared_tail_ = 0;
};

}  // namespace utx::loader

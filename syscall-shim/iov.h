// syscall-shim/iov.h: user iovec arrays, for readv/writev and sendmsg/recvmsg.
#pragma once
#include <stdint.h>

#include "kernel/lib/errno.h"
#include "kernel/mm/memory.h"
#include "kernel/platform/hypercall.h"

namespace utx::kernel {

inline constexpr uint64_t kMaxIov = 1024;       // IOV_MAX
inline constexpr uint64_t kMaxRw = 0x7ffff000;  // MAX_RW_COUNT

struct Iovec {
    uint64_t base, len;
};

// Reads the iovec array into `out` (room for iovcnt entries), validates it and makes the
// buffers present (for writing into them when `write_to_user`). Lengths past MAX_RW_COUNT in
// total are cut. Returns the count or -errno.
int64_t load_iov(uint64_t iov_addr, uint64_t iovcnt, IoBuffer* out, bool write_to_user);

// The iovec array of one call, on the kernel stack when short, else on the heap: a call
// that blocks keeps its own while other threads make theirs.
class IovArray {
  public:
    IovArray() = default;
    IovArray(const IovArray&) = delete;
    IovArray& operator=(const IovArray&) = delete;
    ~IovArray() { kfree(heap_); }

    // load_iov into this array; -EMSGSIZE past IOV_MAX when `msg` (sendmsg's error), else
    // -EINVAL.
    int64_t load(uint64_t addr, uint64_t count, bool write_to_user, bool msg = false) {
        if (count > kMaxIov) return msg ? -EMSGSIZE : -EINVAL;
        if (count > kInline) {
            heap_ = static_cast<IoBuffer*>(kmalloc(count * sizeof(IoBuffer)));
            if (!heap_) return -ENOMEM;
        }
        return load_iov(addr, count, data(), write_to_user);
    }
    IoBuffer* data() { return heap_ ? heap_ : inline_; }

  private:
    static constexpr uint64_t kInline = 8;
    IoBuffer inline_[kInline];
    IoBuffer* heap_ = nullptr;
};

}  // namespace utx::kernel

// kernel/mm/user_access.h: the only way syscalls touch the application's memory. Every
// range is checked against the VMAs (and faulted in) first; a bad pointer is EFAULT, never
// a kernel fault.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/string.h"
#include "kernel/mm/address_space.h"

namespace utx::kernel {

inline bool user_readable(uint64_t addr, size_t len) {
    return current_address_space().prepare_access(addr, len, false);
}
inline bool user_writable(uint64_t addr, size_t len) {
    return current_address_space().prepare_access(addr, len, true);
}

// With SMAP on, the kernel reaches user pages only inside such a scope (stac … clac).
class UserAccessScope {
public:
    UserAccessScope() { user_access_begin(); }
    ~UserAccessScope() { user_access_end(); }
    UserAccessScope(const UserAccessScope&) = delete;
    UserAccessScope& operator=(const UserAccessScope&) = delete;
};

inline bool copy_from_user(void* dst, uint64_t src, size_t len) {
    if (!user_readable(src, len)) return false;
    UserAccessScope scope;
    memcpy(dst, reinterpret_cast<const void*>(src), len);
    return true;
}

inline bool copy_to_user(uint64_t dst, const void* src, size_t len) {
    if (!user_writable(dst, len)) return false;
    UserAccessScope scope;
    memcpy(reinterpret_cast<void*>(dst), src, len);
    return true;
}

// A typed user pointer: read() and write() copy a whole T or fail with EFAULT.
template <typename T>
class UserPtr {
public:
    explicit UserPtr(uint64_t addr) : addr_(addr) {}
    bool is_null() const { return addr_ == 0; }
    uint64_t addr() const { return addr_; }
    bool read(T& out) const { return copy_from_user(&out, addr_, sizeof(T)); }
    bool write(const T& in) const { return copy_to_user(addr_, &in, sizeof(T)); }

private:
    uint64_t addr_;
};

// Copies a NUL-terminated string; returns its length, -EFAULT or -ENAMETOOLONG.
inline int64_t copy_string_from_user(char* dst, size_t cap, uint64_t src) {
    for (size_t i = 0; i < cap; ++i) {
        if (!copy_from_user(&dst[i], src + i, 1)) return -EFAULT;
        if (!dst[i]) return int64_t(i);
    }
    return -ENAMETOOLONG;
}

}  // namespace utx::kernel

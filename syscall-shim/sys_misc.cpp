// syscall-shim/sys_misc.cpp: randomness and system information.
#include "kernel/mm/memory.h"
#include "kernel/random.h"
#include "kernel/time.h"
#include "syscall-shim/handlers.h"
#include "kernel/mm/user_access.h"

namespace utx::kernel {

int64_t sys_getrandom(SyscallArgs& a) {
    constexpr uint64_t kNonblock = 1, kRandom = 2, kInsecure = 4;
    if (a.arg[2] & ~(kNonblock | kRandom | kInsecure)) return -EINVAL;
    if ((a.arg[2] & kRandom) && (a.arg[2] & kInsecure)) return -EINVAL;
    uint64_t len = a.arg[1] < 0x1ffffff ? a.arg[1] : 0x1ffffff;
    uint8_t chunk[256];
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        random_bytes(chunk, n);
        if (!copy_to_user(a.arg[0] + done, chunk, n)) return done ? int64_t(done) : -EFAULT;
        done += n;
    }
    return int64_t(len);
}

int64_t sys_sysinfo(SyscallArgs& a) {
    struct Sysinfo {
        int64_t uptime;
        uint64_t loads[3];
        uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
        uint16_t procs, pad;
        uint32_t pad2;
        uint64_t totalhigh, freehigh;
        uint32_t mem_unit;
        char reserved[4];
    } info = {};
    static_assert(sizeof(Sysinfo) == 112);
    info.uptime = int64_t(boot_ns() / 1'000'000'000ULL) + 1;
    info.totalram = frames_total_count() * kPageSize;
    info.freeram = frames_free_count() * kPageSize;
    info.procs = 1;
    info.mem_unit = 1;
    return UserPtr<Sysinfo>(a.arg[0]).write(info) ? 0 : -EFAULT;
}

}  // namespace utx::kernel

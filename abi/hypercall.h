// abi/hypercall.h: guest-to-VMM requests.
//
// A vCPU writes the guest-physical address of an HcRequest into its mailbox slot
// (kHypercallPageGpa + 8 * vcpu) and writes its vCPU index with `outb` to kHypercallPort.
// Under KVM that exits synchronously; under the QEMU backend the byte reaches utx-run on a
// socket. Either way the VMM sets `done` to 1 after filling `result`, and the guest waits
// for `done`. The VMM checks every address and length against guest RAM first.
#pragma once
#include <stdint.h>

namespace utx::abi {

inline constexpr uint16_t kHypercallPort = 0xe9;
inline constexpr uint32_t kMaxIoSegments = 64;  // gather list of one write/read request
// The kernel's struct termios that TCGETS fills (not glibc's larger struct termios).
inline constexpr uint32_t kKernelTermiosSize = 36;

enum HcOp : uint32_t {
    kHcWrite = 1,       // host fd (0..2), segments → bytes written or -errno
    kHcRead = 2,        // host fd (0), segments → bytes read or -errno
    kHcExit = 3,        // args[0] = exit status; args[1] = signal (0: normal exit),
                        // args[2] = fault address, args[3] = rip
    kHcClock = 4,       // → args[0] = host CLOCK_REALTIME ns, args[1] = CLOCK_MONOTONIC ns
    kHcPanic = 5,       // segments[0] = message
    kHcPoll = 6,        // args[0] = host fd, args[1] = events, args[2] = timeout ms → revents
    kHcFstat = 7,       // args[0] = host fd, segments[0] = struct stat (x86-64 layout)
    kHcIoctl = 8,       // args[0] = host fd, args[1] = TCGETS | TIOCGWINSZ | FIONREAD,
                        // segments[0] = arg
    kHcLseek = 9,       // args[0] = host fd, args[1] = offset, args[2] = whence → offset
    kHcFcntl = 10,      // args[0] = host fd, args[1] = F_GETFL → flags
};

struct IoSegment {
    uint64_t gpa;
    uint64_t len;
};

struct HcRequest {
    uint32_t op;
    uint32_t nsegments;
    int64_t result;
    uint64_t args[6];
    volatile uint32_t done;
    uint32_t pad;
    IoSegment segments[kMaxIoSegments];
};

}  // namespace utx::abi

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
    kHcRead = 2,        // host fd (0), segments → bytes read or -errno; with args[1] = 1,
                        // -EAGAIN instead of blocking when nothing can be read now
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
    kHcFs = 11,         // host mounts (-v): args[0] = HostFsOp, the rest as described there
    kHcTraceMissing = 12,  // --trace only: segments[0] = an absolute guest path the program
                           // looked up and did not find; the VMM reports it, with a hint
                           // when the host has it (nothing comes back to the guest)
    kHcStartCpu = 13,   // our VMM only: start vCPU args[0] (not yet running) in long mode on
                        // the boot page tables, CS/SS as the first one, at rip = args[1]
                        // with rsp = args[2], rdi = args[3] → 0, or -EINVAL (no such vCPU,
                        // already started)
    kHcNet = 14,        // host sockets: args[0] = NetOp, the rest as described there
    kHcProcess = 15,    // processes: args[0] = ProcOp, the rest as described there
};

// kHcNet requests (loader/host_net.cpp). The VMM opens AF_INET and AF_INET6 sockets on the
// host under its --net policy and names each by a handle below kMaxHostSockets
// (abi/host_events.h); args[1] is that handle. Every host call is non-blocking: a request
// that would block fails with -EAGAIN (connect: -EINPROGRESS), and the kernel waits for the
// socket's HostSocketState word, which the VMM updates after each request and whenever the
// host reports a change. Buffers as for kHcFs: args[5] = n1 gives b1 = the first n1
// segments, b2 = the rest. Socket addresses are struct sockaddr as Linux lays it out.
// Results are -errno on failure.
enum NetOp : uint64_t {
    kNetSocket = 1,    // a1 domain, a2 type (SOCK_STREAM or SOCK_DGRAM, no flags), a3 protocol
                       // → handle
    kNetClose = 2,     // a1 handle
    kNetBind = 3,      // a1 handle, b1 address
    kNetListen = 4,    // a1 handle, a2 backlog
    kNetAccept = 5,    // a1 handle; b1 ← the peer's address (args[0] ← its length) → handle
    kNetConnect = 6,   // a1 handle, b1 address → 0, or -EINPROGRESS while it connects
    kNetSend = 7,      // a1 handle, a2 MSG_* flags; b1 the destination (none: the peer), b2
                       // the data → bytes sent
    kNetRecv = 8,      // a1 handle, a2 MSG_* flags; b1 ← the source address (args[0] ← its
                       // length), b2 ← the data → bytes; args[1] ← the msg_flags out
    kNetShutdown = 9,  // a1 handle, a2 how
    kNetGetName = 10,  // a1 handle, a2 = 1 for the peer's; b1 ← address → its length
    kNetSetOpt = 11,   // a1 handle, a2 level, a3 option; b1 the value
    kNetGetOpt = 12,   // a1 handle, a2 level, a3 option; b1 ← the value → its length
    kNetIoctl = 13,    // a1 handle, a2 FIONREAD or SIOCOUTQ → the count
};

// kHcProcess requests. Guest pids are the VMM's: one namespace per process tree, the first
// process being pid 1. Results are -errno on failure.
enum ProcOp : uint64_t {
    kProcFork = 1,     // clone this VM (KVM backend only, else -ENOSYS): the parent gets the
                       // child's pid; in the child the result is 0 and args[1] ← its pid,
                       // args[2] ← its parent's. -EAGAIN past --pids.
    kProcWait = 2,     // a1 = wait4's pid selector (as int64), a2 = WNOHANG | WUNTRACED |
                       // WEXITED | WCONTINUED | WNOWAIT (the VMM never waits; WEXITED for
                       // ends, WUNTRACED for stops, WCONTINUED for continues) → a child's
                       // pid with args[1] ← its wait status (Linux's encoding), args[2] ←
                       // 1 when the parent had not been told of it yet (kProcChildEvents),
                       // args[3], args[4] ← its user and system time in µs (an end only),
                       // 0 when none has changed state yet, or -ECHILD when no child matches
    kProcKill = 3,     // a1 = kill's pid selector (as int64), a2 = signal (0: check only)
                       // → 0 or -ESRCH; args[1] ← 1 when the caller itself is a target
    kProcParent = 4,   // → the parent's pid (1 once the parent is gone, 0 for pid 1)
    kProcChildEvents = 5,  // → how many children ended, stopped or continued since the last
                           // call (each is told once: here or by kProcWait), args[1] ← the
                           // CLD_* code of the last; the guest raises SIGCHLD for them. The
                           // VMM posts SIGCHLD in the host signal word as the cue to ask.
    kProcSetPgid = 6,  // a1 = pid (0: the caller), a2 = pgid (0: that pid) → 0 or -errno as
                       // setpgid(2) (ESRCH: not the caller or its child; EPERM: another
                       // session, a session leader, or no such group in the session)
    kProcGetPgid = 7,  // a1 = pid (0: the caller) → its process group, or -ESRCH
    kProcSetSid = 8,   // → the new session (the caller's pid), or -EPERM for a group leader
    kProcGetSid = 9,   // a1 = pid (0: the caller) → its session, or -ESRCH
    kProcWake = 10,    // a1, a2 = pids to wake (0: none), or a1 = -1: every process of the
                       // tree but the caller. Each one's family_seq (abi/host_events.h) is
                       // bumped and its guest interrupted → 0
    kProcLockWait = 11,  // a1 = gpa of a 32-bit word in the family region, a2 = the value
                         // it held: returns once it changed, or after a millisecond (a
                         // host futex wait on the shared mapping) → 0, or -EINVAL for a bad
                         // address
    kProcLockWake = 12,  // a1 = gpa of such a word: wakes the VMs waiting on it → 0
    kProcJob = 13,     // job control: the caller stopped (a1 = the signal) or continued
                       // (a1 = 0); its parent gets SIGCHLD → 0
    kProcForeground = 14,  // the terminal's foreground process group (tcgetpgrp and
                           // tcsetpgrp): a1 = 0 → it (0: the group outside the tree, where
                           // it starts); a1 = 1, a2 = pgid → 0, or -EPERM when that group
                           // is in another session, -ESRCH when there is no such group
    kProcUsage = 15,   // CPU time: a1 = 0 this process's (its VMM's), 1 its reaped
                       // children's → 0, args[1] ← user µs, args[2] ← system µs
    kProcVfork = 16,   // vfork: a1 = 0 from the child once it has exec'd or is ending (its
                       // parent is woken as by kProcWake) → 0; a1 = 1 from the parent, a2 =
                       // the child → 1 once that happened or the child is gone, else 0
};

// kHcFs requests. args[1] is the mount index (path ops) or a handle the VMM gave out (fd
// ops); args[2..4] are the operation's numbers; args[5] = n1 | n2 << 8 splits the segments
// into up to three buffers: b1 = the first n1 segments, b2 = the next n2, b3 = the rest.
// Paths are relative to the mount's root, NUL-terminated inside their buffer, and resolved
// by the VMM with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): nothing outside the
// mount is reachable. Results are -errno on failure.
enum HostFsOp : uint64_t {
    kFsOpen = 1,      // b1 path, a2 open flags, a3 mode; b2 ← path of the file relative to
                      // the root (args[0] ← its length), b3 ← struct stat → handle
    kFsClose = 2,     // a1 handle
    kFsRead = 3,      // a1 handle, a2 offset (-1: the file offset); segments ← data → bytes
    kFsWrite = 4,     // a1 handle, a2 offset (-1: the file offset); segments → data → bytes
    kFsSeek = 5,      // a1 handle, a2 offset, a3 whence → new offset
    kFsFstat = 6,     // a1 handle; b3 ← struct stat
    kFsGetdents = 7,  // a1 handle; b3 ← linux_dirent64 records → bytes
    kFsFtruncate = 8, // a1 handle, a2 length
    kFsFsync = 9,     // a1 handle, a2 = 1 for fdatasync
    kFsFchmod = 10,   // a1 handle, a2 mode
    kFsFchown = 11,   // a1 handle, a2 uid, a3 gid
    kFsFutimens = 12, // a1 handle, a2 = 1 when b3 holds struct timespec[2] (else: now)
    kFsStat = 13,     // b1 path, a2 = 1 to follow a last symlink; b3 ← struct stat
    kFsMkdir = 14,    // b1 path, a2 mode
    kFsUnlink = 15,   // b1 path, a2 = AT_REMOVEDIR or 0
    kFsRename = 16,   // b1 old path, b2 new path, a2 renameat2 flags
    kFsLink = 17,     // b1 old path, b2 new path, a2 = 1 to follow a last symlink of old
    kFsSymlink = 18,  // b1 path of the new link, b2 its target (any text)
    kFsReadlink = 19, // b1 path; b3 ← target → length
    kFsChmod = 20,    // b1 path, a2 mode
    kFsChown = 21,    // b1 path, a2 uid, a3 gid, a4 = 1 to follow a last symlink
    kFsUtimens = 22,  // b1 path, a2 = 1 when b3 holds struct timespec[2], a3 = 1 to follow
    kFsTruncate = 23, // b1 path, a2 length
    kFsAccess = 24,   // b1 path, a2 mode (R_OK…), a3 = 1 to follow a last symlink
    kFsMknod = 25,    // b1 path, a2 mode with the type (regular files and FIFOs only)
    kFsStatfs = 26,   // b1 path; b3 ← struct statfs
    kFsFstatfs = 27,  // a1 handle; b3 ← struct statfs
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

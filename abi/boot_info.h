// abi/boot_info.h: what the VMM hands the kernel at entry (physical address in %rdi).
// Included by the freestanding kernel and by the hosted loader: fixed-width types only.
#pragma once
#include <stdint.h>

namespace utx::abi {

inline constexpr uint64_t kBootInfoMagic = 0x5554'5842'4f4f'5431ULL;  // "UTXBOOT1"
inline constexpr uint32_t kBootInfoVersion = 4;

// Guest-physical layout fixed by the contract. Everything else is described by BootInfo.
inline constexpr uint64_t kBootInfoGpa = 0x1000;         // this struct, one page
inline constexpr uint64_t kHypercallPageGpa = 0x2000;    // per-vCPU mailboxes
inline constexpr uint64_t kHostEventsGpa = 0x3000;       // abi/host_events.h: HostEvents
inline constexpr uint64_t kHostSocketStateGpa = 0x4000;  // abi/host_events.h: 2 pages
inline constexpr uint64_t kApTrampolineGpa = 0x8000;     // QEMU backend: where other CPUs
                                                         // start (written by the kernel)
inline constexpr uint64_t kBootPageTablesGpa = 0x10000;  // VMM-built page tables
inline constexpr uint64_t kBootPageTablesSize = 0x70000; // up to 0x80000
inline constexpr uint64_t kPvmVifGpa = 0x80000;         // PVM: one page per vCPU (index
                                                         // order), up to 0xc0000
inline constexpr uint64_t kKernelLoadGpa = 0x100000;     // kernel image (1 MiB)

// The kernel runs from the direct map: guest-physical X is at kDirectMapBase + X. It is in
// PML4 slot 257, not 256: under PVM (kvm_pvm) guest code in slot 256 never runs (every
// fetch there faults), whatever its page tables say.
inline constexpr uint64_t kDirectMapBase = 0xffff'8080'0000'0000ULL;
inline constexpr uint64_t kKernelVirtBase = kDirectMapBase + kKernelLoadGpa;

// BootInfo.flags
inline constexpr uint64_t kBootFlagIsolate = 1u << 0;  // application in user mode, SMEP/SMAP
inline constexpr uint64_t kBootFlagQemu = 1u << 1;     // hypercalls complete asynchronously
inline constexpr uint64_t kBootFlagTrace = 1u << 2;    // strace-style trace to stderr
inline constexpr uint64_t kBootFlagPvm = 1u << 3;      // on PVM (kvm_pvm): see "Platforms"

// A region of guest-physical memory the kernel must not hand out.
struct MemRegion {
    uint64_t gpa;
    uint64_t size;
};

struct BootInfo {
    uint64_t magic;
    uint32_t version;
    uint32_t vcpu_count;
    uint64_t kernel_entry;     // virtual address; read by the QEMU boot ROM at offset 16
    uint64_t mem_size;         // bytes of guest RAM starting at gpa 0
    uint64_t flags;            // BootFlags
    uint64_t tsc_khz;          // TSC frequency measured or read by the VMM
    uint64_t kernel_end_gpa;   // first byte after the kernel image (incl. bss), page aligned

    // argv and envp: NUL-separated strings, argc strings then envc strings.
    MemRegion args;
    uint32_t argc;
    uint32_t envc;

    MemRegion root_image;      // cpio newc archive unpacked into the root file system
    uint8_t exec_path[256];    // absolute path of the program in that file system (NUL-terminated)
    uint8_t cwd[256];          // the program's working directory (NUL-terminated)
    uint8_t random[32];        // host entropy: AT_RANDOM and address-space randomization
    uint32_t uid, gid;         // the ids utx-run runs as: what getuid/getgid report
    // Host mounts (-v): 'r' (read-only) or 'w', then the guest path, NUL-terminated, in the
    // order of their indexes in kHcFs requests. Each path exists in the root image (a
    // directory, or a file for a mounted file).
    MemRegion mounts;
    uint32_t mount_count;
    uint32_t pad0;
    // The family region: the top of RAM, kept out of the frame allocator. Under our KVM VMM
    // it is MAP_SHARED on the host, so every VM forked from this one sees the same bytes at
    // the same address: state POSIX shares across fork (pipes) lives there (kernel/ipc/
    // family.h). The first process's kernel lays it out; a forked one finds it ready.
    MemRegion family;
    uint64_t reserved[11];
};

inline constexpr uint64_t kBootInfoKernelEntryOffset = 16;
static_assert(__builtin_offsetof(BootInfo, kernel_entry) == kBootInfoKernelEntryOffset);
static_assert(sizeof(BootInfo) <= 4096);

}  // namespace utx::abi

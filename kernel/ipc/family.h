// kernel/ipc/family.h: the family region, shared by every VM of one process tree.
//
// The VMM maps the top of guest RAM MAP_SHARED (abi/boot_info.h, BootInfo::family), so a VM
// forked from this one (fork via VM clone) sees the same bytes at the same address: the
// kernel is the same image in every VM, so pointers into the region and to kernel code
// mean the same thing everywhere. What POSIX shares across fork lives here: minifs, shared
// offsets, pipe buffers and their reader and writer counts (kernel/ipc/pipe.h), which
// AF_UNIX stream connections are made of too.
//
// Other VMs' kernels run at the same time on other host threads: everything in the region
// is changed under the family lock, a ticket lock in the region itself, taken after the
// kernel lock and held briefly (never across a wait). A thread of this VM that waits for
// something in the region registers the VM in the object's FamilyWaiters and sleeps on
// the VM's family queue; whoever changes the object takes its waiters and wakes them: its
// own VM directly, the others through the VMM (kProcWake), which raises their family_seq
// (abi/host_events.h). No VM polls another.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/sched/sched.h"

namespace utx::abi {
struct BootInfo;
}

namespace utx::kernel {

// The VMs waiting for one object: up to kSlots pids, then `overflow` (wake every VM).
struct FamilyWaiters {
    static constexpr int kSlots = 6;
    int32_t pid[kSlots];
    uint32_t overflow;
};

// At boot: the first process lays the region out; a VM started any other way finds it
// ready (forked VMs do not boot). Panics when the VMM gave none.
void family_init(const abi::BootInfo& info);

// The family lock; the VM that holds it may take it again (and gives it up as often).
void family_lock();
void family_unlock();
bool family_locked();  // by this VM
// The family lock for a scope.
struct FamilyGuard {
    FamilyGuard() { family_lock(); }
    ~FamilyGuard() { family_unlock(); }
    FamilyGuard(const FamilyGuard&) = delete;
    FamilyGuard& operator=(const FamilyGuard&) = delete;
};
// A wait gives the lock up whole and takes it back as deep (kernel/sched/sched.cpp).
uint32_t family_release_all();
void family_retake(uint32_t depth);

// Pages of the region, zeroed; null when it is full. Under the family lock.
void* family_alloc_pages(size_t pages);
void family_free_pages(void* p, size_t pages);
// The region's heap (any size, 16-byte aligned) and single pages, for minifs; null when
// the region is full. They take the family lock themselves.
void* family_alloc(size_t size);
void family_free(void* p);
void* family_alloc_page();
void family_free_page(void* p);
uint64_t family_size();  // bytes in the region
uint64_t family_bytes_in_use();  // its pages taken (header and bitmap included)
// A number unique in the tree (pipe inode numbers). Under the family lock.
uint64_t family_next_id();

// Under the family lock: this VM waits for the object (it goes on to family_wait()).
void family_register(FamilyWaiters& w);
// Under the family lock: the waiters to wake after a change; the object's list is
// emptied (a VM still waiting registers again).
FamilyWaiters family_take(FamilyWaiters& w);
// Without the family lock: wakes this VM's waiters and, in other VMs, those family_take()
// returned.
void family_wake(const FamilyWaiters& w);

// This VM's threads waiting for the region: as thread_wait (0, -EINTR, or -ETIMEDOUT at
// `deadline` if not 0), or whatever signals come.
int64_t family_wait(uint64_t deadline = 0);
void family_wait_uninterruptible();
// HostEvents::family_seq moved (kernel/platform/host_events.cpp): wakes them all.
void family_woken();

}  // namespace utx::kernel

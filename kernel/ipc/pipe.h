// kernel/ipc/pipe.h: an anonymous pipe: a 64 KiB ring with reader and writer counts, in the
// family region (kernel/ipc/family.h), so that the two ends work across fork: the count of
// each end is the number of open descriptions of it in every VM of the tree. Everything
// here is under the family lock.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/ipc/family.h"

namespace utx::kernel {

struct Pipe {
    static constexpr size_t kCapacity = 65536;
    static constexpr size_t kAtomic = 4096;  // PIPE_BUF: smaller writes are never split
    uint8_t* buffer;
    size_t head;  // next byte to read
    size_t count;
    uint32_t readers;
    uint32_t writers;
    uint64_t inode;
    uint32_t edge_seq;      // bumped by every read, write and close (edge-triggered epoll)
    FamilyWaiters waiters;  // VMs with threads waiting for data, room or a close

    // In the family region (null when it is full). Pipes and AF_UNIX streams use them.
    static Pipe* create();
    // Bytes moved; 0 means empty (read) or full (write).
    size_t read(uint8_t* dst, size_t len);
    size_t peek(uint8_t* dst, size_t len) const;  // as read, leaving the bytes in
    size_t write(const uint8_t* src, size_t len);
    size_t space() const { return kCapacity - count; }
    // Descriptions of an end, one more or one fewer (fork copies them).
    void count_end(bool write_end, int delta) { (write_end ? writers : readers) += delta; }
    // Drops one end and wakes the waiters; frees the pipe when no end is left.
    static void release(Pipe* pipe, bool write_end);
};

// A shared pipe's state is read and changed under the family lock, which a wait gives up
// (kernel/ipc/family.h). Under the lock: after a change, wakes the waiters of every VM
// (the lock is let go meanwhile).
void pipe_changed(Pipe& p);
// Under the lock: gives it up while this thread waits for the pipe to change → 0, -EINTR,
// or -ETIMEDOUT at `deadline` (0: none).
int64_t pipe_wait(Pipe& p, uint64_t deadline = 0);

}  // namespace utx::kernel

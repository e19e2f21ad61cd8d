// kernel/ipc/pipe.h: an anonymous pipe inside the guest: a 64 KiB ring with reader and
// writer counts.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/sched/sched.h"

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
    uint32_t edge_seq;     // bumped by every read, write and close (edge-triggered epoll)
    WaitQueue read_wait;   // readers waiting for data or the last writer's close
    WaitQueue write_wait;  // writers waiting for room or the last reader's close

    static Pipe* create();
    // Bytes moved; 0 means empty (read) or full (write).
    size_t read(uint8_t* dst, size_t len);
    size_t peek(uint8_t* dst, size_t len) const;  // as read, leaving the bytes in
    size_t write(const uint8_t* src, size_t len);
    size_t space() const { return kCapacity - count; }
    // Drops one end; frees the pipe when no end is left.
    static void release(Pipe* pipe, bool write_end);
};

}  // namespace utx::kernel

#include "kernel/ipc/pipe.h"

#include "kernel/ipc/waitfd.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"

namespace utx::kernel {

Pipe* Pipe::create() {
    static uint64_t next_inode = 1000;
    auto* p = static_cast<Pipe*>(kzalloc(sizeof(Pipe)));
    if (!p) return nullptr;
    p->buffer = static_cast<uint8_t*>(kmalloc(kCapacity));
    if (!p->buffer) {
        kfree(p);
        return nullptr;
    }
    p->readers = p->writers = 1;
    p->inode = next_inode++;
    return p;
}

size_t Pipe::read(uint8_t* dst, size_t len) {
    size_t n = len < count ? len : count;
    for (size_t done = 0; done < n;) {
        size_t chunk = kCapacity - head;
        if (chunk > n - done) chunk = n - done;
        memcpy(dst + done, buffer + head, chunk);
        head = (head + chunk) % kCapacity;
        done += chunk;
    }
    count -= n;
    return n;
}

size_t Pipe::peek(uint8_t* dst, size_t len) const {
    size_t n = len < count ? len : count;
    for (size_t done = 0, at = head; done < n;) {
        size_t chunk = kCapacity - at;
        if (chunk > n - done) chunk = n - done;
        memcpy(dst + done, buffer + at, chunk);
        at = (at + chunk) % kCapacity;
        done += chunk;
    }
    return n;
}

size_t Pipe::write(const uint8_t* src, size_t len) {
    size_t n = len < space() ? len : space();
    for (size_t done = 0; done < n;) {
        size_t tail = (head + count) % kCapacity;
        size_t chunk = kCapacity - tail;
        if (chunk > n - done) chunk = n - done;
        memcpy(buffer + tail, src + done, chunk);
        count += chunk;
        done += chunk;
    }
    return n;
}

void Pipe::release(Pipe* pipe, bool write_end) {
    (write_end ? pipe->writers : pipe->readers) -= 1;
    ++pipe->edge_seq;
    // The other side learns of it: end of file for readers, EPIPE for writers.
    wake_up(write_end ? pipe->read_wait : pipe->write_wait, 1 << 30);
    poll_notify();
    if (pipe->readers == 0 && pipe->writers == 0) {
        kfree(pipe->buffer);
        kfree(pipe);
    }
}

}  // namespace utx::kernel

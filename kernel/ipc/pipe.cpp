#include "kernel/ipc/pipe.h"

#include "kernel/ipc/waitfd.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"

namespace utx::kernel {

namespace {
// The pipe's own page, then the ring.
constexpr size_t kPipePages = 1 + Pipe::kCapacity / kPageSize;
static_assert(sizeof(Pipe) <= kPageSize);
}  // namespace

Pipe* Pipe::create() {
    family_lock();
    auto* p = static_cast<Pipe*>(family_alloc_pages(kPipePages));
    if (p) {
        p->buffer = reinterpret_cast<uint8_t*>(p) + kPageSize;
        p->readers = p->writers = 1;
        p->inode = 1000 + family_next_id();
    }
    family_unlock();
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

void pipe_changed(Pipe& p) {
    ++p.edge_seq;
    const FamilyWaiters waiters = family_take(p.waiters);
    family_unlock();
    family_wake(waiters);
    family_lock();
}

int64_t pipe_wait(Pipe& p, uint64_t deadline) {
    family_register(p.waiters);
    family_unlock();
    const int64_t r = family_wait(deadline);
    family_lock();
    return r;
}

void Pipe::release(Pipe* pipe, bool write_end) {
    family_lock();
    pipe->count_end(write_end, -1);
    ++pipe->edge_seq;
    // The other side learns of it: end of file for readers, EPIPE for writers.
    const FamilyWaiters waiters = family_take(pipe->waiters);
    if (pipe->readers == 0 && pipe->writers == 0) family_free_pages(pipe, kPipePages);
    family_unlock();
    family_wake(waiters);
}

}  // namespace utx::kernel

#include "kernel/ipc/epoll.h"

#include "kernel/fs/file.h"
#include "kernel/ipc/waitfd.h"
#include "kernel/mm/memory.h"

namespace utx::kernel {

namespace {

constexpr int kMaxNests = 4;  // EPOLL_MAX_NESTS
Epoll* g_epolls;

// What the entry would report now (before the edge-triggered filter is applied).
uint32_t entry_ready(EpollEntry& e) {
    if (e.disabled) return 0;
    const int64_t r = file_poll(*e.file, int16_t(e.events & 0xffff), 0);
    if (r < 0) return 0;
    uint32_t ready = uint32_t(uint16_t(r)) & (e.events | kEpollErr | kEpollHup);
    if (e.events & kEpollEt) {
        // New data, room or a close since the last report: an edge, as Linux's wake-up
        // callback makes one, even where the bits never went away.
        const uint32_t seq = file_edge_seq(*e.file);
        if (seq != e.seen_seq) {
            e.seen_seq = seq;
            e.reported = 0;
        }
        e.reported &= ready;  // bits that went away may be reported again when they return
        ready &= ~e.reported;
    }
    return ready;
}

void unlink(Epoll& ep, EpollEntry* e, EpollEntry* prev) {
    (prev ? prev->next : ep.head) = e->next;
    if (ep.tail == e) ep.tail = prev;
    e->next = nullptr;
}

void append(Epoll& ep, EpollEntry* e) {
    e->next = nullptr;
    (ep.tail ? ep.tail->next : ep.head) = e;
    ep.tail = e;
}

}  // namespace

Epoll* epoll_create() {
    auto* ep = static_cast<Epoll*>(kzalloc(sizeof(Epoll)));
    if (!ep) return nullptr;
    ep->all_next = g_epolls;
    if (g_epolls) g_epolls->all_prev = ep;
    g_epolls = ep;
    return ep;
}

void epoll_free(Epoll* ep) {
    while (ep->head) epoll_remove(*ep, ep->head);
    (ep->all_prev ? ep->all_prev->all_next : g_epolls) = ep->all_next;
    if (ep->all_next) ep->all_next->all_prev = ep->all_prev;
    kfree(ep);
}

EpollEntry* epoll_find(Epoll& ep, const OpenFile* file, int fd) {
    for (EpollEntry* e = ep.head; e; e = e->next)
        if (e->file == file && e->fd == fd) return e;
    return nullptr;
}

EpollEntry* epoll_add(Epoll& ep, OpenFile* file, int fd, uint32_t events, uint64_t data) {
    auto* e = static_cast<EpollEntry*>(kzalloc(sizeof(EpollEntry)));
    if (!e) return nullptr;
    e->file = file;
    e->fd = fd;
    e->events = events;
    e->data = data;
    e->seen_seq = file_edge_seq(*file);
    append(ep, e);
    poll_notify();  // waiters on the instance rescan with the new entry
    return e;
}

void epoll_remove(Epoll& ep, EpollEntry* e) {
    EpollEntry* prev = nullptr;
    for (EpollEntry* i = ep.head; i != e; i = i->next) prev = i;
    unlink(ep, e, prev);
    kfree(e);
}

bool epoll_reaches(const Epoll& ep, const Epoll& target, int depth) {
    if (&ep == &target || depth >= kMaxNests) return true;
    for (const EpollEntry* e = ep.head; e; e = e->next)
        if (e->file->kind == FileKind::Epoll && epoll_reaches(*e->file->epoll, target, depth + 1))
            return true;
    return false;
}

void epoll_forget(const OpenFile* file) {
    for (Epoll* ep = g_epolls; ep; ep = ep->all_next) {
        EpollEntry* prev = nullptr;
        for (EpollEntry* e = ep->head; e;) {
            EpollEntry* next = e->next;
            if (e->file == file) {
                unlink(*ep, e, prev);
                kfree(e);
            } else {
                prev = e;
            }
            e = next;
        }
    }
}

int epoll_collect(Epoll& ep, EpollEvent* out, int max) {
    int n = 0;
    EpollEntry* again = nullptr;  // level-triggered entries reported, in order
    EpollEntry* again_tail = nullptr;
    EpollEntry* prev = nullptr;
    for (EpollEntry* e = ep.head; e && n < max;) {
        EpollEntry* next = e->next;
        const uint32_t ready = entry_ready(*e);
        if (!ready) {
            prev = e;
            e = next;
            continue;
        }
        out[n++] = EpollEvent{ready, e->data};
        if (e->events & kEpollEt) e->reported |= ready;
        if (e->events & kEpollOneshot) e->disabled = true;
        if (e->events & (kEpollEt | kEpollOneshot)) {
            prev = e;
        } else {
            unlink(ep, e, prev);
            (again_tail ? again_tail->next : again) = e;
            again_tail = e;
        }
        e = next;
    }
    while (again) {
        EpollEntry* next = again->next;
        append(ep, again);
        again = next;
    }
    return n;
}

int16_t epoll_poll(Epoll& ep) {
    for (EpollEntry* e = ep.head; e; e = e->next)
        if (entry_ready(*e)) return int16_t(kEpollIn);
    return 0;
}

uint64_t epoll_wake_hint(Epoll& ep) {
    uint64_t hint = UINT64_MAX;
    for (EpollEntry* e = ep.head; e; e = e->next) {
        if (e->disabled) continue;
        const uint64_t h = file_wake_hint(*e->file);
        if (h < hint) hint = h;
    }
    return hint;
}

}  // namespace utx::kernel

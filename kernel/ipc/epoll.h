// kernel/ipc/epoll.h: epoll instances: interest lists of (file, descriptor) pairs whose
// readiness is looked up with file_poll when asked, level-triggered, edge-triggered or
// one-shot.
#pragma once
#include <stdint.h>

namespace utx::kernel {

struct OpenFile;

inline constexpr uint32_t kEpollIn = 0x001, kEpollPri = 0x002, kEpollOut = 0x004,
                          kEpollErr = 0x008, kEpollHup = 0x010, kEpollRdhup = 0x2000,
                          kEpollExclusive = 1u << 28, kEpollWakeup = 1u << 29,
                          kEpollOneshot = 1u << 30, kEpollEt = 1u << 31;

struct EpollEntry {
    EpollEntry* next;
    OpenFile* file;    // not referenced: the entry goes when the file's last reference does
    int fd;
    uint32_t events;
    uint64_t data;
    uint32_t reported;  // EPOLLET: the bits reported since they last went away or the file
                        // had new readiness (file_edge_seq moved on from seen_seq)
    uint32_t seen_seq;
    bool disabled;      // EPOLLONESHOT after its report, until EPOLL_CTL_MOD
};

struct Epoll {
    EpollEntry* head;
    EpollEntry* tail;
    Epoll* all_next;  // every instance, for epoll_forget
    Epoll* all_prev;
};

Epoll* epoll_create();
void epoll_free(Epoll* ep);
EpollEntry* epoll_find(Epoll& ep, const OpenFile* file, int fd);
// EPOLL_CTL_ADD (null when memory is short), EPOLL_CTL_DEL.
EpollEntry* epoll_add(Epoll& ep, OpenFile* file, int fd, uint32_t events, uint64_t data);
void epoll_remove(Epoll& ep, EpollEntry* e);
// Whether `ep` is `target` or watches it through nested instances, or nests deeper than
// Linux allows (EPOLL_CTL_ADD's ELOOP).
bool epoll_reaches(const Epoll& ep, const Epoll& target, int depth = 0);
// The file's last reference went: every interest in it goes too.
void epoll_forget(const OpenFile* file);

struct EpollEvent {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));
static_assert(sizeof(EpollEvent) == 12);

// Up to `max` ready entries into `out`, consuming edge-triggered and one-shot reports;
// reported level-triggered entries move to the back so that the others get their turn.
int epoll_collect(Epoll& ep, EpollEvent* out, int max);
// poll(2) of the instance itself: readable when an entry would be reported.
int16_t epoll_poll(Epoll& ep);
uint64_t epoll_wake_hint(Epoll& ep);

}  // namespace utx::kernel

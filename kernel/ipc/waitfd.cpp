#include "kernel/ipc/waitfd.h"

#include "kernel/fs/file.h"
#include "kernel/ipc/epoll.h"
#include "kernel/lib/errno.h"
#include "kernel/mm/memory.h"
#include "kernel/time.h"

namespace utx::kernel {

namespace {
constexpr int kAll = 1 << 30;
constexpr int16_t kPollIn = 1, kPollOut = 4;
WaitQueue g_poll_queue;
}  // namespace

void poll_notify() { wake_up(g_poll_queue, kAll); }

int64_t poll_wait(uint64_t deadline_ns) { return thread_wait(g_poll_queue, deadline_ns); }

uint64_t file_wake_hint(OpenFile& f) {
    switch (f.kind) {
        case FileKind::HostStream: return monotonic_ns() + kHostPollIntervalNs;
        case FileKind::TimerFd: return timerfd_next_monotonic(*f.timer);
        case FileKind::Epoll: return epoll_wake_hint(*f.epoll);
        default: return UINT64_MAX;
    }
}

EventFd* eventfd_create(uint64_t initial, bool semaphore) {
    auto* e = static_cast<EventFd*>(kzalloc(sizeof(EventFd)));
    if (!e) return nullptr;
    e->count = initial;
    e->semaphore = semaphore;
    return e;
}

void eventfd_free(EventFd* e) { kfree(e); }

int64_t eventfd_read(EventFd& e, uint64_t& value, bool nonblock) {
    while (e.count == 0) {
        if (nonblock) return -EAGAIN;
        if (thread_wait(e.wait, 0) == -EINTR) return -ERESTARTSYS;
    }
    value = e.semaphore ? 1 : e.count;
    e.count -= value;
    ++e.edge_seq;
    wake_up(e.wait, kAll);
    poll_notify();
    return 8;
}

int64_t eventfd_write(EventFd& e, uint64_t value, bool nonblock) {
    if (value == UINT64_MAX) return -EINVAL;
    while (EventFd::kMax - e.count < value) {
        if (nonblock) return -EAGAIN;
        if (thread_wait(e.wait, 0) == -EINTR) return -ERESTARTSYS;
    }
    e.count += value;
    ++e.edge_seq;
    if (value) {
        wake_up(e.wait, kAll);
        poll_notify();
    }
    return 8;
}

int16_t eventfd_poll(const EventFd& e) {
    int16_t r = 0;
    if (e.count) r |= kPollIn;
    if (e.count < EventFd::kMax) r |= kPollOut;
    return r;
}

uint64_t timer_clock_now(uint32_t clock) {
    return clock == kClockRealtime ? realtime_ns() : monotonic_ns();
}

TimerFd* timerfd_create(uint32_t clock) {
    auto* t = static_cast<TimerFd*>(kzalloc(sizeof(TimerFd)));
    if (t) t->clock = clock;
    return t;
}

void timerfd_free(TimerFd* t) { kfree(t); }

void timerfd_update(TimerFd& t) {
    if (!t.next) return;
    const uint64_t now = timer_clock_now(t.clock);
    if (now < t.next) return;
    if (!t.interval) {
        t.ticks += 1;
        t.next = 0;
        return;
    }
    const uint64_t n = 1 + (now - t.next) / t.interval;
    t.ticks += n;
    t.next += n * t.interval;
}

void timerfd_arm(TimerFd& t, uint64_t value, uint64_t interval) {
    t.next = value;
    t.interval = value ? interval : 0;
    t.ticks = 0;
    // Blocked readers and pollers wait with the old expiry as their deadline.
    wake_up(t.wait, kAll);
    poll_notify();
}

int64_t timerfd_read(TimerFd& t, uint64_t& ticks, bool nonblock) {
    for (;;) {
        timerfd_update(t);
        if (t.ticks) break;
        if (nonblock) return -EAGAIN;
        // A disarmed timer waits for timerfd_settime; an armed one until it expires.
        const uint64_t deadline = timerfd_next_monotonic(t);
        if (thread_wait(t.wait, deadline == UINT64_MAX ? 0 : deadline) == -EINTR)
            return -ERESTARTSYS;
    }
    ticks = t.ticks;
    t.ticks = 0;
    return 8;
}

int16_t timerfd_poll(TimerFd& t) {
    timerfd_update(t);
    return t.ticks ? kPollIn : 0;
}

uint64_t timerfd_next_monotonic(const TimerFd& t) {
    if (!t.next) return UINT64_MAX;
    const uint64_t now = timer_clock_now(t.clock), mono = monotonic_ns();
    return t.next <= now ? mono : mono + (t.next - now);
}

}  // namespace utx::kernel

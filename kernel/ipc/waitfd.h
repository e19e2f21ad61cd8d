// kernel/ipc/waitfd.h: what poll, select and epoll wait on inside the guest, and the two
// files that exist only to be waited on: eventfd counters and timerfd timers.
//
// Every pollable state change in the guest (pipe data, room or close, an eventfd's counter)
// wakes the one poll queue; pollers rescan their descriptors after each wakeup. Timers need
// no wakeup: their expirations are counted from the clock when someone looks, and pollers
// wait no longer than the earliest expiry among their descriptors.
#pragma once
#include <stdint.h>

#include "kernel/sched/sched.h"

namespace utx::kernel {

struct OpenFile;

// Wakes every thread in poll, select or epoll_wait to rescan.
void poll_notify();
// Waits for poll_notify until `deadline_ns` (monotonic, 0: none): as thread_wait.
int64_t poll_wait(uint64_t deadline_ns);

// How often pollers ask the VMM about the host's streams, which cannot notify the guest.
inline constexpr uint64_t kHostPollIntervalNs = 10'000'000;
// The latest monotonic time at which `f` may turn ready without a poll_notify (a timer
// expiring, a host stream), or UINT64_MAX when only a notify can change it.
uint64_t file_wake_hint(OpenFile& f);

struct EventFd {
    static constexpr uint64_t kMax = 0xfffffffffffffffe;
    uint64_t count;
    bool semaphore;
    uint32_t edge_seq;  // bumped by every read and write (edge-triggered epoll)
    WaitQueue wait;  // readers waiting for a count, writers for room
};

EventFd* eventfd_create(uint64_t initial, bool semaphore);
void eventfd_free(EventFd* e);
// read(2) and write(2) of the 8-byte value; `nonblock`: EAGAIN instead of waiting.
int64_t eventfd_read(EventFd& e, uint64_t& value, bool nonblock);
int64_t eventfd_write(EventFd& e, uint64_t value, bool nonblock);
int16_t eventfd_poll(const EventFd& e);

// Clocks of timerfd_create.
inline constexpr uint32_t kClockRealtime = 0, kClockMonotonic = 1, kClockBoottime = 7;

struct TimerFd {
    uint32_t clock;
    uint64_t next;      // the next expiry on `clock` (ns), 0 while disarmed
    uint64_t interval;  // ns between expiries, 0 for a one-shot timer
    uint64_t ticks;     // expirations not read yet
    WaitQueue wait;
};

uint64_t timer_clock_now(uint32_t clock);
TimerFd* timerfd_create(uint32_t clock);
void timerfd_free(TimerFd* t);
// Counts the expirations up to now into `ticks` (and moves `next` on).
void timerfd_update(TimerFd& t);
// Arms at absolute `value` on the timer's clock (0 disarms); the unread count is dropped.
void timerfd_arm(TimerFd& t, uint64_t value, uint64_t interval);
int64_t timerfd_read(TimerFd& t, uint64_t& ticks, bool nonblock);
int16_t timerfd_poll(TimerFd& t);
// The monotonic time of the next expiry, UINT64_MAX when disarmed.
uint64_t timerfd_next_monotonic(const TimerFd& t);

}  // namespace utx::kernel

#include "loader/family.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <new>

namespace utx::loader {

Family* Family::create(uint32_t max_pids) {
    void* p = mmap(nullptr, sizeof(Family), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) return nullptr;
    auto* f = new (p) Family();
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&f->lock_, &attr);
    pthread_mutexattr_destroy(&attr);
    f->max_pids_ = max_pids < kMaxFamily ? max_pids : kMaxFamily;
    f->next_pid_ = 2;
    for (Entry& e : f->entries_) e.pid = 0;
    Entry& first = f->entries_[0];
    first.pid = 1;
    first.parent = 0;
    // Its group and session are led from outside the tree (the shell that started utx-run),
    // which a pid namespace shows as 0.
    first.pgid = 0;
    first.sid = 0;
    first.host = getpid();
    first.zombie = false;
    first.told = false;
    first.signals = 0;
    return f;
}

void Family::lock() {
    // A holder that died left the table as it was between two stores of one update: every
    // update here leaves it usable at any point.
    if (pthread_mutex_lock(&lock_) == EOWNERDEAD) pthread_mutex_consistent(&lock_);
}
void Family::unlock() { pthread_mutex_unlock(&lock_); }

Family::Entry* Family::find(int32_t pid) {
    if (pid <= 0) return nullptr;
    for (Entry& e : entries_)
        if (e.pid == pid) return &e;
    return nullptr;
}

int32_t Family::add(int32_t parent) {
    lock();
    uint32_t used = 0;
    Entry* slot = nullptr;
    for (Entry& e : entries_) {
        if (e.pid) ++used;
        else if (!slot) slot = &e;
    }
    const Entry* p = find(parent);
    if (used >= max_pids_ || !slot || !p) {
        unlock();
        return -EAGAIN;
    }
    // Pids grow as on Linux and wrap below pid_max, skipping those in use.
    int32_t pid = next_pid_;
    while (find(pid)) pid = pid >= 4'194'303 ? 2 : pid + 1;
    next_pid_ = pid >= 4'194'303 ? 2 : pid + 1;
    slot->pid = pid;
    slot->parent = parent;
    slot->pgid = p->pgid;
    slot->sid = p->sid;
    slot->host = 0;
    slot->zombie = false;
    slot->told = false;
    slot->wait_status = 0;
    slot->signals = 0;
    slot->woken = false;
    slot->job = Entry::kNoJobNews;
    slot->job_told = false;
    slot->stop_sig = 0;
    slot->vfork_released = false;
    slot->usage = {};
    slot->children_usage = {};
    unlock();
    return pid;
}

void Family::set_host_pid(int32_t pid, pid_t host) {
    lock();
    if (Entry* e = find(pid)) e->host = host;
    unlock();
}

void Family::remove(int32_t pid) {
    lock();
    if (Entry* e = find(pid)) e->pid = 0;
    unlock();
}

Usage usage_from(const rusage& r) {
    return {uint64_t(r.ru_utime.tv_sec) * 1'000'000 + uint64_t(r.ru_utime.tv_usec),
            uint64_t(r.ru_stime.tv_sec) * 1'000'000 + uint64_t(r.ru_stime.tv_usec)};
}

Usage usage_of(int who) {
    rusage r = {};
    getrusage(who, &r);
    return usage_from(r);
}

pid_t Family::exited(int32_t pid, int wait_status, const Usage& usage) {
    lock();
    pid_t parent_host = 0;
    if (Entry* e = find(pid); e && !e->zombie) {
        e->zombie = true;
        e->wait_status = wait_status;
        e->usage = usage;
        for (Entry& child : entries_)
            if (child.pid && child.parent == pid) child.parent = 1;
        if (const Entry* parent = find(e->parent)) parent_host = parent->host;
    }
    unlock();
    return parent_host;
}

void Family::host_exited(pid_t host, int wait_status, const Usage& usage) {
    int32_t pid = 0;
    lock();
    for (Entry& e : entries_)
        if (e.pid && e.host == host) {
            if (!e.zombie) pid = e.pid;
            e.host = 0;
        }
    unlock();
    if (pid) exited(pid, wait_status, usage);
}

int Family::wait(int32_t caller, int64_t selector, int options, bool keep, int32_t& pid,
                 int& status, bool& news, Usage& usage) {
    usage = {};
    lock();
    Entry* self = find(caller);
    const int32_t own_group = self ? self->pgid : 0;
    bool any = false;
    for (Entry& e : entries_) {
        if (!e.pid || e.parent != caller) continue;
        const bool match = selector > 0    ? e.pid == selector
                           : selector == -1 ? true
                           : selector == 0  ? e.pgid == own_group
                                            : e.pgid == -selector;
        if (!match) continue;
        any = true;
        if (e.zombie && (options & WEXITED)) {
            pid = e.pid;
            status = e.wait_status;
            news = !e.told;
            e.told = true;
            usage = e.usage;
            if (!keep) {
                e.pid = 0;
                if (self) {  // Linux counts a reaped child's time with its own children's
                    self->children_usage.user_us += e.usage.user_us + e.children_usage.user_us;
                    self->children_usage.system_us += e.usage.system_us + e.children_usage.system_us;
                }
            }
            unlock();
            return 0;
        }
        const bool stopped = e.job == Entry::kStopped && (options & WUNTRACED);
        const bool continued = e.job == Entry::kContinued && (options & WCONTINUED);
        if (e.zombie || (!stopped && !continued)) continue;
        pid = e.pid;
        status = stopped ? 0x7f | e.stop_sig << 8 : 0xffff;
        news = !e.job_told;
        e.job_told = true;
        if (!keep) e.job = Entry::kNoJobNews;
        unlock();
        return 0;
    }
    unlock();
    return any ? 1 : -ECHILD;
}

pid_t Family::job_changed(int32_t pid, int sig) {
    lock();
    pid_t parent_host = 0;
    if (Entry* e = find(pid); e && !e->zombie) {
        e->job = sig ? Entry::kStopped : Entry::kContinued;
        e->stop_sig = sig;
        e->job_told = false;
        if (const Entry* parent = find(e->parent)) parent_host = parent->host;
    }
    unlock();
    return parent_host;
}

int Family::kill(int32_t caller, int64_t selector, int sig, int doorbell, bool& self) {
    self = false;
    pid_t hosts[kMaxFamily];
    int n = 0;
    lock();
    const Entry* me = find(caller);
    const int32_t own_group = me ? me->pgid : 0;
    bool found = false;
    for (Entry& e : entries_) {
        if (!e.pid) continue;
        const bool match = selector > 0    ? e.pid == selector
                           : selector == -1 ? e.pid > 1 && e.pid != caller
                           : selector == 0  ? e.pgid == own_group
                                            : e.pgid == -selector;
        if (!match) continue;
        found = true;
        if (e.zombie) continue;  // found, as on Linux, but nothing to do
        if (e.pid == caller) {
            self = true;
            continue;
        }
        if (sig == 0) continue;
        e.signals.fetch_or(1ULL << (sig - 1));
        if (e.host > 0) hosts[n++] = e.host;
    }
    unlock();
    for (int i = 0; i < n; ++i) ::kill(hosts[i], doorbell);
    return found ? 0 : -ESRCH;
}

int Family::take_child_events(int32_t parent, int& code) {
    int n = 0;
    code = CLD_EXITED;
    lock();
    for (Entry& e : entries_) {
        if (!e.pid || e.parent != parent) continue;
        if (e.zombie && !e.told) {
            e.told = true;
            code = CLD_EXITED;
            ++n;
        } else if (!e.zombie && e.job != Entry::kNoJobNews && !e.job_told) {
            e.job_told = true;
            code = e.job == Entry::kStopped ? CLD_STOPPED : CLD_CONTINUED;
            ++n;
        }
    }
    unlock();
    return n;
}

uint64_t Family::take_signals(int32_t pid) {
    lock();
    Entry* e = find(pid);
    const uint64_t bits = e ? e->signals.exchange(0) : 0;
    unlock();
    return bits;
}

void Family::wake(int32_t caller, const int32_t* pids, int n, int doorbell) {
    pid_t hosts[kMaxFamily];
    int count = 0;
    lock();
    for (Entry& e : entries_) {
        if (!e.pid || e.zombie || e.pid == caller || e.host <= 0) continue;
        bool match = n < 0;
        for (int i = 0; i < n && !match; ++i) match = pids[i] == e.pid;
        if (!match) continue;
        e.woken.store(true);
        hosts[count++] = e.host;
    }
    unlock();
    for (int i = 0; i < count; ++i) ::kill(hosts[i], doorbell);
}

bool Family::take_wake(int32_t pid) {
    lock();
    Entry* e = find(pid);
    const bool woken = e && e->woken.exchange(false);
    unlock();
    return woken;
}

int32_t Family::field_of(int32_t pid, int32_t Entry::*field, int32_t missing) {
    lock();
    const Entry* e = find(pid);
    const int32_t r = e ? e->*field : missing;
    unlock();
    return r;
}

int32_t Family::parent_of(int32_t pid) { return field_of(pid, &Entry::parent, 0); }

int Family::set_pgid(int32_t caller, int32_t pid, int32_t pgid) {
    if (pgid < 0) return -EINVAL;
    if (pid == 0) pid = caller;
    if (pgid == 0) pgid = pid;
    lock();
    int r = 0;
    const Entry* me = find(caller);
    Entry* target = find(pid);
    if (!me || !target || target->zombie || (pid != caller && target->parent != caller)) {
        r = -ESRCH;
    } else if (target->sid != me->sid || target->sid == target->pid) {
        r = -EPERM;  // another session, or a session leader
    } else if (pgid != pid) {
        // Joining a group: it must exist in the same session.
        bool exists = false;
        for (const Entry& e : entries_)
            if (e.pid && !e.zombie && e.pgid == pgid && e.sid == me->sid) exists = true;
        if (!exists) r = -EPERM;
    }
    if (r == 0) target->pgid = pgid;
    unlock();
    return r;
}

int32_t Family::pgid_of(int32_t caller, int32_t pid) {
    return field_of(pid ? pid : caller, &Entry::pgid, -ESRCH);
}

int32_t Family::set_sid(int32_t caller) {
    lock();
    int32_t r = -ESRCH;
    if (Entry* me = find(caller)) {
        // A group leader cannot: its group would span two sessions.
        bool leads = false;
        for (const Entry& e : entries_)
            if (e.pid && e.pgid == caller) leads = true;
        if (leads) {
            r = -EPERM;
        } else {
            me->sid = me->pgid = caller;
            r = caller;
        }
    }
    unlock();
    return r;
}

int32_t Family::vfork_release(int32_t pid) {
    lock();
    Entry* e = find(pid);
    int32_t parent = 0;
    if (e) {
        e->vfork_released = true;
        parent = e->parent;
    }
    unlock();
    return parent;
}

bool Family::vfork_released(int32_t parent, int32_t child) {
    lock();
    const Entry* e = find(child);
    const bool released = !e || e->parent != parent || e->zombie || e->vfork_released;
    unlock();
    return released;
}

Usage Family::children_usage(int32_t pid) {
    lock();
    const Entry* e = find(pid);
    const Usage u = e ? e->children_usage : Usage{};
    unlock();
    return u;
}

int Family::set_foreground(int32_t caller, int32_t pgid) {
    lock();
    const Entry* me = find(caller);
    bool exists = false, ours = pgid == 0 && me && me->sid == 0;
    for (const Entry& e : entries_) {
        if (!e.pid || e.zombie || e.pgid != pgid) continue;
        exists = true;
        ours |= me && e.sid == me->sid;
    }
    if (ours) foreground_ = pgid;
    unlock();
    return ours ? 0 : exists ? -EPERM : -ESRCH;
}

int32_t Family::sid_of(int32_t caller, int32_t pid) {
    return field_of(pid ? pid : caller, &Entry::sid, -ESRCH);
}

int Family::running_hosts(int32_t except, pid_t* out, int max) {
    int n = 0;
    lock();
    for (const Entry& e : entries_)
        if (e.pid && e.pid != except && e.host > 0 && n < max) out[n++] = e.host;
    unlock();
    return n;
}

}  // namespace utx::loader

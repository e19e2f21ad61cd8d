#include "kernel/fs/lock.h"

#include "kernel/fs/file.h"
#include "kernel/lib/errno.h"
#include "kernel/mm/memory.h"
#include "kernel/process.h"

namespace utx::kernel {
namespace {

enum class LockKind : uint8_t { Flock, Posix, Ofd };

struct Lock {
    Lock* next;
    const void* file;   // what file_key() gives for the locked file
    const void* owner;  // the OpenFile (flock, OFD), or the process (POSIX)
    LockKind kind;
    int16_t type;
    int64_t start, end;  // inclusive; flock locks cover everything
};

Lock* g_locks;  // few enough that a list does

// What identifies the file: the inode, the pipe (both ends are one file on Linux), or, for
// a host stream, the description itself.
const void* file_key(const OpenFile& f) {
    if (f.inode) return f.inode;
    if (f.pipe) return f.pipe;
    return &f;
}

const void* owner_of(OpenFile& f, bool ofd) {
    return ofd ? static_cast<const void*>(&f) : &current_process();
}

bool conflicting(int16_t a, int16_t b) { return a == kLockWrite || b == kLockWrite; }

bool overlaps(const Lock& l, int64_t start, int64_t end) {
    return l.start <= end && start <= l.end;
}

// Overlapping or adjacent: same-type locks of one owner that touch are merged.
bool touches(const Lock& l, int64_t start, int64_t end) {
    return (end == kLockOffsetMax || l.start <= end + 1) && (start == 0 || l.end >= start - 1);
}

bool is_record(const Lock& l) { return l.kind != LockKind::Flock; }

void unlink_and_free(Lock** link) {
    Lock* l = *link;
    *link = l->next;
    kfree(l);
}

// Removes the locks `pred` picks.
template <typename Pred>
void remove_if(Pred pred) {
    for (Lock** link = &g_locks; *link;) {
        if (pred(**link)) unlink_and_free(link);
        else link = &(*link)->next;
    }
}

Lock* new_lock(const void* file, const void* owner, LockKind kind, int16_t type, int64_t start,
               int64_t end) {
    auto* l = static_cast<Lock*>(kmalloc(sizeof(Lock)));
    if (!l) return nullptr;
    *l = Lock{g_locks, file, owner, kind, type, start, end};
    g_locks = l;
    return l;
}

}  // namespace

int64_t lock_flock(OpenFile& f, int16_t type, bool wait) {
    const void* key = file_key(f);
    // Linux drops the description's old lock first, even when the new one then fails: a
    // conversion is not atomic.
    for (Lock** link = &g_locks; *link; link = &(*link)->next) {
        Lock& l = **link;
        if (l.kind != LockKind::Flock || l.owner != &f) continue;
        if (l.type == type) return 0;
        unlink_and_free(link);
        break;
    }
    if (type == kLockUnlock) return 0;
    for (Lock* l = g_locks; l; l = l->next)
        if (l->kind == LockKind::Flock && l->file == key && conflicting(type, l->type))
            return wait ? -EDEADLK : -EAGAIN;
    return new_lock(key, &f, LockKind::Flock, type, 0, kLockOffsetMax) ? 0 : -ENOMEM;
}

void lock_test(OpenFile& f, bool ofd, RecordLock& want, bool& holder_is_ofd) {
    const void* key = file_key(f);
    const void* owner = owner_of(f, ofd);
    // The list holds the newest first: report the oldest conflicting lock.
    const Lock* found = nullptr;
    for (const Lock* l = g_locks; l; l = l->next)
        if (is_record(*l) && l->file == key && l->owner != owner &&
            overlaps(*l, want.start, want.end) && conflicting(want.type, l->type))
            found = l;
    if (!found) {
        want.type = kLockUnlock;
        return;
    }
    want = RecordLock{found->type, found->start, found->end};
    holder_is_ofd = found->kind == LockKind::Ofd;
}

int64_t lock_set(OpenFile& f, bool ofd, const RecordLock& want, bool wait) {
    const void* key = file_key(f);
    const void* owner = owner_of(f, ofd);
    const LockKind kind = ofd ? LockKind::Ofd : LockKind::Posix;
    if (want.type != kLockUnlock)
        for (const Lock* l = g_locks; l; l = l->next)
            if (is_record(*l) && l->file == key && l->owner != owner &&
                overlaps(*l, want.start, want.end) && conflicting(want.type, l->type))
                return wait ? -EDEADLK : -EAGAIN;
    // Memory first, so that nothing changes when it is short: the new lock, and a lock of
    // another type split in two around the range.
    Lock* fresh = new_lock(key, owner, kind, want.type, want.start, want.end);
    Lock* spare = fresh ? new_lock(key, owner, kind, kLockUnlock, 0, 0) : nullptr;
    if (!spare) {
        remove_if([&](const Lock& l) { return &l == fresh; });
        return -ENOLCK;
    }
    int64_t start = want.start, end = want.end;
    for (Lock** link = &g_locks; *link;) {
        Lock& l = **link;
        if (&l == fresh || &l == spare || l.file != key || l.owner != owner || l.kind != kind) {
            link = &l.next;
            continue;
        }
        if (l.type == want.type && touches(l, start, end)) {
            // The same type: absorbed into the new lock.
            if (l.start < start) start = l.start;
            if (l.end > end) end = l.end;
            unlink_and_free(link);
            continue;
        }
        if (!overlaps(l, start, end)) {
            link = &l.next;
            continue;
        }
        // Another type, or an unlock: what lies outside the range stays.
        if (l.start < start && l.end > end) {
            *spare = Lock{spare->next, key, owner, kind, l.type, end + 1, l.end};
            spare = nullptr;
            l.end = start - 1;
        } else if (l.start < start) {
            l.end = start - 1;
        } else if (l.end > end) {
            l.start = end + 1;
        } else {
            unlink_and_free(link);
            continue;
        }
        link = &l.next;
    }
    fresh->start = start;
    fresh->end = end;
    remove_if([&](const Lock& l) {
        return &l == spare || (&l == fresh && want.type == kLockUnlock);
    });
    return 0;
}

void lock_release_posix(OpenFile& f) {
    if (!g_locks) return;
    const void* key = file_key(f);
    remove_if([&](const Lock& l) { return l.kind == LockKind::Posix && l.file == key; });
}

void lock_release_file(OpenFile& f) {
    if (!g_locks) return;
    remove_if([&](const Lock& l) { return l.owner == &f; });
}

}  // namespace utx::kernel

// kernel/fs/lock.h: advisory file locks. flock(2) locks and OFD record locks (F_OFD_SETLK)
// belong to an open file description, POSIX record locks (F_SETLK) to the process.
//
// Locks of one owner never conflict with each other, so with one process POSIX locks only
// meet OFD locks, and flock locks only those of other descriptions of the same file. Nothing
// else runs that could release a lock, so a request that would wait for one fails with
// -EDEADLK instead of blocking for good.
#pragma once
#include <stdint.h>

namespace utx::kernel {

struct OpenFile;

// Lock types, as struct flock's l_type.
inline constexpr int16_t kLockRead = 0, kLockWrite = 1, kLockUnlock = 2;
inline constexpr int64_t kLockOffsetMax = INT64_MAX;  // OFFSET_MAX: "to the end of the file"

// A byte range [start, end] (end inclusive; kLockOffsetMax reaches past any end of file).
struct RecordLock {
    int16_t type;
    int64_t start, end;
};

// flock(2): kLockRead (LOCK_SH), kLockWrite (LOCK_EX) or kLockUnlock on the description.
// -EAGAIN on a conflict without `wait`, -EDEADLK with it.
int64_t lock_flock(OpenFile& f, int16_t type, bool wait);

// F_GETLK / F_OFD_GETLK: replaces `want` by the first lock of another owner that conflicts
// with it, or sets want.type to kLockUnlock. `holder_is_ofd`: that lock is an OFD lock.
void lock_test(OpenFile& f, bool ofd, RecordLock& want, bool& holder_is_ofd);
// F_SETLK(W) / F_OFD_SETLK(W): sets, changes or (kLockUnlock) removes the owner's locks over
// the range, splitting and merging as Linux does. -EAGAIN / -EDEADLK on a conflict,
// -ENOLCK when memory is short.
int64_t lock_set(OpenFile& f, bool ofd, const RecordLock& want, bool wait);

// A descriptor of f's file was closed: the process's POSIX locks on the file go (close(2)
// of any descriptor of a file releases them all).
void lock_release_posix(OpenFile& f);
// The last reference to f went: its flock and OFD locks go.
void lock_release_file(OpenFile& f);

}  // namespace utx::kernel

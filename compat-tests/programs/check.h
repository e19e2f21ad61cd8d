// check.h: tiny helpers shared by the compat programs.
//
// Every check prints one deterministic line ("label: ok", or "label: EINVAL" for an errno
// check) so that the native and the utx output can be compared byte for byte, and a failed
// check makes the program exit 1 so that a broken program is caught natively first.
#ifndef UTX_COMPAT_CHECK_H
#define UTX_COMPAT_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int check_failures;

// An address that is never mapped, hidden from the compiler so that it cannot reason
// (and warn) about the bad accesses the programs make on purpose.
static void *volatile unmapped_address = (void *)16;

static inline void expect(const char *label, int ok) {
    printf("%s: %s\n", label, ok ? "ok" : "FAILED");
    if (!ok) {
        check_failures++;
        fprintf(stderr, "FAIL: %s\n", label);
    }
}

// Reads exactly n bytes unless end of file (or an error) comes first; the count read.
static inline size_t read_full(int fd, char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

static inline const char *errno_name(int err) {
    switch (err) {
        case 0:
            return "no error";
        case EPERM:
            return "EPERM";
        case ENOENT:
            return "ENOENT";
        case EINTR:
            return "EINTR";
        case EBADF:
            return "EBADF";
        case EAGAIN:
            return "EAGAIN";
        case ENOMEM:
            return "ENOMEM";
        case EACCES:
            return "EACCES";
        case EFAULT:
            return "EFAULT";
        case EEXIST:
            return "EEXIST";
        case EINVAL:
            return "EINVAL";
        case ENOTTY:
            return "ENOTTY";
        case ESPIPE:
            return "ESPIPE";
        case ENOSYS:
            return "ENOSYS";
        case ESRCH:
            return "ESRCH";
        case E2BIG:
            return "E2BIG";
        case ENOEXEC:
            return "ENOEXEC";
        case ECHILD:
            return "ECHILD";
        case ENXIO:
            return "ENXIO";
        case EXDEV:
            return "EXDEV";
        case ENODEV:
            return "ENODEV";
        case ENOTDIR:
            return "ENOTDIR";
        case EISDIR:
            return "EISDIR";
        case ENFILE:
            return "ENFILE";
        case EMFILE:
            return "EMFILE";
        case EFBIG:
            return "EFBIG";
        case ENOSPC:
            return "ENOSPC";
        case EROFS:
            return "EROFS";
        case EMLINK:
            return "EMLINK";
        case EPIPE:
            return "EPIPE";
        case ERANGE:
            return "ERANGE";
        case ENAMETOOLONG:
            return "ENAMETOOLONG";
        case ENOTEMPTY:
            return "ENOTEMPTY";
        case ELOOP:
            return "ELOOP";
        case EBUSY:
            return "EBUSY";
        case EOPNOTSUPP:
            return "EOPNOTSUPP";
        case EOVERFLOW:
            return "EOVERFLOW";
        case ETIMEDOUT:
            return "ETIMEDOUT";
        case ENOTSOCK:
            return "ENOTSOCK";
        case EDESTADDRREQ:
            return "EDESTADDRREQ";
        case EMSGSIZE:
            return "EMSGSIZE";
        case EPROTOTYPE:
            return "EPROTOTYPE";
        case ENOPROTOOPT:
            return "ENOPROTOOPT";
        case EPROTONOSUPPORT:
            return "EPROTONOSUPPORT";
        case EAFNOSUPPORT:
            return "EAFNOSUPPORT";
        case EADDRINUSE:
            return "EADDRINUSE";
        case EADDRNOTAVAIL:
            return "EADDRNOTAVAIL";
        case ENETUNREACH:
            return "ENETUNREACH";
        case ECONNRESET:
            return "ECONNRESET";
        case EISCONN:
            return "EISCONN";
        case ENOTCONN:
            return "ENOTCONN";
        case ECONNREFUSED:
            return "ECONNREFUSED";
        case EALREADY:
            return "EALREADY";
        case EINPROGRESS:
            return "EINPROGRESS";
        default:
            return "other errno";
    }
}

// For a call that must fail: `ret` is its return value (-1 expected), `err` the errno seen.
static inline void expect_errno(const char *label, long ret, int err, int expected) {
    int ok = ret == -1 && err == expected;
    if (ret != -1)
        printf("%s: succeeded (expected %s)\n", label, errno_name(expected));
    else
        printf("%s: %s\n", label, errno_name(err));
    if (!ok) {
        check_failures++;
        fprintf(stderr, "FAIL: %s: ret %ld errno %d, expected %s\n", label, ret, err,
                errno_name(expected));
    }
}

// Evaluates `call` once, then checks it failed with `expected`.
#define EXPECT_ERRNO(label, call, expected)         \
    do {                                            \
        errno = 0;                                  \
        long ret_ = (long)(call);                   \
        expect_errno(label, ret_, errno, expected); \
    } while (0)

static inline int check_exit_status(void) {
    fflush(stdout);
    return check_failures ? 1 : 0;
}

#endif

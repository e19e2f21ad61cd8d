// minifs/result.h: a value or a Linux errno, without exceptions or the hosted library.
//
// The error convention of all of minifs:
//   - a call that produces something returns Result<T>: ok() and value(), or error(), which is
//     a negative Linux errno (-kENOENT);
//   - a call that only succeeds or fails returns int: 0, or a negative Linux errno;
//   - read/write return int64_t: the byte count, or a negative Linux errno (the syscall ABI).
#pragma once
#include <stdint.h>

namespace utx::minifs {

struct Error {
    int code;  // negative errno
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : value_(value), error_(0) {}
    Result(Error e) : value_(), error_(e.code) {}

    bool ok() const { return error_ == 0; }
    int error() const { return error_; }
    T value() const { return value_; }
    T operator*() const { return value_; }

  private:
    T value_;
    int error_;
};

}  // namespace utx::minifs

// Unwraps a Result<T> into `var`, or returns its error from the enclosing function, which
// returns a Result.
#define MINIFS_TRY_ASSIGN(var, expr)                                             \
    auto var##_result_ = (expr);                                                 \
    if (!var##_result_.ok()) return ::utx::minifs::Error{var##_result_.error()}; \
    auto var = var##_result_.value()

// Returns from the enclosing function when an int status is an error.
#define MINIFS_TRY(expr)                               \
    do {                                               \
        int minifs_status_ = (expr);                   \
        if (minifs_status_ < 0) return minifs_status_; \
    } while (0)

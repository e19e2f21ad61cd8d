// kernel/lib/format.h: printf-style formatting into a fixed buffer (no allocation).
#pragma once
#include <stdarg.h>
#include <stddef.h>

namespace utx::kernel {

// Supports %d %i %u %o %x %lx %lu %ld %llx %p %s %c %%, with - 0 and width. Always
// terminates.
size_t vformat(char* buf, size_t size, const char* fmt, va_list ap);
size_t format(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// Appends formatted text to a buffer; truncates when full.
class StringBuilder {
public:
    StringBuilder(char* buf, size_t size) : buf_(buf), size_(size) { buf_[0] = 0; }
    void append(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    void append_bytes(const char* s, size_t n);
    const char* data() const { return buf_; }
    size_t length() const { return len_; }

private:
    char* buf_;
    size_t size_;
    size_t len_ = 0;
};

}  // namespace utx::kernel

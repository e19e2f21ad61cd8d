#include "kernel/lib/format.h"

#include "kernel/lib/string.h"

namespace utx::kernel {
namespace {

struct Out {
    char* buf;
    size_t size;
    size_t len = 0;
    void put(char c) {
        if (len + 1 < size) buf[len] = c;
        ++len;
    }
};

void put_number(Out& out, unsigned long long v, unsigned base, int width, bool zero, bool left,
                bool negative) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    int total = n + (negative ? 1 : 0);
    if (!left && !zero)
        for (; total < width; ++total) out.put(' ');
    if (negative) out.put('-');
    if (!left && zero)
        for (; total < width; ++total) out.put('0');
    while (n) out.put(tmp[--n]);
    if (left)
        for (; total < width; ++total) out.put(' ');
}

}  // namespace

size_t vformat(char* buf, size_t size, const char* fmt, va_list ap) {
    Out out{buf, size};
    for (; *fmt; ++fmt) {
        if (*fmt != '%') {
            out.put(*fmt);
            continue;
        }
        ++fmt;
        bool left = false, zero = false, alt = false;
        for (;; ++fmt) {
            if (*fmt == '-') left = true;
            else if (*fmt == '0') zero = true;
            else if (*fmt == '#') alt = true;
            else break;
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        int longs = 0;
        while (*fmt == 'l') ++longs, ++fmt;
        if (*fmt == 'z') longs = 1, ++fmt;
        switch (*fmt) {
            case 'd':
            case 'i': {
                long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);
                put_number(out, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, 10,
                           width, zero, left, v < 0);
                break;
            }
            case 'u':
            case 'o':
            case 'x': {
                unsigned long long v =
                    longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
                if (alt && *fmt == 'x') out.put('0'), out.put('x');
                put_number(out, v, *fmt == 'x' ? 16 : *fmt == 'o' ? 8 : 10, width, zero, left,
                           false);
                break;
            }
            case 'p':
                out.put('0'), out.put('x');
                put_number(out, (unsigned long long)va_arg(ap, void*), 16, width, zero, left,
                           false);
                break;
            case 's': {
                const char* s = va_arg(ap, const char*);
                if (!s) s = "(null)";
                size_t n = strlen(s);
                if (!left)
                    for (size_t i = n; i < size_t(width); ++i) out.put(' ');
                while (*s) out.put(*s++);
                if (left)
                    for (size_t i = n; i < size_t(width); ++i) out.put(' ');
                break;
            }
            case 'c':
                out.put(char(va_arg(ap, int)));
                break;
            case '%':
                out.put('%');
                break;
            default:
                out.put('%');
                if (*fmt) out.put(*fmt);
                else --fmt;
        }
    }
    if (size) buf[out.len < size ? out.len : size - 1] = 0;
    return out.len < size ? out.len : size ? size - 1 : 0;
}

size_t format(char* buf, size_t size, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void StringBuilder::append(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    len_ += vformat(buf_ + len_, size_ - len_, fmt, ap);
    va_end(ap);
}

void StringBuilder::append_bytes(const char* s, size_t n) {
    while (n-- && len_ + 1 < size_) buf_[len_++] = *s++;
    buf_[len_] = 0;
}

}  // namespace utx::kernel

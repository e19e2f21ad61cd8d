// fuzz/fuzz_check.h: what every fuzz target asserts. A broken invariant prints one line
// and aborts, which libFuzzer reports as a crash with the input that caused it.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

namespace utx::fuzz {

// Errors shown to users are one short line: no newline, not empty.
inline void check_one_line(const std::string& message) {
    if (message.empty() || message.find('\n') != std::string::npos) {
        std::fprintf(stderr, "not a one-line error: '%s'\n", message.c_str());
        std::abort();
    }
}

}  // namespace utx::fuzz

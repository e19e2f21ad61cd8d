// Writing a file so that readers see the old contents or the new, never a part: a
// temporary file beside it, then rename(2).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

namespace utx::rewrite {

// On failure returns false with a one-line reason in `error` (the path included).
bool write_atomically(const std::string& path, std::span<const uint8_t> bytes, mode_t mode,
                      std::string& error);

}  // namespace utx::rewrite

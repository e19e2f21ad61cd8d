// The one error type of the analyzer: a message about an input file, printed as
// `utx-analyze: FILE: MESSAGE` by the CLI, which then exits with status 2.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace utx::analyze {

class InputError : public std::runtime_error {
  public:
    InputError(std::string file, const std::string& message)
        : std::runtime_error(message), file_(std::move(file)) {}
    const std::string& file() const { return file_; }

  private:
    std::string file_;
};

std::string hex(uint64_t value);

}  // namespace utx::analyze

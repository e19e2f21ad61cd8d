// loader/tests/guarded_buffer.h: a buffer with PROT_NONE pages on both sides, so that a read
// or write one byte outside it kills the test with SIGSEGV instead of passing silently.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace utx::loader::testing {

class GuardedBuffer {
  public:
    // `size` bytes whose last byte is right before the trailing guard page when
    // `flush_end` is set (catches overruns), else whose first byte follows the leading
    // guard page (catches underruns). Both guards exist either way.
    explicit GuardedBuffer(size_t size, bool flush_end = true) : size_(size) {
        page_ = size_t(sysconf(_SC_PAGESIZE));
        data_pages_ = (size + page_ - 1) / page_;
        if (data_pages_ == 0) data_pages_ = 1;
        total_ = (data_pages_ + 2) * page_;
        void* p = mmap(nullptr, total_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) std::abort();
        region_ = static_cast<uint8_t*>(p);
        if (mprotect(region_ + page_, data_pages_ * page_, PROT_READ | PROT_WRITE) != 0)
            std::abort();
        data_ = flush_end ? region_ + page_ + data_pages_ * page_ - size : region_ + page_;
    }
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;
    ~GuardedBuffer() { munmap(region_, total_); }

    std::span<uint8_t> span() const { return {data_, size_}; }
    uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

  private:
    size_t size_, page_ = 0, data_pages_ = 0, total_ = 0;
    uint8_t* region_ = nullptr;
    uint8_t* data_ = nullptr;
};

}  // namespace utx::loader::testing

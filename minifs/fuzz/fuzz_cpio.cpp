// minifs/fuzz/fuzz_cpio.cpp: libFuzzer entry for the cpio reader. Any input: no crash, no
// out-of-bounds read (ASan), a consistent tree afterwards, nothing leaked.
#include "minifs/cpio.h"
#include "minifs/fuzz/fuzz_support.h"

using namespace utx::minifs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Fs fs;
    if (fs.init(fuzz::config(1 << 20)) != 0) abort();
    UnpackError error{};
    int r = unpack(fs, fs.root(), data, size, &error);
    MINIFS_CHECK(r <= 0);
    MINIFS_CHECK(r == 0 || error.offset <= size);
    fuzz::check_invariants(fs);
    fs.destroy();
    MINIFS_CHECK(fuzz::Heap::live == 0);
    return 0;
}

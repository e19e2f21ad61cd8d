// minifs/fuzz/fuzz_ops.cpp: libFuzzer entry running a byte-coded operation script (see
// ops_script.h) with the invariants checked after every operation.
#include "minifs/fuzz/ops_script.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    utx::minifs::fuzz::run_ops_script(data, size);
    MINIFS_CHECK(utx::minifs::fuzz::Heap::live == 0);
    return 0;
}

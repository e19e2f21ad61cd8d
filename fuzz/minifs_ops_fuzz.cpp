// fuzz/minifs_ops_fuzz.cpp: minifs driven by a byte-coded script of operations (create,
// mkdir, write, read, truncate, fallocate, punch a hole, rename, link, unlink, rmdir,
// symlink, readlink, mknod, O_TMPFILE, readdir while removing, chmod/chown/stat), with the
// file system's invariants checked after every step and every read checked against a model
// of what was written (minifs/fuzz/ops_script.h; minifs/tests/ops_random_test.cpp runs
// the same scripts with pseudo-random bytes). Nothing may leak.
#include "minifs/fuzz/ops_script.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    utx::minifs::fuzz::run_ops_script(data, size);
    MINIFS_CHECK(utx::minifs::fuzz::Heap::live == 0);
    return 0;
}

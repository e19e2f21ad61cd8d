// minifs/tests/ops_random_test.cpp: the fuzzer's operation scripts (minifs/fuzz/ops_script.h)
// with pseudo-random bytes, so that ctest runs them even where clang and libFuzzer are missing.
#include <gtest/gtest.h>

#include "minifs/fuzz/ops_script.h"

namespace utx::minifs::fuzz {
namespace {

TEST(OpsScript, RandomScriptsKeepTheInvariants) {
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 300; ++round) {
        std::vector<uint8_t> script(64 + round * 4);
        for (uint8_t& b : script) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b = uint8_t(seed);
        }
        // A small budget in some rounds, so that -ENOSPC paths run too.
        run_ops_script(script.data(), script.size(), round % 3 == 0 ? 24 * 1024 : 1 << 20);
        ASSERT_EQ(Heap::live, 0) << "round " << round;
    }
}

}  // namespace
}  // namespace utx::minifs::fuzz

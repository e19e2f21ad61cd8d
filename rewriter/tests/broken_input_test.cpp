// Input the rewriter refuses gets one InputError naming the file, never a crash; and
// random corruption of a valid program ends in an error or a completed rewrite.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "rewriter.hpp"

namespace utx::rewrite {
namespace {

std::vector<uint8_t> sites() {
    std::ifstream in(UTX_REWRITER_SITES, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string error_of(std::vector<uint8_t> bytes) {
    try {
        rewrite_program("prog", std::move(bytes));
    } catch (const analyze::InputError& e) {
        EXPECT_EQ(e.file(), "prog");
        const std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        return message;
    }
    return "(no error)";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(RewriterInput, NotAnElfTruncatedEmpty) {
    EXPECT_CONTAINS(error_of({}), "not an ELF file");
    EXPECT_CONTAINS(error_of({'#', '!', '/', 'b', 'i', 'n'}), "not an ELF file");
    auto bytes = sites();
    bytes.resize(40);
    EXPECT_CONTAINS(error_of(bytes), "truncated ELF header");
    bytes = sites();
    bytes.resize(0x40 + 20);
    EXPECT_CONTAINS(error_of(bytes), "truncated program header table");
}

TEST(RewriterInput, ForeignMachines) {
    auto bytes = sites();
    const uint16_t riscv = 243;
    std::memcpy(bytes.data() + 18, &riscv, 2);
    EXPECT_EQ(error_of(bytes), "riscv64 is not supported yet");
    bytes = sites();
    const uint16_t aarch64 = 183;
    std::memcpy(bytes.data() + 18, &aarch64, 2);
    EXPECT_CONTAINS(error_of(bytes), "unsupported machine aarch64");
}

TEST(RewriterInput, DynamicallyLinked) {
    std::ifstream in("/bin/true", std::ios::binary);
    std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    ASSERT_FALSE(bytes.empty());
    EXPECT_CONTAINS(error_of(bytes), "dynamically linked");
}

TEST(RewriterInput, RandomCorruptionNeverCrashes) {
    const auto original = sites();
    std::mt19937 random(4242);
    const size_t header_bytes = std::min<size_t>(original.size(), 0x40 + 6 * 56);
    size_t errors = 0, rewrites = 0;
    for (int round = 0; round < 400; ++round) {
        auto bytes = original;
        const int flips = 1 + static_cast<int>(random() % 4);
        for (int i = 0; i < flips; ++i) {
            const bool in_headers = random() % 3 != 0;
            const size_t at = in_headers ? random() % header_bytes : random() % bytes.size();
            bytes[at] = static_cast<uint8_t>(random());
        }
        if (random() % 8 == 0) bytes.resize(random() % bytes.size());
        try {
            rewrite_program("prog", std::move(bytes));
            ++rewrites;
        } catch (const analyze::InputError& e) {
            ++errors;
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
        }
    }
    EXPECT_GT(errors, 0u);
    EXPECT_GT(rewrites, 0u);
}

}  // namespace
}  // namespace utx::rewrite

// Each pattern function in patterns_*.S holds one syscall site; the analyzer must recover
// exactly the numbers the assembly puts there, or report the site unresolved.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "object_analysis.hpp"
#include "syscall_table.hpp"

namespace utx::analyze {
namespace {

class Patterns {
  public:
    explicit Patterns(const std::string& path)
        : image_(ElfImage::load(path)), report_(analyze_object(image_, "executable")) {}

    const SiteReport& site(const std::string& function) const {
        for (const SiteReport& site : report_.sites)
            if (site.function == function) return site;
        throw std::runtime_error("no syscall site in " + function);
    }
    std::set<int64_t> values(const std::string& function) const {
        std::set<int64_t> out;
        for (const ResolvedValue& v : site(function).values) out.insert(v.value);
        return out;
    }
    bool resolved(const std::string& function) const { return site(function).resolved(); }
    uint32_t how(const std::string& function) const {
        uint32_t how = 0;
        for (const ResolvedValue& v : site(function).values) how |= v.how;
        return how;
    }
    const ObjectReport& report() const { return report_; }

  private:
    ElfImage image_;
    ObjectReport report_;
};

using Values = std::set<int64_t>;

class X86Patterns : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { patterns_ = std::make_unique<Patterns>(UTX_X86_PATTERNS); }
    static void TearDownTestSuite() { patterns_.reset(); }
    static std::unique_ptr<Patterns> patterns_;
};
std::unique_ptr<Patterns> X86Patterns::patterns_;

TEST_F(X86Patterns, Immediate) {
    EXPECT_EQ(patterns_->values("imm"), Values{39});
    EXPECT_TRUE(patterns_->resolved("imm"));
    EXPECT_TRUE(patterns_->how("imm") & kHowImmediate);
}

TEST_F(X86Patterns, XorZero) {
    EXPECT_EQ(patterns_->values("xor_zero"), Values{0});
    EXPECT_TRUE(patterns_->how("xor_zero") & kHowZeroIdiom);
}

TEST_F(X86Patterns, RegisterCopyChainWith32BitMove) {
    EXPECT_EQ(patterns_->values("copy_chain"), Values{1});
    EXPECT_TRUE(patterns_->how("copy_chain") & kHowCopy);
}

TEST_F(X86Patterns, ValueSetInPredecessorBlock) {
    EXPECT_EQ(patterns_->values("predecessor_block"), Values{3});
    EXPECT_TRUE(patterns_->resolved("predecessor_block"));
    EXPECT_TRUE(patterns_->how("predecessor_block") & kHowPredecessor);
}

TEST_F(X86Patterns, TwoPredecessorsBothReported) {
    EXPECT_EQ(patterns_->values("two_predecessors"), (Values{2, 257}));
    EXPECT_TRUE(patterns_->resolved("two_predecessors"));
}

TEST_F(X86Patterns, WrapperArgumentResolvedAtCallSites) {
    EXPECT_EQ(patterns_->values("wrapper"), (Values{24, 35}));
    EXPECT_TRUE(patterns_->resolved("wrapper"));
    EXPECT_TRUE(patterns_->how("wrapper") & kHowCallSite);
}

TEST_F(X86Patterns, TwoLevelWrapperThroughTailCall) {
    EXPECT_EQ(patterns_->values("inner_wrapper"), Values{186});
    EXPECT_TRUE(patterns_->resolved("inner_wrapper"));
}

TEST_F(X86Patterns, LoadFromMemoryIsReportedUnresolved) {
    const SiteReport& site = patterns_->site("from_memory");
    EXPECT_TRUE(site.values.empty());
    ASSERT_FALSE(site.unresolved.empty());
    EXPECT_NE(site.unresolved.front().reason.find("loaded from memory"), std::string::npos);
    EXPECT_FALSE(site.resolved());
}

TEST_F(X86Patterns, LeaWithOffset) {
    EXPECT_EQ(patterns_->values("lea_offset"), Values{12});
}

TEST_F(X86Patterns, ConditionalMoveGivesBothValues) {
    EXPECT_EQ(patterns_->values("cmov_either"), (Values{13, 14}));
}

TEST_F(X86Patterns, Int80IsReportedAsI386Abi) {
    const SiteReport& site = patterns_->site("i386_abi");
    EXPECT_EQ(site.kind, SyscallKind::Int80);
    EXPECT_FALSE(site.resolved());
    ASSERT_FALSE(site.unresolved.empty());
    EXPECT_NE(site.unresolved.front().reason.find("i386 number 20"), std::string::npos);
}

TEST_F(X86Patterns, LowByteMoveOverZeroedRegister) {
    EXPECT_EQ(patterns_->values("low_byte"), Values{56});
    EXPECT_TRUE(patterns_->resolved("low_byte"));
}

TEST_F(X86Patterns, ZeroTestOnTheBranchEdge) {
    for (const char* function : {"zero_test_taken", "zero_test_fallthrough"}) {
        EXPECT_EQ(patterns_->values(function), Values{0}) << function;
        EXPECT_TRUE(patterns_->resolved(function)) << function;
        EXPECT_TRUE(patterns_->how(function) & kHowBranchCondition) << function;
    }
}

TEST_F(X86Patterns, EveryPatternSiteIsFound) {
    EXPECT_EQ(patterns_->report().sites.size(), 15u);  // 14 pattern functions + exit in _start
    EXPECT_EQ(patterns_->values("_start"), Values{60});
}

class RiscvPatterns : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (std::string(UTX_RISCV_PATTERNS).empty()) return;
        patterns_ = std::make_unique<Patterns>(UTX_RISCV_PATTERNS);
    }
    static void TearDownTestSuite() { patterns_.reset(); }
    void SetUp() override {
        if (!patterns_) GTEST_SKIP() << "riscv64-linux-gnu-as/ld were not found at configure time";
    }
    static std::unique_ptr<Patterns> patterns_;
};
std::unique_ptr<Patterns> RiscvPatterns::patterns_;

TEST_F(RiscvPatterns, Immediate) {
    EXPECT_EQ(patterns_->values("imm"), Values{172});
    EXPECT_EQ(patterns_->values("c_imm"), Values{29});
}

TEST_F(RiscvPatterns, MoveFromZero) {
    EXPECT_EQ(patterns_->values("zero"), Values{0});
}

TEST_F(RiscvPatterns, RegisterCopyChain) {
    EXPECT_EQ(patterns_->values("copy_chain"), Values{64});
    EXPECT_EQ(patterns_->values("c_copy_chain"), Values{25});
}

TEST_F(RiscvPatterns, ValueSetInPredecessorBlock) {
    EXPECT_EQ(patterns_->values("predecessor_block"), Values{57});
    EXPECT_TRUE(patterns_->resolved("predecessor_block"));
}

TEST_F(RiscvPatterns, TwoPredecessorsBothReported) {
    EXPECT_EQ(patterns_->values("two_predecessors"), (Values{62, 63}));
    EXPECT_EQ(patterns_->values("c_two_predecessors"), (Values{23, 24}));
}

TEST_F(RiscvPatterns, WrapperArgumentResolvedAtCallSites) {
    EXPECT_EQ(patterns_->values("wrapper"), (Values{172, 178}));
    EXPECT_TRUE(patterns_->how("wrapper") & kHowCallSite);
}

TEST_F(RiscvPatterns, LoadFromMemoryIsReportedUnresolved) {
    const SiteReport& site = patterns_->site("from_memory");
    EXPECT_TRUE(site.values.empty());
    ASSERT_FALSE(site.unresolved.empty());
    EXPECT_NE(site.unresolved.front().reason.find("loaded from memory"), std::string::npos);
}

TEST_F(RiscvPatterns, LuiAddiwArithmetic) {
    EXPECT_EQ(patterns_->values("lui_addiw"), Values{207});
}

TEST_F(RiscvPatterns, ZeroBranchEdge) {
    for (const char* function : {"zero_branch_taken", "zero_branch_fallthrough"}) {
        EXPECT_EQ(patterns_->values(function), Values{0}) << function;
        EXPECT_TRUE(patterns_->resolved(function)) << function;
        EXPECT_TRUE(patterns_->how(function) & kHowBranchCondition) << function;
    }
}

TEST_F(RiscvPatterns, EveryPatternSiteIsFound) {
    EXPECT_EQ(patterns_->report().sites.size(), 14u);
    EXPECT_EQ(patterns_->values("_start"), Values{93});
}

TEST(SyscallTable, NamesComeFromSyscallsDef) {
    ASSERT_TRUE(lookup_syscall(Arch::X86_64, 39));
    EXPECT_EQ(lookup_syscall(Arch::X86_64, 39)->name, "getpid");
    EXPECT_EQ(lookup_syscall(Arch::RiscV64, 172)->name, "getpid");
    EXPECT_EQ(lookup_syscall(Arch::RiscV64, 56)->name, "openat");
    EXPECT_FALSE(lookup_syscall(Arch::RiscV64, 500));  // beyond the last riscv64 syscall
    EXPECT_FALSE(lookup_syscall(Arch::X86_64, 100000));
}

}  // namespace
}  // namespace utx::analyze

// The rewriter on sites_x86_64.S: each function there is one adversarial site. Checked on
// the bytes of the output, decoded independently with Zydis, and by running the program
// natively before and after (and with deliberate mistakes, to show the runs can fail).
#include <Zydis/Zydis.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "abi/rewrite.h"
#include "elf_file.hpp"
#include "elf_image.hpp"
#include "rewriter.hpp"

namespace utx::rewrite {
namespace {

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

struct Decoded {
    ZydisDecodedInstruction in{};
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT]{};
    uint64_t addr = 0;
    std::optional<uint64_t> target;  // of a relative branch or RIP-relative operand
    std::vector<uint8_t> bytes;

    ZydisMnemonic mnemonic() const { return in.mnemonic; }
    bool memory_on(ZydisRegister base, int64_t disp) const {
        for (unsigned i = 0; i < in.operand_count_visible; ++i)
            if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.base == base &&
                ops[i].mem.disp.value == disp)
                return true;
        return false;
    }
};

Decoded decode(std::span<const uint8_t> bytes, uint64_t addr) {
    static ZydisDecoder decoder = [] {
        ZydisDecoder d;
        ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
        return d;
    }();
    Decoded out;
    out.addr = addr;
    if (!ZYAN_SUCCESS(
            ZydisDecoderDecodeFull(&decoder, bytes.data(), bytes.size(), &out.in, out.ops)))
        throw std::runtime_error("undecodable bytes at " + std::to_string(addr));
    out.bytes.assign(bytes.begin(), bytes.begin() + out.in.length);
    for (unsigned i = 0; i < out.in.operand_count_visible; ++i) {
        const ZydisDecodedOperand& op = out.ops[i];
        const bool relative =
            (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op.imm.is_relative) ||
            (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_RIP);
        ZyanU64 target = 0;
        if (relative && ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&out.in, &op, addr, &target)))
            out.target = target;
    }
    return out;
}

// A file and its loaded view: bytes by virtual address.
class Loaded {
  public:
    explicit Loaded(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)), file_(bytes_) {}
    const ElfFile& file() const { return file_; }
    const std::vector<uint8_t>& bytes() const { return bytes_; }
    std::span<const uint8_t> at(uint64_t vaddr, size_t size) const {
        const auto offset = file_.offset_of(vaddr);
        if (!offset) throw std::runtime_error("address not in the file");
        return std::span<const uint8_t>(bytes_).subspan(*offset, size);
    }
    Decoded insn(uint64_t vaddr) const { return decode(at(vaddr, 15), vaddr); }

  private:
    std::vector<uint8_t> bytes_;
    ElfFile file_;
};

struct RunResult {
    int status = -1;
    std::string output;
};

// Runs `bytes` as a program (from a temporary file) and collects its stdout and status.
RunResult run(const std::vector<uint8_t>& bytes) {
    char path[] = "/tmp/utx-rewriter-test-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp");
    if (write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        throw std::runtime_error("write");
    fchmod(fd, 0755);
    close(fd);
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe");
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(pipe_fds[1], 1);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        execl(path, path, static_cast<char*>(nullptr));
        _exit(127);
    }
    close(pipe_fds[1]);
    RunResult result;
    char buffer[256];
    ssize_t n;
    while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) result.output.append(buffer, n);
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    unlink(path);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

class Sites : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        image_ = std::make_unique<analyze::ElfImage>(analyze::ElfImage::load(UTX_REWRITER_SITES));
        input_ = std::make_unique<Loaded>(read_file(UTX_REWRITER_SITES));
        rewritten_ = std::make_unique<Rewritten>(rewrite_program("sites", input_->bytes()));
        output_ = std::make_unique<Loaded>(rewritten_->bytes);
    }
    static void TearDownTestSuite() {
        output_.reset();
        rewritten_.reset();
        input_.reset();
        image_.reset();
    }

    static uint64_t symbol(const std::string& name) {
        for (const analyze::FunctionSymbol& s : image_->functions())
            if (s.name == name) return s.addr;
        throw std::runtime_error("no symbol " + name);
    }
    // The n-th site at or after `function` (sites of a function without symbol count too).
    static const SiteOutcome& site(const std::string& function, size_t n = 0) {
        const uint64_t start = symbol(function);
        for (const SiteOutcome& s : rewritten_->report.sites)
            if (s.addr >= start && n-- == 0) return s;
        throw std::runtime_error("no site in " + function);
    }
    static const abi::RewriteNote& note() {
        static abi::RewriteNote value;
        const auto desc = output_->file().rewrite_note();
        if (!desc || desc->size() != sizeof value) throw std::runtime_error("no note");
        std::memcpy(&value, desc->data(), sizeof value);
        return value;
    }
    // The patched range holds `jmp trampoline` and int3 up to its end.
    static void expect_patched(const SiteOutcome& s) {
        ASSERT_TRUE(s.rewritten) << s.reason;
        const Decoded jmp = output_->insn(s.start);
        EXPECT_EQ(jmp.mnemonic(), ZYDIS_MNEMONIC_JMP);
        EXPECT_EQ(jmp.in.length, 5);
        EXPECT_EQ(jmp.target, s.trampoline);
        for (uint64_t a = s.start + 5; a < s.end; ++a) EXPECT_EQ(output_->at(a, 1)[0], 0xcc);
    }
    // A left site keeps its syscall, and no patched range covers it.
    static void expect_untouched(const SiteOutcome& s, const std::string& why) {
        EXPECT_FALSE(s.rewritten);
        EXPECT_NE(s.reason.find(why), std::string::npos) << s.reason;
        EXPECT_TRUE(std::ranges::equal(output_->at(s.addr, 2), input_->at(s.addr, 2)));
        for (const SiteOutcome& other : rewritten_->report.sites) {
            if (other.rewritten) {
                EXPECT_FALSE(s.addr + 2 > other.start && s.addr < other.end)
                    << "covered by the range of the site at " << other.addr;
            }
        }
    }
    // The trampoline: the instructions of the range before the syscall, moved; the step
    // below the red zone; call gate; the step back; those after the syscall; jmp back.
    static void expect_trampoline(const SiteOutcome& s) {
        std::vector<Decoded> before, after;
        for (uint64_t a = s.start; a < s.end;) {
            Decoded d = input_->insn(a);
            a += d.in.length;
            if (d.addr < s.addr)
                before.push_back(std::move(d));
            else if (d.addr > s.addr)
                after.push_back(std::move(d));
        }
        uint64_t at = s.trampoline;
        auto next = [&] {
            Decoded d = output_->insn(at);
            at += d.in.length;
            return d;
        };
        auto expect_moved = [&](const Decoded& original) {
            const Decoded moved = next();
            EXPECT_EQ(moved.mnemonic(), original.mnemonic());
            EXPECT_EQ(moved.in.length, original.in.length);
            if (original.target) {
                EXPECT_EQ(moved.target, original.target) << "RIP-relative operand re-encoded";
            } else {
                EXPECT_EQ(moved.bytes, original.bytes);
            }
        };
        for (const Decoded& d : before) expect_moved(d);
        const Decoded down = next();
        EXPECT_EQ(down.mnemonic(), ZYDIS_MNEMONIC_LEA);
        EXPECT_TRUE(down.memory_on(ZYDIS_REGISTER_RSP, -128));
        const Decoded call = next();
        EXPECT_EQ(call.mnemonic(), ZYDIS_MNEMONIC_CALL);
        EXPECT_EQ(call.target, gate_);
        const Decoded up = next();
        EXPECT_EQ(up.mnemonic(), ZYDIS_MNEMONIC_LEA);
        EXPECT_TRUE(up.memory_on(ZYDIS_REGISTER_RSP, 128));
        for (const Decoded& d : after) expect_moved(d);
        const Decoded back = next();
        EXPECT_EQ(back.mnemonic(), ZYDIS_MNEMONIC_JMP);
        EXPECT_EQ(back.target, s.end);
    }

    static std::unique_ptr<analyze::ElfImage> image_;
    static std::unique_ptr<Loaded> input_, output_;
    static std::unique_ptr<Rewritten> rewritten_;
    static uint64_t gate_;
};
std::unique_ptr<analyze::ElfImage> Sites::image_;
std::unique_ptr<Loaded> Sites::input_, Sites::output_;
std::unique_ptr<Rewritten> Sites::rewritten_;
uint64_t Sites::gate_ = 0;

TEST_F(Sites, TheSegmentNoteSlotGateAndStub) {
    const Elf64Ehdr& header = output_->file().header();
    const Elf64Phdr* segment = nullptr;
    const Elf64Phdr* first = nullptr;
    for (const Elf64Phdr& ph : output_->file().segments()) {
        if (ph.type == PT_LOAD && !first) first = &ph;
        if (ph.type == PT_LOAD && header.phoff >= ph.offset && header.phoff < ph.offset + ph.filesz)
            segment = &ph;
    }
    ASSERT_NE(segment, nullptr) << "a PT_LOAD holds the program header table";
    EXPECT_NE(segment, first);
    EXPECT_EQ(segment->flags, PF_R | PF_X);
    EXPECT_EQ(header.phnum, input_->file().header().phnum + 2);
    EXPECT_EQ(segment->vaddr - segment->offset, first->vaddr - first->offset) << "congruent";
    for (const Elf64Phdr& ph : input_->file().segments()) {
        if (ph.type == PT_LOAD) {
            EXPECT_GE(segment->vaddr, ph.vaddr + ph.memsz);
        }
    }

    const abi::RewriteNote& n = note();
    EXPECT_EQ(n.version, abi::kRewriteVersion);
    EXPECT_EQ(n.site_count, rewritten_->report.rewritten());
    EXPECT_EQ(n.segment_vaddr, segment->vaddr);
    EXPECT_EQ(n.segment_size, segment->memsz);
    EXPECT_EQ(n.slot_vaddr % 8, 0u);

    int64_t slot = 0;
    std::memcpy(&slot, output_->at(n.slot_vaddr, 8).data(), 8);
    EXPECT_EQ(n.slot_vaddr + slot, n.stub_vaddr) << "the slot leads to the stub, self-relative";
    const Decoded syscall = output_->insn(n.stub_vaddr);
    EXPECT_EQ(syscall.mnemonic(), ZYDIS_MNEMONIC_SYSCALL);
    EXPECT_EQ(output_->insn(n.stub_vaddr + 2).mnemonic(), ZYDIS_MNEMONIC_RET);

    // The gate: %r11 = slot + *slot, jmp *%r11, touching neither flags nor other registers.
    const uint64_t gate_addr =
        output_->insn(site("backward_simple").trampoline + 5 + 5).target.value_or(0);
    ASSERT_NE(gate_addr, 0u);
    const Decoded load = output_->insn(gate_addr);
    EXPECT_EQ(load.mnemonic(), ZYDIS_MNEMONIC_MOV);
    EXPECT_EQ(load.ops[0].reg.value, ZYDIS_REGISTER_R11);
    EXPECT_EQ(load.target, n.slot_vaddr);
    const Decoded address = output_->insn(gate_addr + load.in.length);
    EXPECT_EQ(address.mnemonic(), ZYDIS_MNEMONIC_LEA);
    EXPECT_EQ(address.ops[0].reg.value, ZYDIS_REGISTER_RCX);
    EXPECT_EQ(address.target, n.slot_vaddr);
    const Decoded sum = output_->insn(address.addr + address.in.length);
    EXPECT_EQ(sum.mnemonic(), ZYDIS_MNEMONIC_LEA);
    EXPECT_EQ(sum.ops[0].reg.value, ZYDIS_REGISTER_R11);
    const Decoded jump = output_->insn(sum.addr + sum.in.length);
    EXPECT_EQ(jump.mnemonic(), ZYDIS_MNEMONIC_JMP);
    EXPECT_EQ(jump.ops[0].reg.value, ZYDIS_REGISTER_R11);
    EXPECT_EQ(jump.addr + jump.in.length, n.stub_vaddr);
}

class SitesWithGate : public Sites {
  protected:
    void SetUp() override {
        gate_ = output_->insn(site("backward_simple").trampoline + 5 + 5).target.value_or(0);
        ASSERT_NE(gate_, 0u);
    }
};

TEST_F(SitesWithGate, BackwardPacking) {
    const SiteOutcome& s = site("backward_simple");
    EXPECT_EQ(s.packing, Packing::Backward);
    EXPECT_EQ(s.start, symbol("backward_simple"));  // mov $39, %eax
    EXPECT_EQ(s.end, s.addr + 2);
    expect_patched(s);
    expect_trampoline(s);
}

TEST_F(SitesWithGate, SyscallThatIsAJumpTargetPacksForward) {
    const SiteOutcome& s = site("syscall_is_target");
    EXPECT_EQ(s.packing, Packing::Forward);
    EXPECT_EQ(s.start, s.addr);
    EXPECT_EQ(s.end, s.addr + 2 + 6);  // cmp $-4095, %rax
    expect_patched(s);
    expect_trampoline(s);
}

TEST_F(SitesWithGate, JumpTargetWithNoRoomIsLeft) {
    expect_untouched(site("target_no_room"), "is a branch target");
    expect_untouched(site("target_no_room"), "ret at");
}

TEST_F(SitesWithGate, RipRelativeOperandBeforeIsReencoded) {
    const SiteOutcome& s = site("rip_relative_before");
    EXPECT_EQ(s.packing, Packing::Backward);
    const Decoded lea = input_->insn(s.start);
    ASSERT_EQ(lea.mnemonic(), ZYDIS_MNEMONIC_LEA);
    ASSERT_TRUE(lea.target);
    expect_patched(s);
    expect_trampoline(s);
    EXPECT_NE(output_->insn(s.trampoline).bytes, lea.bytes) << "the displacement changed";
}

TEST_F(SitesWithGate, RipRelativeOperandAfterIsReencoded) {
    const SiteOutcome& s = site("rip_relative_after");
    EXPECT_EQ(s.packing, Packing::Forward);
    const Decoded store = input_->insn(s.addr + 2);
    ASSERT_EQ(store.mnemonic(), ZYDIS_MNEMONIC_MOV);
    ASSERT_TRUE(store.target);
    EXPECT_EQ(s.end, store.addr + store.in.length);
    expect_patched(s);
    expect_trampoline(s);
}

TEST_F(SitesWithGate, StackRelativeAndPushMoveAlong) {
    const SiteOutcome& red = site("red_zone");
    EXPECT_EQ(red.packing, Packing::Backward);
    EXPECT_TRUE(input_->insn(red.start).memory_on(ZYDIS_REGISTER_RSP, -16));
    expect_patched(red);
    expect_trampoline(red);
    const SiteOutcome& push = site("push_pop");
    EXPECT_EQ(push.start, symbol("push_pop"));  // mov, push
    expect_patched(push);
    expect_trampoline(push);
}

TEST_F(SitesWithGate, SiteFollowedByABranch) {
    const SiteOutcome& s = site("followed_by_branch");
    EXPECT_EQ(s.packing, Packing::Backward);
    expect_patched(s);
    expect_trampoline(s);
    EXPECT_EQ(output_->insn(s.end).mnemonic(), ZYDIS_MNEMONIC_JNS) << "the branch stays";
    EXPECT_TRUE(std::ranges::equal(output_->at(s.end, 8), input_->at(s.end, 8)));
    expect_untouched(site("branch_after_target"), "jmp at");
}

TEST_F(SitesWithGate, NeighbouringSites) {
    const SiteOutcome& first = site("two_sites");
    const SiteOutcome& second = site("two_sites", 1);
    expect_patched(first);
    expect_patched(second);
    EXPECT_EQ(first.end, second.start);
    expect_trampoline(first);
    expect_trampoline(second);
}

TEST_F(SitesWithGate, SiteAtTheVeryEndOfText) {
    const SiteOutcome& s = site("end_of_text");
    uint64_t text_end = 0;
    for (const analyze::CodeRegion& r : image_->code())
        if (r.name == ".text") text_end = r.addr + r.size;
    EXPECT_EQ(s.end, text_end);
    EXPECT_EQ(s.packing, Packing::Backward);
    expect_patched(s);
    expect_trampoline(s);
}

TEST_F(SitesWithGate, FlagsAndMunmapThatReturns) {
    expect_patched(site("flags_kept"));
    expect_trampoline(site("flags_kept"));
    expect_patched(site("munmap_returns"));
    expect_trampoline(site("munmap_returns"));
}

TEST_F(SitesWithGate, LandingPadPointerAndSweepAreLeft) {
    expect_untouched(site("landing_pad"), "exception landing pad");
    expect_untouched(site("pointer_in_data"), "an address the program names");
    // The jump table: case 0 is found by the sweep but a table entry leads to it; case 1's
    // entry is its syscall.
    const SiteOutcome& case0 = site("jump_table");
    expect_patched(case0);
    expect_trampoline(case0);
    expect_untouched(site("jump_table", 1), "syscall at");
    expect_untouched(site("jump_table", 1), "jump-table entry");
    expect_untouched(site("unmapself", 2), "found only by the linear sweep");
}

TEST_F(SitesWithGate, StackSensitiveSyscallsAreLeft) {
    expect_untouched(site("never_called", 0), "rt_sigreturn");
    expect_untouched(site("never_called", 1), "clone");
    expect_untouched(site("never_called", 2), "vfork");
    expect_untouched(site("never_called", 3), "number is not known");
    expect_untouched(site("never_called", 4), "i386");
    expect_untouched(site("unmapself", 0), "may unmap its own stack");
    expect_untouched(site("unmapself", 1), "after the munmap");
}

TEST_F(SitesWithGate, Figures) {
    const Report& r = rewritten_->report;
    EXPECT_EQ(r.found(), 26u);
    EXPECT_EQ(r.rewritten(), 13u);
    EXPECT_EQ(r.packed(Packing::Forward), 3u);
    EXPECT_EQ(summary(r).rfind("26 syscall sites, 13 rewritten (10 backward, 3 forward", 0), 0u)
        << summary(r);
}

TEST_F(Sites, RewritingAgainChangesNothing) {
    const Rewritten again = rewrite_program("sites.rw", rewritten_->bytes);
    EXPECT_TRUE(again.report.already_rewritten);
    EXPECT_EQ(again.bytes, rewritten_->bytes);
}

TEST_F(Sites, RunsNativelyAsTheOriginal) {
    const RunResult original = run(input_->bytes());
    ASSERT_EQ(original.status, 0) << "the test program itself is broken";
    ASSERT_EQ(original.output, "rip-relative lea\n");
    const RunResult rewritten = run(rewritten_->bytes);
    EXPECT_EQ(rewritten.status, original.status);
    EXPECT_EQ(rewritten.output, original.output);
}

// The runs can tell: a trampoline without its step below the red zone, or with its
// RIP-relative displacement copied unchanged, makes the program fail.
TEST_F(Sites, RunsCatchBrokenTrampolines) {
    std::vector<uint8_t> broken = rewritten_->bytes;
    const SiteOutcome& red = site("red_zone");
    const uint64_t tramp = *output_->file().offset_of(red.trampoline);
    const size_t displaced = red.addr - red.start;
    std::fill_n(broken.begin() + tramp + displaced, 5, 0x90);       // lea -128(%rsp), %rsp
    std::fill_n(broken.begin() + tramp + displaced + 10, 8, 0x90);  // lea 128(%rsp), %rsp
    const RunResult no_red_zone = run(broken);
    EXPECT_EQ(no_red_zone.status & 16, 16) << no_red_zone.status;

    broken = rewritten_->bytes;
    const SiteOutcome& lea = site("rip_relative_before");
    const uint64_t moved = *output_->file().offset_of(lea.trampoline);
    const auto original = input_->at(lea.start, 7);
    std::copy(original.begin(), original.end(), broken.begin() + moved);
    const RunResult unrelocated = run(broken);
    EXPECT_NE(unrelocated.output, "rip-relative lea\n");
}

}  // namespace
}  // namespace utx::rewrite

#include "code_map.hpp"

#include <algorithm>

#include "decoder.hpp"

namespace utx::analyze {

namespace {
constexpr int32_t kUnknown = -1;   // not decoded yet
constexpr int32_t kInterior = -2;  // inside an instruction
constexpr int32_t kData = -3;      // does not decode
}  // namespace

CodeMap::CodeMap(const ElfImage& image, const Decoder& decoder, std::vector<uint64_t> seeds) {
    for (const CodeRegion& code : image.code())
        regions_.push_back(
            {code.addr, image.bytes(code), std::vector<int32_t>(code.size, kUnknown)});
    std::sort(regions_.begin(), regions_.end(),
              [](const Region& a, const Region& b) { return a.addr < b.addr; });
    size_t code_bytes = 0;
    for (const Region& region : regions_) code_bytes += region.bytes.size();
    insns_.reserve(code_bytes / 3);
    function_starts_ = seeds;
    descend(decoder, std::move(seeds));
    sweep_gaps(decoder);
    finish();
}

CodeMap::Region* CodeMap::region_of(uint64_t addr) {
    return const_cast<Region*>(static_cast<const CodeMap*>(this)->region_of(addr));
}

const CodeMap::Region* CodeMap::region_of(uint64_t addr) const {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), addr,
                               [](uint64_t a, const Region& r) { return a < r.addr; });
    if (it == regions_.begin()) return nullptr;
    --it;
    return addr - it->addr < it->bytes.size() ? &*it : nullptr;
}

void CodeMap::descend(const Decoder& decoder, std::vector<uint64_t> work) {
    while (!work.empty()) {
        uint64_t addr = work.back();
        work.pop_back();
        while (true) {
            Region* region = region_of(addr);
            if (!region || addr % decoder.alignment() != 0) break;
            const size_t offset = addr - region->addr;
            if (region->slot[offset] != kUnknown) break;  // decoded, or inside another insn
            Insn insn;
            if (!decoder.decode(region->bytes, region->addr, offset, insn)) {
                region->slot[offset] = kData;
                break;
            }
            const size_t end = offset + insn.length;
            bool overlaps = end > region->bytes.size();
            for (size_t i = offset + 1; !overlaps && i < end; ++i)
                overlaps = region->slot[i] != kUnknown;
            if (overlaps) break;
            region->slot[offset] = static_cast<int32_t>(insns_.size());
            for (size_t i = offset + 1; i < end; ++i) region->slot[i] = kInterior;
            insn.swept = sweeping_;
            insns_.push_back(insn);
            if (insn.flow == Flow::Jump || insn.flow == Flow::CondJump || insn.flow == Flow::Call)
                work.push_back(insn.target);
            if (insn.flow == Flow::Call) function_starts_.push_back(insn.target);
            if (!insn.falls_through()) break;
            addr = insn.end();
        }
    }
}

// Decodes code no path reached: each gap, after its padding, starts a presumed function,
// which is disassembled recursively right away (it may fill other gaps too).
void CodeMap::sweep_gaps(const Decoder& decoder) {
    const size_t before = insns_.size();
    sweeping_ = true;
    for (Region& region : regions_) {
        size_t offset = 0;
        const size_t size = region.bytes.size();
        while (offset < size) {
            if (region.slot[offset] != kUnknown) {
                ++offset;
                continue;
            }
            Insn insn;
            if (offset % decoder.alignment() != 0 ||
                !decoder.decode(region.bytes, region.addr, offset, insn)) {
                region.slot[offset] = kData;
                ++offset;
                continue;
            }
            const std::string_view m = insn.mnemonic;
            const bool padding =
                m == "nop" || m == "int3" ||
                ((m == "c.addi" || m == "addi") && insn.effect_count == 0 && insn.clobbers == 0);
            if (padding) {
                bool free = offset + insn.length <= size;
                for (size_t i = offset; free && i < offset + insn.length; ++i)
                    free = region.slot[i] == kUnknown;
                if (free)
                    for (size_t i = offset; i < offset + insn.length; ++i) region.slot[i] = kData;
                offset += free ? insn.length : 1;
                continue;
            }
            const uint64_t start = region.addr + offset;
            function_starts_.push_back(start);
            descend(decoder, {start});
            if (region.slot[offset] == kUnknown) region.slot[offset] = kData;  // overlapped: skip
        }
    }
    swept_ = insns_.size() - before;
    sweeping_ = false;
}

void CodeMap::finish() {
    // Order instructions by address and renumber the slots.
    std::vector<uint32_t> order(insns_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return insns_[a].addr < insns_[b].addr; });
    std::vector<Insn> sorted;
    sorted.reserve(insns_.size());
    for (uint32_t i : order) sorted.push_back(insns_[i]);
    insns_ = std::move(sorted);
    for (uint32_t i = 0; i < insns_.size(); ++i) {
        Region* region = region_of(insns_[i].addr);
        region->slot[insns_[i].addr - region->addr] = static_cast<int32_t>(i);
    }

    std::vector<uint64_t> starts;
    for (uint64_t start : function_starts_)
        if (index_of(start)) starts.push_back(start);
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    function_starts_ = std::move(starts);

    for (uint32_t i = 0; i < insns_.size(); ++i) {
        const Insn& insn = insns_[i];
        if (insn.flow == Flow::Jump || insn.flow == Flow::CondJump || insn.flow == Flow::Call)
            preds_.emplace_back(insn.target, i);
    }
    std::sort(preds_.begin(), preds_.end());
    pred_sources_.reserve(preds_.size());
    for (const auto& [target, source] : preds_) pred_sources_.push_back(source);
    find_noreturn_functions();
}

// Greatest fixpoint: every called function starts as "never returns"; a function that can
// reach a return, an indirect jump (maybe a tail call), or a tail call or call-and-continue
// through a function that may return, is removed, until nothing changes.
void CodeMap::find_noreturn_functions() {
    std::vector<uint64_t> candidates;
    for (const Insn& insn : insns_)
        if (insn.flow == Flow::Call) candidates.push_back(insn.target);
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    std::erase_if(candidates, [&](uint64_t addr) { return !index_of(addr); });
    noreturn_ = candidates;

    std::vector<uint32_t> visited(insns_.size(), 0);
    std::vector<uint32_t> stack;
    uint32_t stamp = 0;
    for (bool changed = true; changed;) {
        changed = false;
        std::vector<uint64_t> still;
        for (uint64_t function : noreturn_) {
            if (may_return(function, ++stamp, visited, stack))
                changed = true;
            else
                still.push_back(function);
        }
        noreturn_ = std::move(still);
    }
}

bool CodeMap::may_return(uint64_t function, uint32_t stamp, std::vector<uint32_t>& visited,
                         std::vector<uint32_t>& stack) const {
    stack.clear();
    stack.push_back(*index_of(function));
    auto noreturn = [&](uint64_t target) {
        return std::binary_search(noreturn_.begin(), noreturn_.end(), target);
    };
    while (!stack.empty()) {
        uint32_t i = stack.back();
        stack.pop_back();
        while (visited[i] != stamp) {
            visited[i] = stamp;
            const Insn& insn = insns_[i];
            if (insn.flow == Flow::Return || insn.flow == Flow::IndirectJump) return true;
            if (insn.flow == Flow::Jump || insn.flow == Flow::CondJump) {
                if (insn.target != function && is_function_start(insn.target)) {
                    if (!noreturn(insn.target)) return true;  // tail call to a returning function
                } else if (const auto target = index_of(insn.target)) {
                    stack.push_back(*target);
                }
            }
            if (insn.flow == Flow::Call && noreturn(insn.target)) break;
            if (!insn.falls_through()) break;
            const auto next = index_of(insn.end());
            if (!next) break;
            if (is_function_start(insn.end())) return true;  // runs into the next function
            i = *next;
        }
    }
    return false;
}

bool CodeMap::call_returns(const Insn& call) const {
    return call.flow != Flow::Call ||
           !std::binary_search(noreturn_.begin(), noreturn_.end(), call.target);
}

std::optional<uint32_t> CodeMap::index_of(uint64_t addr) const {
    const Region* region = region_of(addr);
    if (!region) return std::nullopt;
    const int32_t slot = region->slot[addr - region->addr];
    if (slot < 0) return std::nullopt;
    return static_cast<uint32_t>(slot);
}

std::span<const uint32_t> CodeMap::branch_preds(uint64_t addr) const {
    auto lo = std::lower_bound(preds_.begin(), preds_.end(), std::make_pair(addr, uint32_t{0}));
    auto hi = lo;
    while (hi != preds_.end() && hi->first == addr) ++hi;
    return std::span<const uint32_t>(pred_sources_)
        .subspan(static_cast<size_t>(lo - preds_.begin()), static_cast<size_t>(hi - lo));
}

bool CodeMap::is_function_start(uint64_t addr) const {
    return std::binary_search(function_starts_.begin(), function_starts_.end(), addr);
}

uint64_t CodeMap::function_of(uint64_t addr) const {
    auto it = std::upper_bound(function_starts_.begin(), function_starts_.end(), addr);
    return it == function_starts_.begin() ? 0 : *(it - 1);
}

}  // namespace utx::analyze

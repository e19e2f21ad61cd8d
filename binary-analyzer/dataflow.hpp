// Backward data flow: the possible values of a register just before an instruction,
// found by walking back through the block, its predecessor blocks and, at a function
// start, the function's call sites (bounded depth). What cannot be followed is
// reported with the address and the reason, never dropped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "abi.hpp"

namespace utx::analyze {

class CodeMap;

// How a value was recovered (bits).
enum How : uint32_t {
    kHowImmediate = 1u << 0,
    kHowZeroIdiom = 1u << 1,
    kHowAddress = 1u << 2,
    kHowConstantLoad = 1u << 3,
    kHowCopy = 1u << 4,
    kHowArithmetic = 1u << 5,
    kHowPredecessor = 1u << 6,
    kHowCallSite = 1u << 7,
    kHowBranchCondition = 1u << 8,  // reached only on the edge where a zero test held
};
std::string describe_how(uint32_t how);

struct ResolvedValue {
    int64_t value = 0;
    uint32_t how = 0;
};

struct Unresolved {
    uint64_t addr = 0;  // where the trail went cold
    std::string reason;
};

struct Resolution {
    std::vector<ResolvedValue> values;   // sorted by value, unique
    std::vector<Unresolved> unresolved;  // empty when every path gave a constant
};

struct DataFlowLimits {
    unsigned call_depth = 6;  // call-site levels followed above the site's function
    unsigned steps = 40000;   // instructions visited per query
};

class DataFlow {
  public:
    using NameOf = std::function<std::string(uint64_t function_start)>;
    DataFlow(const CodeMap& code, const Abi& abi, NameOf name_of, DataFlowLimits limits = {});
    Resolution value_before(uint32_t insn_index, uint8_t reg) const;

  private:
    const CodeMap& code_;
    const Abi& abi_;
    NameOf name_of_;
    DataFlowLimits limits_;
};

}  // namespace utx::analyze

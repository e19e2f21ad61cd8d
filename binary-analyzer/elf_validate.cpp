#include "elf_validate.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "error.hpp"

namespace utx::analyze {

std::string hex(uint64_t value) {
    char buffer[24];
    std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
    return buffer;
}

namespace {

constexpr size_t kEhdrSize = 64;
constexpr size_t kPhdrSize = 56;
constexpr size_t kShdrSize = 64;
constexpr uint32_t kMaxHeaders = 65535;
constexpr uint32_t PT_LOAD = 1;
constexpr uint32_t SHT_NOBITS = 8;

template <typename T>
T read(std::span<const uint8_t> bytes, uint64_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

const char* machine_name(uint16_t machine) {
    switch (machine) {
        case 3:
            return "i386";
        case 8:
            return "mips";
        case 20:
            return "powerpc";
        case 21:
            return "powerpc64";
        case 22:
            return "s390";
        case 40:
            return "arm";
        case 183:
            return "aarch64";
        case 258:
            return "loongarch";
        default:
            return "unknown";
    }
}

bool fits(uint64_t offset, uint64_t size, uint64_t file_size) {
    return offset <= file_size && size <= file_size - offset;
}

}  // namespace

ElfFacts validate_elf(const std::string& name, std::span<const uint8_t> bytes) {
    auto fail = [&](const std::string& message) { throw InputError(name, message); };
    const uint64_t size = bytes.size();

    if (size < 4 || std::memcmp(bytes.data(),
                                "\x7f"
                                "ELF",
                                4) != 0)
        fail("not an ELF file");
    if (size < 16) fail("truncated ELF identification (" + std::to_string(size) + " bytes)");
    if (bytes[4] == 1) fail("32-bit ELF is not supported (only x86-64 and riscv64)");
    if (bytes[4] != 2) fail("invalid ELF class " + std::to_string(bytes[4]));
    if (bytes[5] != 1) fail("big-endian ELF is not supported");
    if (size < kEhdrSize) fail("truncated ELF header (" + std::to_string(size) + " of 64 bytes)");

    const auto type = read<uint16_t>(bytes, 16);
    const auto machine = read<uint16_t>(bytes, 18);
    const auto entry = read<uint64_t>(bytes, 24);
    const auto phoff = read<uint64_t>(bytes, 32);
    const auto shoff = read<uint64_t>(bytes, 40);
    const auto ehsize = read<uint16_t>(bytes, 52);
    const auto phentsize = read<uint16_t>(bytes, 54);
    const uint32_t phnum = read<uint16_t>(bytes, 56);
    const auto shentsize = read<uint16_t>(bytes, 58);
    uint64_t shnum = read<uint16_t>(bytes, 60);
    const auto shstrndx = read<uint16_t>(bytes, 62);

    ElfFacts facts;
    if (type == 2)
        facts.shared_object = false;
    else if (type == 3)
        facts.shared_object = true;
    else if (type == 1)
        fail("relocatable object files are not supported (link it first)");
    else if (type == 4)
        fail("core files are not supported");
    else
        fail("unsupported ELF type " + std::to_string(type));

    if (machine == 62)
        facts.arch = Arch::X86_64;
    else if (machine == 243)
        facts.arch = Arch::RiscV64;
    else
        fail(std::string("unsupported machine ") + machine_name(machine) + " (e_machine " +
             std::to_string(machine) + "); utx supports x86-64 and riscv64");
    facts.entry = entry;

    if (ehsize < kEhdrSize) fail("bad ELF header size " + std::to_string(ehsize));

    // Program headers.
    if (phnum != 0) {
        if (phentsize != kPhdrSize)
            fail("bad program header entry size " + std::to_string(phentsize));
        if (phnum == 0xffff) fail("extended program header count (PN_XNUM) is not supported");
        if (!fits(phoff, uint64_t{phnum} * kPhdrSize, size))
            fail("truncated program header table at offset " + hex(phoff) + " (" +
                 std::to_string(phnum) + " entries, file is " + hex(size) + " bytes)");
    }
    struct Load {
        uint64_t vaddr, memsz;
        uint32_t index;
    };
    std::vector<Load> loads;
    for (uint32_t i = 0; i < phnum; ++i) {
        const uint64_t at = phoff + uint64_t{i} * kPhdrSize;
        const auto p_type = read<uint32_t>(bytes, at);
        const auto p_offset = read<uint64_t>(bytes, at + 8);
        const auto p_vaddr = read<uint64_t>(bytes, at + 16);
        const auto p_filesz = read<uint64_t>(bytes, at + 32);
        const auto p_memsz = read<uint64_t>(bytes, at + 40);
        const std::string which = "program header " + std::to_string(i);
        // Every type: LIEF reads every segment's bytes, and one past the end of the file
        // made it take seconds and hundreds of megabytes.
        if (!fits(p_offset, p_filesz, size))
            fail(which + ": segment data at offset " + hex(p_offset) + " size " + hex(p_filesz) +
                 " extends past end of file (" + hex(size) + " bytes)");
        if (p_type == PT_LOAD) {
            if (p_filesz > p_memsz) fail(which + ": file size exceeds memory size");
            if (p_vaddr + p_memsz < p_vaddr) fail(which + ": address range wraps around");
            loads.push_back({p_vaddr, p_memsz, i});
        }
    }
    std::sort(loads.begin(), loads.end(),
              [](const Load& a, const Load& b) { return a.vaddr < b.vaddr; });
    for (size_t i = 1; i < loads.size(); ++i) {
        const Load& prev = loads[i - 1];
        if (prev.memsz != 0 && prev.vaddr + prev.memsz > loads[i].vaddr)
            fail("overlapping PT_LOAD segments " + std::to_string(prev.index) + " and " +
                 std::to_string(loads[i].index) + " at " + hex(loads[i].vaddr));
    }

    // Section headers.
    if (shoff != 0) {
        if (shentsize != kShdrSize)
            fail("bad section header entry size " + std::to_string(shentsize));
        if (shnum == 0) {  // the real count lives in section 0's sh_size
            if (!fits(shoff, kShdrSize, size))
                fail("truncated section header table at offset " + hex(shoff));
            shnum = read<uint64_t>(bytes, shoff + 32);
        }
        if (shnum > kMaxHeaders) fail("implausible section count " + std::to_string(shnum));
        if (!fits(shoff, shnum * kShdrSize, size))
            fail("truncated section header table at offset " + hex(shoff) + " (" +
                 std::to_string(shnum) + " entries, file is " + hex(size) + " bytes)");
        if (shnum != 0 && shstrndx != 0xffff && shstrndx >= shnum)
            fail("section name table index " + std::to_string(shstrndx) + " out of range");
        // Every section, SHT_NULL and section 0 included: LIEF reads their bytes whatever
        // their type, and one past the end of the file made it take seconds and a gigabyte.
        // An SHT_NOBITS one has no bytes, but LIEF allocates up to its offset when that lies
        // past the end. (With extended numbering section 0's sh_size is the count, and only
        // files far bigger than that use it.)
        for (uint64_t i = 0; i < shnum; ++i) {
            const uint64_t at = shoff + i * kShdrSize;
            const auto sh_type = read<uint32_t>(bytes, at + 4);
            const auto sh_offset = read<uint64_t>(bytes, at + 24);
            const auto sh_size = read<uint64_t>(bytes, at + 32);
            if (sh_type == SHT_NOBITS && sh_offset > size)
                fail("section " + std::to_string(i) + " (SHT_NOBITS) at offset " + hex(sh_offset) +
                     " lies past end of file (" + hex(size) + " bytes)");
            if (sh_type != SHT_NOBITS && !fits(sh_offset, sh_size, size))
                fail("section " + std::to_string(i) + " at offset " + hex(sh_offset) + " size " +
                     hex(sh_size) + " extends past end of file (" + hex(size) + " bytes)");
        }
    } else if (shnum != 0) {
        fail("section count " + std::to_string(shnum) + " without a section header table");
    }
    if (phnum == 0 && shnum == 0) fail("no program headers and no section headers");
    return facts;
}

}  // namespace utx::analyze

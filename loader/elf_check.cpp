#include "loader/elf_check.h"

#include <elf.h>

#include <cstring>
#include "loader/strprintf.h"

namespace utx::loader {
namespace {

const char* machine_name(uint16_t machine) {
    switch (machine) {
        case EM_386: return "i386";
        case EM_ARM: return "ARM";
        case EM_AARCH64: return "aarch64";
        case EM_PPC64: return "ppc64";
        case EM_S390: return "s390";
        case EM_MIPS: return "MIPS";
        case EM_RISCV: return "riscv";
        default: return nullptr;
    }
}

}  // namespace

bool check_elf(std::span<const uint8_t> bytes, ElfSummary& summary, std::string& error) {
    if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) {
        error = "not an ELF file";
        return false;
    }
    if (bytes[EI_CLASS] != ELFCLASS64) {
        error = bytes[EI_CLASS] == ELFCLASS32 ? "32-bit ELF files are not supported"
                                              : "invalid ELF class";
        return false;
    }
    if (bytes[EI_DATA] != ELFDATA2LSB) {
        error = "big-endian ELF files are not supported";
        return false;
    }
    if (bytes.size() < sizeof(Elf64_Ehdr)) {
        error = format("truncated ELF header ({} bytes, need {})", bytes.size(),
                            sizeof(Elf64_Ehdr));
        return false;
    }
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    if (eh.e_machine == EM_X86_64) {
        summary.arch = ElfArch::X86_64;
    } else if (eh.e_machine == EM_RISCV) {
        summary.arch = ElfArch::Riscv64;
    } else {
        const char* name = machine_name(eh.e_machine);
        error = name ? format("ELF file is for {}, not x86-64 or riscv64", name)
                     : format("ELF file is for machine {}, not x86-64 or riscv64",
                                   eh.e_machine);
        return false;
    }
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        error = "ELF file is not an executable (e_type " + std::to_string(eh.e_type) + ")";
        return false;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256) {
        error = format("bad program header table (entry size {}, count {})", eh.e_phentsize,
                            eh.e_phnum);
        return false;
    }
    uint64_t ph_end = eh.e_phoff + uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
    if (eh.e_phoff > bytes.size() || ph_end > bytes.size() || ph_end < eh.e_phoff) {
        error = format("truncated program header table at offset {:#x}", eh.e_phoff);
        return false;
    }
    bool has_load = false;
    bool entry_mapped = false;
    uint64_t prev_end = 0;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, bytes.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_INTERP) {
            std::string interp;
            if (ph.p_offset < bytes.size()) {
                size_t n = std::min<uint64_t>(ph.p_filesz, bytes.size() - ph.p_offset);
                interp.assign(reinterpret_cast<const char*>(bytes.data() + ph.p_offset),
                              strnlen(reinterpret_cast<const char*>(bytes.data() + ph.p_offset), n));
            }
            // The path comes from the file: keep the message one short printable line.
            if (interp.size() > 256) interp.resize(256);
            for (char& c : interp)
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
            error = "dynamically linked (interpreter " + interp +
                    ") is not supported yet; link it with -static or -static-pie";
            return false;
        }
        if (ph.p_type != PT_LOAD) continue;
        has_load = true;
        if (ph.p_offset > bytes.size() || ph.p_filesz > bytes.size() - ph.p_offset) {
            error = format("truncated: segment {} at offset {:#x} size {:#x} ends past the "
                                "end of the file ({:#x} bytes)",
                                i, ph.p_offset, ph.p_filesz, bytes.size());
            return false;
        }
        if (ph.p_filesz > ph.p_memsz) {
            error = format("segment {} has file size {:#x} larger than memory size {:#x}", i,
                                ph.p_filesz, ph.p_memsz);
            return false;
        }
        constexpr uint64_t kUserTop = 0x7fff'ffff'f000ULL;
        if (ph.p_vaddr >= kUserTop || ph.p_memsz > kUserTop - ph.p_vaddr) {
            error = format("segment {} at {:#x} is outside the user address space", i,
                                ph.p_vaddr);
            return false;
        }
        if ((ph.p_vaddr & 0xfff) != (ph.p_offset & 0xfff)) {
            error = format("segment {} is misaligned (vaddr {:#x}, offset {:#x})", i,
                                ph.p_vaddr, ph.p_offset);
            return false;
        }
        if (ph.p_vaddr < prev_end) {
            error = format("segment {} at {:#x} overlaps or precedes the previous one", i,
                                ph.p_vaddr);
            return false;
        }
        prev_end = ph.p_vaddr + ph.p_memsz;
        if (eh.e_entry >= ph.p_vaddr && eh.e_entry < ph.p_vaddr + ph.p_memsz &&
            (ph.p_flags & PF_X))
            entry_mapped = true;
    }
    if (!has_load) {
        error = "no loadable segment";
        return false;
    }
    if (!entry_mapped) {
        error = format("entry point {:#x} is not in an executable segment", eh.e_entry);
        return false;
    }
    summary.position_independent = eh.e_type == ET_DYN;
    summary.entry = eh.e_entry;
    return true;
}

}  // namespace utx::loader

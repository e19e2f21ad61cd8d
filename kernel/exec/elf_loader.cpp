#include "kernel/exec/elf_loader.h"

#include "kernel/lib/errno.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/process.h"
#include "kernel/random.h"
#include "kernel/vdso/vdso.h"

namespace utx::kernel {
namespace {

struct Elf64Ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct Elf64Phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
constexpr uint32_t kPtLoad = 1, kPtInterp = 3, kPtPhdr = 6, kPtGnuStack = 0x6474e551;
constexpr uint16_t kEtExec = 2, kEtDyn = 3, kEmX86_64 = 62;
constexpr uint32_t kPfX = 1, kPfW = 2, kPfR = 4;

enum AuxType : uint64_t {
    AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7,
    AT_FLAGS = 8, AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14,
    AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25,
    AT_HWCAP2 = 26, AT_EXECFN = 31, AT_SYSINFO_EHDR = 33, AT_MINSIGSTKSZ = 51,
};

uint32_t prot_of(uint32_t pflags) {
    return (pflags & kPfR ? kProtRead : 0) | (pflags & kPfW ? kProtWrite : 0) |
           (pflags & kPfX ? kProtExec : 0);
}

// Reads exactly len bytes at offset, or fails.
bool read_exact(const ExecFile& file, uint64_t offset, void* dst, size_t len) {
    return file.read(file.ctx, offset, dst, len) == int64_t(len);
}

// Copies file bytes into the pages of one segment, allocating them as needed.
bool load_segment(AddressSpace& as, const ExecFile& file, const Elf64Phdr& ph, uint64_t bias) {
    uint64_t start = page_down(ph.vaddr + bias), end = page_up(ph.vaddr + bias + ph.memsz);
    uint32_t prot = prot_of(ph.flags);
    // A page shared with the previous segment keeps its frame and gets both protections.
    uint64_t first_new = start;
    uint64_t existing_flags;
    if (as.page_table().lookup(start, &existing_flags)) {
        first_new = start + kPageSize;
        as.page_table().protect(start, existing_flags | pte_flags_for(prot));
    }
    if (first_new < end && !as.add_region(first_new, end, prot, 0)) return false;
    uint64_t file_start = ph.vaddr + bias, file_end = file_start + ph.filesz;
    for (uint64_t va = start; va < page_up(file_end); va += kPageSize) {
        uint64_t pa = as.page_table().lookup(va);
        if (!pa) {
            pa = frame_alloc();
            if (!pa || !as.page_table().map(va, pa, pte_flags_for(prot))) return false;
        }
        uint64_t lo = va > file_start ? va : file_start;
        uint64_t hi = va + kPageSize < file_end ? va + kPageSize : file_end;
        if (!read_exact(file, ph.offset + (lo - file_start),
                        static_cast<uint8_t*>(phys_to_virt(pa)) + (lo - va), hi - lo))
            return false;
    }
    return true;
}

// Writes into the new stack through the direct map; the stack pages are present.
class StackWriter {
public:
    StackWriter(AddressSpace& as, uint64_t top) : as_(as), sp_(top) {}
    uint64_t sp() const { return sp_; }
    bool push_bytes(const void* data, size_t len) {
        sp_ -= len;
        return write(sp_, data, len);
    }
    bool push_string(const char* s) { return push_bytes(s, strlen(s) + 1); }
    void align(uint64_t a) { sp_ &= ~(a - 1); }
    bool write(uint64_t va, const void* data, size_t len) {
        const auto* src = static_cast<const uint8_t*>(data);
        while (len) {
            uint64_t pa = as_.present_page(va, true);
            if (!pa) return false;
            uint64_t n = kPageSize - (va & (kPageSize - 1));
            if (n > len) n = len;
            memcpy(static_cast<uint8_t*>(phys_to_virt(pa)) + (va & (kPageSize - 1)), src, n);
            va += n;
            src += n;
            len -= n;
        }
        return true;
    }

private:
    AddressSpace& as_;
    uint64_t sp_;
};

}  // namespace

Elf64Phdr g_phdrs[256];

namespace {

constexpr uint64_t kDynBase = 0x5555'5555'4000ULL, kDynBaseSpread = 0x3fffULL << 12;

// Reads and checks the ELF header and the program headers (into g_phdrs): 0, -ENOEXEC for
// what is no x86-64 static executable, -ENOENT for a dynamic one (its interpreter is not
// there, as Linux says when the interpreter is missing).
int64_t read_headers(const ExecFile& file, Elf64Ehdr& eh) {
    const uint64_t size = file.size;
    if (size < sizeof eh || !read_exact(file, 0, &eh, sizeof eh)) return -ENOEXEC;
    if (memcmp(eh.ident, "\x7f" "ELF", 4) != 0 || eh.ident[4] != 2 || eh.machine != kEmX86_64 ||
        (eh.type != kEtExec && eh.type != kEtDyn) || eh.phentsize != sizeof(Elf64Phdr) ||
        eh.phnum == 0 || eh.phnum > 256 || eh.phoff > size ||
        eh.phnum * sizeof(Elf64Phdr) > size - eh.phoff)
        return -ENOEXEC;
    if (!read_exact(file, eh.phoff, g_phdrs, eh.phnum * sizeof(Elf64Phdr))) return -ENOEXEC;
    const uint64_t max_bias = eh.type == kEtDyn ? kDynBase + kDynBaseSpread : 0;
    for (unsigned i = 0; i < eh.phnum; ++i) {
        const Elf64Phdr& ph = g_phdrs[i];
        if (ph.type == kPtInterp) return -ENOENT;
        if (ph.type != kPtLoad) continue;
        if (ph.offset > size || ph.filesz > size - ph.offset || ph.filesz > ph.memsz ||
            ph.vaddr > kUserTop || ph.memsz > kUserTop || ph.vaddr + max_bias + ph.memsz > kUserTop)
            return -ENOEXEC;
    }
    return 0;
}

}  // namespace

int64_t exec_check(const ExecFile& file) {
    Elf64Ehdr eh;
    return read_headers(file, eh);
}

int64_t exec_load(AddressSpace& as, const ExecFile& file, const ExecArgs& args,
                  TrapFrame& frame) {
    Elf64Ehdr eh;
    if (int64_t r = read_headers(file, eh); r < 0) return r;
    const Elf64Phdr* phdrs = g_phdrs;
    uint64_t rnd[4];
    memcpy(rnd, args.random, sizeof rnd);
    // Static-PIE at a random base near where Linux puts ET_DYN programs.
    uint64_t bias = eh.type == kEtDyn ? kDynBase + ((rnd[0] << 12) & kDynBaseSpread) : 0;
    // AT_PHDR as Linux (5.18+) finds it: where the PT_LOAD holding e_phoff maps it, which
    // need not be the first one (utx-rewrite moves the table into a segment of its own);
    // PT_PHDR only when no PT_LOAD holds the table.
    uint64_t phdr_addr = 0, pt_phdr_addr = 0, brk_start = 0;
    for (unsigned i = 0; i < eh.phnum; ++i) {
        const Elf64Phdr& ph = phdrs[i];
        if (ph.type == kPtPhdr) pt_phdr_addr = ph.vaddr + bias;
        if (ph.type != kPtLoad) continue;
        if (!load_segment(as, file, ph, bias)) return -ENOMEM;
        if (ph.offset <= eh.phoff && eh.phoff - ph.offset < ph.filesz)
            phdr_addr = ph.vaddr + bias + (eh.phoff - ph.offset);
        uint64_t end = ph.vaddr + bias + ph.memsz;
        if (end > brk_start) brk_start = end;
    }
    if (!phdr_addr) phdr_addr = pt_phdr_addr;
    as.set_brk_start(page_up(brk_start));

    // The stack: 8 MiB that grow on demand below a slightly random top, like Linux.
    uint64_t stack_top = kUserTop - ((rnd[1] & 0x3ff) << 12);
    uint64_t stack_limit = 8ULL << 20;
    // Mapped at once: 128 KiB, more when the arguments need it (up to ARG_MAX, 2 MiB).
    uint32_t nstrings = args.argc + args.envc;
    const char* s = args.strings;
    size_t total = 0;
    for (uint32_t i = 0; i < nstrings; ++i) total += strlen(s + total) + 1;
    const uint64_t stack_initial = 128 * 1024 + page_up(total + 8 * (nstrings + 64));
    if (!as.add_region(stack_top - stack_initial, stack_top, kProtRead | kProtWrite,
                       kVmaGrowsDown | kVmaStack))
        return -ENOMEM;
    as.set_mmap_base(page_down(stack_top - stack_limit - (128ULL << 20) - ((rnd[2] & 0xffff) << 12)));
    // The vDSO and its vvar page: the first mapping of the mmap area, as where Linux 6.x
    // puts them (libc finds it by AT_SYSINFO_EHDR).
    const int64_t vdso_base = vdso_map(as);
    if (vdso_base < 0) return vdso_base;

    StackWriter st(as, stack_top);
    // Strings: exec path, platform, random bytes, then the argument and environment strings.
    if (!st.push_string(args.exec_path)) return -ENOMEM;
    uint64_t execfn = st.sp();
    if (!st.push_string("x86_64")) return -ENOMEM;
    uint64_t platform = st.sp();
    uint8_t at_random[16];
    random_bytes(at_random, sizeof at_random);
    if (!st.push_bytes(at_random, sizeof at_random)) return -ENOMEM;
    uint64_t random_addr = st.sp();

    if (!st.push_bytes(args.strings, total)) return -ENOMEM;
    uint64_t strings_base = st.sp();

    const uint64_t uid = current_process().uid, gid = current_process().gid;
    uint32_t hwcap_regs[4];
    cpuid(1, 0, hwcap_regs);
    const uint64_t aux[][2] = {
        {AT_SYSINFO_EHDR, uint64_t(vdso_base)},
        {AT_PHDR, phdr_addr},        {AT_PHENT, sizeof(Elf64Phdr)},
        {AT_PHNUM, eh.phnum},        {AT_PAGESZ, kPageSize},
        {AT_BASE, 0},                {AT_FLAGS, 0},
        {AT_ENTRY, eh.entry + bias}, {AT_UID, uid},
        {AT_EUID, uid},    {AT_GID, gid},
        {AT_EGID, gid},    {AT_SECURE, 0},
        {AT_RANDOM, random_addr},    {AT_HWCAP, hwcap_regs[3]},
        {AT_HWCAP2, 0},              {AT_CLKTCK, 100},
        {AT_EXECFN, execfn},         {AT_PLATFORM, platform},
        {AT_MINSIGSTKSZ, 2048},      {AT_NULL, 0},
    };
    const uint64_t naux = sizeof aux / sizeof aux[0];
    uint64_t words = 1 + (args.argc + 1) + (args.envc + 1) + 2 * naux;
    st.align(16);
    if (words & 1) st.push_bytes("\0\0\0\0\0\0\0\0", 8);  // rsp ends 16-byte aligned
    if (!st.push_bytes(aux, sizeof aux)) return -ENOMEM;
    uint64_t zero = 0;
    // argc, the argv pointers, NULL, the envp pointers, NULL, then the auxv just pushed.
    uint64_t ptr_area = st.sp() - 8 * (words - 2 * naux);
    uint64_t cursor = ptr_area;
    uint64_t argc = args.argc;
    if (!st.write(cursor, &argc, 8)) return -ENOMEM;
    cursor += 8;
    size_t off = 0;
    for (uint32_t i = 0; i < nstrings; ++i) {
        uint64_t p = strings_base + off;
        if (!st.write(cursor, &p, 8)) return -ENOMEM;
        cursor += 8;
        off += strlen(s + off) + 1;
        if (i + 1 == args.argc) {
            if (!st.write(cursor, &zero, 8)) return -ENOMEM;
            cursor += 8;
        }
    }
    if (args.argc == 0) {
        if (!st.write(cursor, &zero, 8)) return -ENOMEM;
        cursor += 8;
    }
    if (!st.write(cursor, &zero, 8)) return -ENOMEM;

    memset(&frame, 0, sizeof frame);
    frame.rip = eh.entry + bias;
    frame.rsp = ptr_area;
    frame.cs = kUserCs;
    frame.ss = kUserSs;
    frame.rflags = 0x202;  // IF: the application runs with interrupts on
    return 0;
}

}  // namespace utx::kernel

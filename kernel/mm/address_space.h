// kernel/mm/address_space.h: the application's half of the address space: VMAs with
// demand paging, mmap/munmap/mprotect/mremap/madvise and brk, Linux's layout.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch/x86_64/paging.h"

namespace utx::minifs {
struct Inode;
}

namespace utx::kernel {

inline constexpr uint64_t kUserTop = 0x7fff'ffff'f000ULL;
inline constexpr uint64_t kMmapMin = 0x10000;  // vm.mmap_min_addr

inline constexpr uint32_t kProtRead = 1, kProtWrite = 2, kProtExec = 4;
inline constexpr uint32_t kVmaGrowsDown = 1, kVmaHeap = 2, kVmaStack = 4;
inline constexpr uint32_t kVmaMayWrite = 8;  // a shared file mapping whose file is writable

// Pages that the kernel provides rather than a file or anonymous memory (Linux's
// vm_special_mapping): the vDSO and its vvar page (kernel/vdso).
struct SpecialMapping {
    const char* name;  // as /proc/self/maps shows it, e.g. "[vdso]"
    // The frame for page `index` of the mapping, or -EFAULT past its end (SIGBUS) or -ENOMEM.
    int64_t (*page)(uint64_t index);
    // The frames are the kernel's, shared by every mapping of them and never freed; otherwise
    // each page is a frame of the mapping's own, freed with it as anonymous memory is.
    bool kernel_frames;
    uint32_t max_prot;  // what mprotect may give it (Linux's VM_MAY*); more is EACCES
};

struct Vma {
    uint64_t start, end;
    uint32_t prot;
    uint32_t flags;
    // A shared file mapping maps the file's own pages (minifs page_for_write), from file page
    // `pgoff` at `start`, and holds a reference to the file; null for anonymous memory.
    minifs::Inode* file;
    uint64_t pgoff;
    // A special mapping maps its page `pgoff` at `start`; null otherwise.
    const SpecialMapping* special;
};

// What mmap maps for MAP_SHARED of a file: its pages from `pgoff`.
struct FileBacking {
    minifs::Inode* file;
    uint64_t pgoff;
    bool may_write;  // opened for writing: PROT_WRITE may be had, now or by mprotect
};

class AddressSpace {
public:
    bool init(uint64_t boot_pml4);
    PageTable& page_table() { return pt_; }

    // Linux mmap semantics for anonymous memory, or with `backing` a shared mapping of a
    // file's pages. Returns the address or -errno.
    int64_t mmap(uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
                 const FileBacking* backing = nullptr);
    int64_t munmap(uint64_t addr, uint64_t len);
    int64_t mprotect(uint64_t addr, uint64_t len, uint32_t prot);
    int64_t mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, uint32_t flags,
                   uint64_t new_addr);
    int64_t madvise(uint64_t addr, uint64_t len, int advice);
    uint64_t brk(uint64_t new_brk);

    // Creates a mapping for the ELF loader and the stack (no overlap checks beyond errors).
    bool add_region(uint64_t start, uint64_t end, uint32_t prot, uint32_t flags);
    // Creates a special mapping of `special`'s pages from page 0 at `start` (a free range).
    bool add_special(uint64_t start, uint64_t end, uint32_t prot, const SpecialMapping& special);
    // Where mmap would put `len` bytes with no address hint; 0 when there is no room.
    uint64_t unmapped_area(uint64_t len) const { return find_gap(len); }
    void set_brk_start(uint64_t start) { brk_start_ = brk_ = start; }
    // Unmaps everything in the lower half (execve, before the new program is loaded).
    void clear();
    void set_mmap_base(uint64_t base) { mmap_base_ = base; }

    enum class Fault { Resolved, Invalid, OutOfMemory, Bus };
    // Resolves a page fault at `addr`: Invalid is SIGSEGV, OutOfMemory the OOM kill, Bus
    // SIGBUS (a shared file mapping past the end of its file, or the file out of space).
    Fault handle_fault(uint64_t addr, bool write, bool exec);
    // Takes pages [first, end) of `file` out of the shared mappings of it: the file is about
    // to free them (minifs Config::releasing_pages). A later access faults in what the file
    // then holds there.
    void unmap_file_pages(const minifs::Inode* file, uint64_t first, uint64_t end);
    // Whether every page of [start, end) lies in a mapping.
    bool fully_mapped(uint64_t start, uint64_t end) const;
    // Makes [addr, addr+len) present and accessible for a kernel copy; false → EFAULT.
    bool prepare_access(uint64_t addr, uint64_t len, bool write);
    // Physical page backing a user page, faulting it in; 0 when invalid.
    uint64_t present_page(uint64_t va, bool write);

    // fork: each file mapping's copy in the child holds its file too (`undo`: it failed).
    void hold_files_for_fork(bool undo);
    const Vma* vmas() const { return vmas_; }
    size_t vma_count() const { return count_; }

private:
    int find(uint64_t addr) const;
    bool insert(const Vma& v);     // takes over v's file reference, even when it fails
    bool split_at(uint64_t addr);  // ensures a VMA boundary at addr
    // Clears the page table entries; frees the frames unless a file owns them.
    void unmap_pages(uint64_t start, uint64_t end, bool free_frames);
    Fault map_file_page(const Vma& v, uint64_t va);
    Fault map_special_page(const Vma& v, uint64_t va);
    bool range_free(uint64_t start, uint64_t end) const;
    uint64_t find_gap(uint64_t len) const;
    void remove(uint64_t start, uint64_t end);

    static constexpr size_t kMaxVmas = 4096;
    Vma vmas_[kMaxVmas]{};
    size_t count_ = 0;
    PageTable pt_;
    uint64_t brk_start_ = 0, brk_ = 0, mmap_base_ = 0;
};

AddressSpace& current_address_space();
uint64_t pte_flags_for(uint32_t prot);

}  // namespace utx::kernel

// abi/rewrite.h: how a program rewritten by utx-rewrite tells the ELF loader where its
// syscall entry slot is. Included by the freestanding kernel and by host tools: fixed-width
// types only.
//
// utx-rewrite appends one executable PT_LOAD segment (the trampoline segment) to the
// program and describes it with an ELF note in a PT_NOTE program header whose data lies in
// that segment:
//
//   Elf64_Nhdr { n_namesz = 4, n_descsz = sizeof(RewriteNote), n_type = kRewriteNoteType }
//   "UTX\0"
//   RewriteNote
//
// Every rewritten site reaches the kernel through `call gate`, and the gate jumps to
//
//   slot_vaddr + load_bias + *(int64_t*)(slot_vaddr + load_bias)
//
// i.e. the 8-byte slot holds the entry's distance from the slot itself, so the file needs
// no relocation when a static-PIE is loaded at a random base. In the file the slot leads
// to a `syscall; ret` stub in the same segment, so the rewritten program runs natively on
// Linux exactly as the original did. A loader that has a direct entry stores
// `entry - (slot_vaddr + load_bias)` there (through its own mapping: the segment is R+X).
//
// The direct entry is called with: %rax the syscall number, the arguments in %rdi, %rsi,
// %rdx, %r10, %r8, %r9, the return address at (%rsp), %rsp 136 bytes below the program's
// own %rsp (below the red zone) and NOT aligned to anything, %rcx and %r11 already used by
// the gate. It returns with `ret`, the result in %rax, every other register and the flags
// as `syscall` leaves them (%rcx and %r11 may be clobbered; all else preserved).
//
// All addresses below are link-time virtual addresses: add the load bias of an ET_DYN.
#pragma once
#include <stdint.h>

namespace utx::abi {

inline constexpr char kRewriteNoteName[4] = {'U', 'T', 'X', '\0'};
inline constexpr uint32_t kRewriteNoteType = 1;  // note types are per name: 1 in "UTX"
inline constexpr uint32_t kRewriteVersion = 1;

struct RewriteNote {
    uint32_t version;        // kRewriteVersion
    uint32_t site_count;     // syscall sites rewritten to call the gate
    uint64_t slot_vaddr;     // the 8-byte self-relative entry slot, 8-aligned
    uint64_t segment_vaddr;  // the trampoline segment (program headers, note, slot, code)
    uint64_t segment_size;
    uint64_t stub_vaddr;  // the `syscall; ret` stub the slot holds in the file
};

static_assert(sizeof(RewriteNote) == 40, "RewriteNote is part of the file format");

}  // namespace utx::abi

// kernel/exec/elf_loader.h: maps a static ELF executable and builds its initial stack.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/mm/address_space.h"

namespace utx::kernel {

struct ExecArgs {
    const char* strings;  // argc argument strings then envc environment strings, NUL-separated
    uint32_t argc;
    uint32_t envc;
    const char* exec_path;
    const uint8_t* random;  // 32 bytes of entropy for the layout and AT_RANDOM
};

// Where the program file's bytes come from: read(ctx, offset, dst, len) returns the bytes
// read (short at the end of the file) or -errno.
struct ExecFile {
    int64_t (*read)(void* ctx, uint64_t offset, void* dst, size_t len);
    void* ctx;
    uint64_t size;
};

// Whether `file` is a program exec_load can load (the checks it makes before it maps
// anything): 0, -ENOEXEC, or -ENOENT for a dynamically linked one (no interpreter here).
int64_t exec_check(const ExecFile& file);

// Loads the program into `as` and fills `frame` for the first entry to user mode. Returns 0
// or -errno (as exec_check, or ENOMEM).
int64_t exec_load(AddressSpace& as, const ExecFile& file, const ExecArgs& args,
                  TrapFrame& frame);

}  // namespace utx::kernel

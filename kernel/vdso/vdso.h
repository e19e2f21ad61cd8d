// kernel/vdso/vdso.h: the vDSO every program gets (AT_SYSINFO_EHDR), with which libc reads
// the clocks without a system call: its text, built from kernel/vdso/image/ and embedded in
// the kernel, and the [vvar] page of clock data below it that the kernel keeps current.
#pragma once
#include <stdint.h>

#include "kernel/vdso/vvar.h"

namespace utx::kernel {

class AddressSpace;

// The clock data of the vvar page; kernel/time.cpp writes it (vdso::begin_update ...).
vdso::ClockData& vvar_clock();

// Maps [vvar] and [vdso] into `as` where mmap would put them (the top of the mmap area,
// set_mmap_base first), as Linux lists them in /proc/self/maps. Returns the address of the
// vDSO's ELF header (AT_SYSINFO_EHDR) or -ENOMEM.
int64_t vdso_map(AddressSpace& as);

}  // namespace utx::kernel

// covers: brk
// Grows and shrinks the program break with the raw brk system call (musl's sbrk refuses
// to grow the break, so libc's sbrk is not portable across the flavors).
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static uintptr_t raw_brk(uintptr_t addr) {
    return (uintptr_t)syscall(SYS_brk, addr);
}

int main(void) {
    uintptr_t start = raw_brk(0);
    expect("brk(0) is not zero", start != 0);
    expect("brk(0) is stable", raw_brk(0) == start);

    const uintptr_t grow = 8 << 20;
    uintptr_t grown = raw_brk(start + grow);
    expect("brk grows by 8 MiB", grown == start + grow);
    if (grown == start + grow) {
        unsigned char *p = (unsigned char *)start;
        memset(p, 0x11, grow);
        expect("grown break memory is writable", p[0] == 0x11 && p[grow - 1] == 0x11);
    }
    expect("brk(0) reports the new break", raw_brk(0) == start + grow);

    uintptr_t odd = raw_brk(start + grow + 100);
    expect("an unaligned break is accepted as is", odd == start + grow + 100);

    expect("brk shrinks back", raw_brk(start) == start);
    // libc may have left the break unaligned; whole pages past it were unmapped by the shrink.
    uintptr_t page = (start + 4095) & ~(uintptr_t)4095;
    uintptr_t regrown = raw_brk(page + 8192);
    expect("memory regrown after a shrink is zero", regrown == page + 8192 &&
                                                        ((unsigned char *)page)[0] == 0 &&
                                                        ((unsigned char *)page)[8191] == 0);
    raw_brk(start);

    // A break below the initial one, or absurdly high, is refused: the old break is returned.
    expect("brk below the start is refused", raw_brk(start - (64 << 20)) == start);
    expect("brk to the kernel half is refused", raw_brk((uintptr_t)1 << 63) == start);

    // libc's own sbrk(0) agrees with the kernel.
    expect("sbrk(0) equals brk(0)", (uintptr_t)sbrk(0) == raw_brk(0));
    return check_exit_status();
}

// covers: arch_prctl, set_tid_address, write, exit_group
// Thread-local storage of the main thread: initialized (.tdata) and zero (.tbss) __thread
// variables must hold their initial values, be writable, and be distinct from each other.
#include <stdint.h>

#include "check.h"

static __thread int tls_initialized = 1234;
static __thread long tls_array[64] = {[0] = 7, [63] = 9};
static __thread int tls_zero;
static __thread char tls_zero_block[4096];

__attribute__((noinline)) static int *zero_address(void) {
    return &tls_zero;
}

int main(void) {
    printf("tls_initialized=%d\n", tls_initialized);
    printf("tls_array[0]=%ld tls_array[63]=%ld\n", tls_array[0], tls_array[63]);
    printf("tls_zero=%d\n", tls_zero);
    int all_zero = 1;
    for (size_t i = 0; i < sizeof tls_zero_block; i++) all_zero &= tls_zero_block[i] == 0;
    expect("tbss block is zero", all_zero);
    expect("tdata values",
           tls_initialized == 1234 && tls_array[0] == 7 && tls_array[63] == 9 && tls_array[1] == 0);

    tls_initialized += 1;
    *zero_address() = 99;
    memset(tls_zero_block, 0xab, sizeof tls_zero_block);
    printf("after write: tls_initialized=%d tls_zero=%d\n", tls_initialized, tls_zero);
    expect("tls variables are distinct",
           tls_initialized == 1235 && tls_zero == 99 && tls_array[63] == 9);
    // %fs:0 holds the thread pointer itself on x86-64 (TLS variant II).
    uintptr_t self;
    __asm__("mov %%fs:0, %0" : "=r"(self));
    expect("fs:0 points to itself", self != 0 && *(uintptr_t *)self == self);
    return check_exit_status();
}

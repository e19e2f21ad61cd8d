/* kernel/arch/x86_64/ap_trampoline.S: where another CPU starts under the QEMU backend. A
 * STARTUP IPI starts it in real mode at AP_TRAMPOLINE_GPA; smp.cpp copies this code there
 * and fills the parameters at its end. It switches to long mode on the boot page tables
 * (which identity-map the first 4 GiB and hold the direct map) and jumps to ap_entry with
 * %rsp and %rdi from the parameters. Our own VMM starts CPUs in long mode directly. */

#define AP_TRAMPOLINE_GPA 0x8000
#define ABS(label) (AP_TRAMPOLINE_GPA + (label - ap_trampoline))

    .section .rodata
    .globl ap_trampoline, ap_trampoline_end
    .code16
ap_trampoline:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl ABS(tramp_gdt_descriptor)
    movl %cr0, %eax
    orl $1, %eax                      /* PE */
    movl %eax, %cr0
    ljmpl $0x08, $ABS(tramp32)

    .code32
tramp32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x620, %eax                  /* PAE | OSFXSR | OSXMMEXCPT */
    movl %eax, %cr4
    movl ABS(tramp_cr3), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx            /* EFER */
    rdmsr
    orl $0x901, %eax                  /* SCE | LME | NXE */
    wrmsr
    movl %cr0, %eax
    andl $0x9fffffff, %eax            /* caches on */
    orl $0x80010022, %eax             /* PG | WP | NE | MP */
    movl %eax, %cr0
    ljmpl $0x18, $ABS(tramp64)

    .code64
tramp64:
    movq ABS(tramp_rsp), %rsp
    movq ABS(tramp_rdi), %rdi
    jmpq *ABS(tramp_entry)

    .balign 8
tramp_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff          /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff          /* 0x10: data */
    .quad 0x00af9a000000ffff          /* 0x18: 64-bit code */
tramp_gdt_descriptor:
    .word tramp_gdt_descriptor - tramp_gdt - 1
    .long ABS(tramp_gdt)

    /* Parameters, filled by smp.cpp (offsets from the end: see ApTrampolineParams). */
    .balign 8
    .globl ap_trampoline_params
ap_trampoline_params:
tramp_cr3:
    .quad 0
tramp_rsp:
    .quad 0
tramp_rdi:
    .quad 0
tramp_entry:
    .quad 0
ap_trampoline_end:

    .section .note.GNU-stack, "", @progbits

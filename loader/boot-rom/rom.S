/* loader/boot-rom/rom.S: the 64 KiB firmware the QEMU backend boots instead of a BIOS.
 * utx-run has already written the kernel, BootInfo and the boot page tables into guest RAM
 * (abi/boot_info.h); this code only switches the CPU from its reset state into long mode
 * and jumps to BootInfo.kernel_entry with %rdi = the BootInfo address, the state in which
 * the KVM backend starts the vCPU directly. Linked at 0xffff0000 (the top 64 KiB below 4 GiB),
 * which the boot page tables identity-map. */

#define BOOT_INFO_GPA 0x1000
#define KERNEL_ENTRY_OFFSET 16
#define BOOT_PML4_GPA 0x10000

    .section .text
    .code16
start16:
    cli
    cld
    lgdtl %cs:(gdt_descriptor - 0xffff0000)
    movl %cr0, %eax
    orl $1, %eax                      /* PE */
    movl %eax, %cr0
    ljmpl $0x08, $start32

    .code32
start32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl %cr4, %eax
    orl $0x620, %eax                  /* PAE | OSFXSR | OSXMMEXCPT */
    movl %eax, %cr4
    movl $BOOT_PML4_GPA, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx            /* EFER */
    rdmsr
    orl $0x901, %eax                  /* SCE | LME | NXE */
    wrmsr
    movl %cr0, %eax
    andl $0x9fffffff, %eax            /* caches on (clear CD, NW) */
    orl $0x80010022, %eax             /* PG | WP | NE | MP */
    movl %eax, %cr0
    ljmpl $0x18, $start64

    .code64
start64:
    movl $BOOT_INFO_GPA, %edi
    movq BOOT_INFO_GPA + KERNEL_ENTRY_OFFSET, %rax
    jmpq *%rax

    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff          /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff          /* 0x10: data */
    .quad 0x00af9a000000ffff          /* 0x18: 64-bit code */
gdt_end:
gdt_descriptor:
    .word gdt_end - gdt - 1
    .long gdt

    .section .reset, "ax"
    .globl reset
    .code16
reset:
    jmp start16
    .balign 16, 0xf4

/* kernel/arch/x86_64/entry.S: the kernel's entry points: boot, syscall, exceptions. */

#define PERCPU_KERNEL_RSP 8
#define PERCPU_USER_RSP 16
#define USER_CS (0x28 | 3)
#define USER_SS (0x20 | 3)

    .section .text.boot, "ax"
    .globl _start
_start:                                   /* %rdi = BootInfo (guest-physical) */
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    call kernel_main
1:  hlt
    jmp 1b

/* Another CPU, in long mode on the boot page tables (from the real-mode trampoline under
 * QEMU, or set up so by our VMM): %rsp = its idle stack, %rdi = its PerCpu. */
    .globl ap_entry
ap_entry:
    xorl %ebp, %ebp
    call ap_main
2:  hlt
    jmp 2b

    .text

.macro PUSH_GPRS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro POP_GPRS
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
.endm

/* Back to user mode from an iret frame at %rsp, every other register already the user's.
 * On PVM kvm_pvm's emulation of iretq (and sysretq) swaps the GS bases itself. */
.macro IRET_TO_USER
    cmpb $0, g_pvm(%rip)
    jne 8f
    swapgs
8:  iretq
.endm

/* On PVM, kvm_pvm swaps the GS bases on every entry from user mode (VIF flags 2 and 4,
 * loader/kvm_vm.cpp). */
.macro SWAPGS_FROM_USER
    cmpb $0, g_pvm(%rip)
    jne 9f
    swapgs
9:
.endm

/* The syscall instruction from user mode: rcx = rip, r11 = rflags, interrupts masked by
 * FMASK. Switch to the thread's kernel stack before touching memory: the application's
 * red zone below %rsp is live. */
    .globl syscall_entry
syscall_entry:
    SWAPGS_FROM_USER
    movq %rsp, %gs:PERCPU_USER_RSP
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    pushq $USER_SS
    pushq %gs:PERCPU_USER_RSP
    pushq %r11
    pushq $USER_CS
    pushq %rcx
    pushq $0                              /* error */
    pushq $-1                             /* vector: a syscall */
    PUSH_GPRS
    movq %rsp, %rdi
    call syscall_dispatch
    /* Return with sysret unless every register must come back from the frame (after
     * rt_sigreturn or a signal frame: sysret would clobber rcx and r11) or the frame holds
     * something sysret cannot do (a non-canonical rip). */
    testq %rax, %rax
    jnz return_with_iret
    movq 17*8(%rsp), %rcx                 /* rip */
    movq %rcx, %r11
    sarq $47, %r11
    cmpq $0, %r11
    jne return_with_iret
    POP_GPRS
    addq $16, %rsp
    popq %rcx                             /* rip */
    addq $8, %rsp                         /* cs */
    popq %r11                             /* rflags */
    popq %rsp                             /* user rsp */
    cmpb $0, g_pvm(%rip)
    jne 1f
    swapgs
1:  sysretq
return_with_iret:
    POP_GPRS
    addq $16, %rsp
    IRET_TO_USER

/* Exceptions and interrupts. The stubs make every vector look alike: vector and error
 * code pushed, then the general registers. */
.macro TRAP_STUB vector, has_error
    .globl trap_stub_\vector
trap_stub_\vector:
    .if \has_error == 0
    pushq $0
    .endif
    pushq $\vector
    jmp trap_common
.endm

TRAP_STUB 0, 0
TRAP_STUB 1, 0
TRAP_STUB 3, 0
TRAP_STUB 4, 0
TRAP_STUB 5, 0
TRAP_STUB 6, 0
TRAP_STUB 7, 0
TRAP_STUB 8, 1
TRAP_STUB 9, 0
TRAP_STUB 10, 1
TRAP_STUB 11, 1
TRAP_STUB 12, 1
TRAP_STUB 13, 1
TRAP_STUB 14, 1
TRAP_STUB 15, 0
TRAP_STUB 16, 0
TRAP_STUB 17, 1
TRAP_STUB 18, 0
TRAP_STUB 19, 0
TRAP_STUB 20, 0
TRAP_STUB 21, 1
TRAP_STUB 22, 0
TRAP_STUB 23, 0
TRAP_STUB 24, 0
TRAP_STUB 25, 0
TRAP_STUB 26, 0
TRAP_STUB 27, 0
TRAP_STUB 28, 0
TRAP_STUB 29, 1
TRAP_STUB 30, 1
TRAP_STUB 31, 0
TRAP_STUB 32, 0
TRAP_STUB 33, 0
TRAP_STUB 34, 0
TRAP_STUB 255, 0

/* NMIs come on a stack of their own (IST 2), since one can come anywhere: at the first
 * instruction of syscall_entry, on the application's stack, or on PVM with the frame
 * pushed at the top of the thread's kernel stack, over what lives there (kvm_pvm takes
 * some NMIs in the kernel for NMIs from user mode). One from user mode moves its frame to
 * the thread's kernel stack and goes on as any trap from there; one in the kernel stays
 * here (trap_dispatch only notes it). On PVM the frame's selectors may lie: the mode is
 * the rip's (kernel addresses are never user code), and the GS bases may be unswapped
 * (trap_dispatch repairs the frame). */
    .globl trap_stub_2
trap_stub_2:
    pushq $0
    pushq $2
    cmpb $0, g_pvm(%rip)
    je 3f
    testb $0x80, 23(%rsp)                 /* the rip's sign bit */
    jnz trap_common
    pushq %rax
    pushq %rcx
    pushq %rdx
    movl $0xc0000101, %ecx                /* GS base: the kernel's (a kernel address)? */
    rdmsr
    testl %edx, %edx
    js 4f
    swapgs
4:  popq %rdx
    jmp 5f
3:  testb $3, 24(%rsp)
    jz trap_common
    swapgs
    pushq %rax
    pushq %rcx
5:  movq %gs:PERCPU_KERNEL_RSP, %rax      /* vector, error and the frame go there */
    subq $56, %rax
    .irp i, 0,1,2,3,4,5,6
    movq (16 + 8 * \i)(%rsp), %rcx
    movq %rcx, (8 * \i)(%rax)
    .endr
    movq 8(%rsp), %rcx                    /* the interrupted %rax, below the frame */
    movq %rcx, -8(%rax)
    movq (%rsp), %rcx
    leaq -8(%rax), %rsp
    popq %rax
    jmp trap_from_user

trap_common:
    testb $3, 24(%rsp)                    /* cs of the interrupted context */
    jz 1f
    SWAPGS_FROM_USER
trap_from_user:
1:  PUSH_GPRS
    cld
    movq %rsp, %rdi
    call trap_dispatch
    POP_GPRS
    addq $16, %rsp
    testb $3, 8(%rsp)
    jz 2f
    IRET_TO_USER
2:  iretq

    .section .rodata
    .balign 8
    .globl trap_stub_table
trap_stub_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad trap_stub_\v
    .endr
    .globl timer_stub, reschedule_stub, tlb_flush_stub, spurious_stub
timer_stub:
    .quad trap_stub_32
reschedule_stub:
    .quad trap_stub_33
tlb_flush_stub:
    .quad trap_stub_34
spurious_stub:
    .quad trap_stub_255

/* enter_user(const TrapFrame*): load the frame and iret to user mode. */
    .text
    .globl enter_user_frame
enter_user_frame:
    movq %rdi, %rsp
    POP_GPRS
    addq $16, %rsp
    IRET_TO_USER

    .bss
    .balign 16
boot_stack:
    .skip 65536
    .globl boot_stack_top
boot_stack_top:

    .section .note.GNU-stack, "", @progbits

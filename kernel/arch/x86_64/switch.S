/* kernel/arch/x86_64/switch.S: switching kernel stacks between threads. */

    .text
/* context_switch(uint64_t* save_rsp, uint64_t next_rsp): saves the callee-saved registers
 * on this stack, records it, and resumes the thread whose stack is next_rsp. */
    .globl context_switch
context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* A new thread's first switch returns here, with its TrapFrame at the top of the stack:
 * thread_start finishes the switch (in C) and enters user mode with the frame. */
    .globl thread_first_entry
thread_first_entry:
    movq %rsp, %rdi
    call thread_start

/* An idle thread's first switch (the first CPU's; the others start on its stack). */
    .globl idle_first_entry
idle_first_entry:
    call idle_start

    .section .note.GNU-stack, "", @progbits

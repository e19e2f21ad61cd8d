# Adversarial syscall sites for the rewriter, one function each; rewriter_test.cpp checks
# what utx-rewrite makes of every one, on the bytes, and runs the program natively before
# and after rewriting. _start calls the functions that are safe to run and exits with a
# status that says which check failed (0: all right); the others are only ever read.
        .text
        .globl _start
        .type _start, @function
_start:
        xor     %ebx, %ebx              # failed checks, one bit each

        call    backward_simple         # getpid: a positive number
        test    %rax, %rax
        jg      1f
        or      $1, %ebx
1:
        call    syscall_is_target       # forward packing moves the cmp
        test    %rax, %rax
        jg      1f
        or      $2, %ebx
1:
        call    rip_relative_before     # writes "rip-relative lea\n" to stdout
        cmp     $17, %rax
        je      1f
        or      $4, %ebx
1:
        call    rip_relative_after      # stores getpid's result through %rip
        mov     result(%rip), %rcx
        cmp     %rax, %rcx
        je      1f
        or      $8, %ebx
1:
        mov     $0x1234, %edi
        call    red_zone                # a value kept below %rsp across the syscall
        cmp     $0x1234, %rax
        je      1f
        or      $16, %ebx
1:
        call    followed_by_branch
        cmp     $1, %rax
        je      1f
        or      $32, %ebx
1:
        call    two_sites
        test    %rax, %rax
        jg      1f
        or      $64, %ebx
1:
        xor     %edi, %edi
        call    jump_table              # case 0: rewritten although only the table reaches it
        test    %rax, %rax
        jg      1f
        or      $128, %ebx
1:
        mov     $1, %edi
        call    jump_table              # case 1: its syscall is a case label: left
        test    %rax, %rax
        jg      1f
        or      $256, %ebx
1:
        call    push_pop
        cmp     $7, %rax
        je      1f
        or      $512, %ebx
1:
        call    munmap_returns          # munmap(1, 4096): EINVAL
        cmp     $-22, %rax
        je      1f
        or      $1024, %ebx
1:
        call    flags_kept              # the carry flag set before the syscall survives it
        cmp     $1, %rax
        je      1f
        or      $2048, %ebx
1:
        call    target_no_room
        call    branch_after_target
        call    landing_pad
        call    pointer_in_data
        jmp     end_of_text

        .type backward_simple, @function
backward_simple:                        # mov + syscall: backward
        mov     $39, %eax
        syscall
        ret

        .type syscall_is_target, @function
syscall_is_target:                      # the syscall is a branch target: forward
        mov     $39, %eax
        jmp     1f
1:      syscall
        cmp     $-4095, %rax
        ret

        .type target_no_room, @function
target_no_room:                         # a branch target, then ret: left
        mov     $39, %eax
        jmp     1f
1:      syscall
        ret

        .type rip_relative_before, @function
rip_relative_before:                    # the lea moves into the trampoline
        mov     $1, %eax
        mov     $1, %edi
        mov     $17, %edx
        lea     message(%rip), %rsi
        syscall
        ret

        .type rip_relative_after, @function
rip_relative_after:                     # a branch target, then a RIP-relative store
        mov     $39, %eax
        jmp     1f
1:      syscall
        mov     %rax, result(%rip)
        ret

        .type red_zone, @function
red_zone:                               # the red zone survives the trampoline's call
        mov     %rdi, -8(%rsp)
        mov     $39, %eax
        mov     %rdi, -16(%rsp)
        syscall
        mov     -8(%rsp), %rax
        ret

        .type followed_by_branch, @function
followed_by_branch:                     # backward; the jns after it stays
        mov     $39, %eax
        syscall
        jns     1f
        xor     %eax, %eax
        ret
1:      mov     $1, %eax
        ret

        .type branch_after_target, @function
branch_after_target:                    # a branch target followed by a branch: left
        mov     $39, %eax
        jmp     1f
1:      syscall
        jmp     2f
2:      ret

        .type two_sites, @function
two_sites:                              # two ranges side by side
        mov     $39, %eax
        syscall
        mov     $39, %eax
        syscall
        ret

        .type push_pop, @function
push_pop:                               # a push moves along
        mov     $39, %eax
        push    $7
        syscall
        pop     %rax
        ret

        .type munmap_returns, @function
munmap_returns:                         # munmap that returns through the stack: rewritten
        mov     $1, %edi
        mov     $4096, %esi
        mov     $11, %eax
        syscall
        ret

        .type flags_kept, @function
flags_kept:                             # syscall keeps the flags; so must the trampoline
        mov     $39, %eax
        stc
        syscall
        setc    %al
        movzbl  %al, %eax
        ret

        .type landing_pad, @function
landing_pad:                            # the syscall is an exception landing pad: left
        .cfi_startproc
        .cfi_lsda 0x1b, .Llsda
        mov     $39, %eax
.Lpad:  syscall
        ret
        .cfi_endproc

        .type pointer_in_data, @function
pointer_in_data:                        # a pointer in .data names the syscall: left
        mov     $39, %eax
.Lpointed:
        syscall
        ret

        .type jump_table, @function
jump_table:
        lea     .Ltable(%rip), %rdx
        movslq  (%rdx,%rdi,4), %rcx
        add     %rdx, %rcx
        mov     $39, %eax
        jmp     *%rcx
.Lcase0:
        mov     $39, %eax
        syscall
        ret
.Lcase1:
        mov     $39, %eax
.Lcase1_syscall:
        syscall
        ret

        .type never_called, @function
never_called:                           # read only: what these do must not be run
        mov     $15, %eax               # rt_sigreturn: left
        syscall
        mov     $56, %eax               # clone: left
        syscall
        mov     $58, %eax               # vfork: left
        syscall
        mov     %rdi, %rax              # a number from the caller: left
        syscall
        mov     $20, %eax
        int     $0x80                   # the i386 ABI: left
        ret

        .type unmapself, @function
unmapself:                              # musl's __unmapself: both left
        mov     $11, %eax
        syscall
        xor     %rdi, %rdi
        mov     $60, %eax
        syscall

        ud2
.Lorphan:                               # no symbol, no path: found by the sweep only
        mov     $39, %eax
        syscall
        ret

        .type end_of_text, @function
end_of_text:                            # the last bytes of .text
        mov     %ebx, %edi
        mov     $231, %eax
        syscall

        .section .rodata
.Ltable:
        .long   .Lcase0 - .Ltable
        .long   .Lcase1_syscall - .Ltable
message:
        .ascii  "rip-relative lea\n"

        .section .gcc_except_table, "a", @progbits
.Llsda:
        .byte   0xff                    # landing pads relative to the function
        .byte   0xff                    # no type table
        .byte   0x01                    # call-site entries in uleb128
        .uleb128 .Lcall_sites_end - .Lcall_sites
.Lcall_sites:
        .uleb128 0                      # the whole function...
        .uleb128 .Lpad + 2 - landing_pad
        .uleb128 .Lpad - landing_pad    # ...lands at the syscall
        .uleb128 0
.Lcall_sites_end:

        .data
        .p2align 3
result:
        .quad   0
        .quad   .Lpointed

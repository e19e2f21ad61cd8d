# One function per syscall-number pattern; analyzer_test.cpp checks the values the
# analyzer recovers at the syscall site inside each function.
        .text
        .globl _start
_start:
        call    imm
        call    xor_zero
        call    copy_chain
        call    predecessor_block
        xor     %edi, %edi
        call    two_predecessors
        mov     $35, %edi
        call    wrapper
        mov     $24, %edi
        xor     %esi, %esi
        call    wrapper
        mov     $186, %edi
        call    outer_wrapper
        call    from_memory
        call    lea_offset
        call    cmov_either
        call    i386_abi
        call    low_byte
        lea     number(%rip), %rdi
        call    zero_test_taken
        lea     number(%rip), %rdi
        call    zero_test_fallthrough
        mov     $60, %eax
        xor     %edi, %edi
        syscall

        .type imm, @function
imm:    mov     $39, %eax               # getpid
        syscall
        ret

        .type xor_zero, @function
xor_zero:
        xor     %eax, %eax              # read
        syscall
        ret

        .type copy_chain, @function
copy_chain:
        mov     $1, %ecx                # write, via rcx -> rdx -> eax
        mov     %rcx, %rdx
        mov     %edx, %eax
        syscall
        ret

        .type predecessor_block, @function
predecessor_block:
        mov     $3, %eax                # close, set two blocks up
        test    %rdi, %rdi
        jne     1f
        add     $8, %rsi
1:      mov     %rsi, %rdx
        syscall
        ret

        .type two_predecessors, @function
two_predecessors:
        test    %rdi, %rdi
        je      1f
        mov     $2, %eax                # open
        jmp     2f
1:      mov     $257, %eax              # openat
2:      syscall
        ret

        # glibc syscall(): the number is the first argument.
        .type wrapper, @function
wrapper:
        mov     %rdi, %rax
        mov     %rsi, %rdi
        syscall
        ret

        # musl __syscall_cp style: the number passes through a second function.
        .type outer_wrapper, @function
outer_wrapper:
        mov     %rdi, %rsi
        jmp     inner_wrapper
        .type inner_wrapper, @function
inner_wrapper:
        mov     %rsi, %rax
        syscall
        ret

        .type from_memory, @function
from_memory:
        mov     number(%rip), %eax      # writable data: cannot be known statically
        syscall
        ret

        .type lea_offset, @function
lea_offset:
        mov     $10, %ecx
        lea     2(%rcx), %eax           # brk
        syscall
        ret

        .type cmov_either, @function
cmov_either:
        mov     $13, %eax               # rt_sigaction or rt_sigprocmask
        mov     $14, %edx
        test    %rdi, %rdi
        cmovne  %edx, %eax
        syscall
        ret

        .type i386_abi, @function
i386_abi:
        mov     $20, %eax
        int     $0x80
        ret

        .type low_byte, @function
low_byte:
        xor     %eax, %eax              # musl's clone: only al is set
        mov     $56, %al
        syscall
        ret

        .type zero_test_taken, @function
zero_test_taken:                        # musl's __stdio_read: rax is 0 where je lands
        mov     (%rdi), %rax
        test    %rax, %rax
        je      1f
        ret
1:      syscall                         # read
        ret

        .type zero_test_fallthrough, @function
zero_test_fallthrough:
        mov     (%rdi), %rax
        test    %rax, %rax
        jne     1f
        syscall                         # read
1:      ret

        .data
number: .long 39

# riscv64 counterpart of patterns_x86_64.S. The first half is assembled without the C
# extension, the second half with it, so both encodings are exercised.
        .text
        .globl _start
_start:
        call    imm
        call    zero
        call    copy_chain
        call    predecessor_block
        li      a0, 0
        call    two_predecessors
        li      a0, 172
        call    wrapper
        li      a0, 178
        call    wrapper
        call    from_memory
        call    lui_addiw
        call    zero_branch_taken
        call    zero_branch_fallthrough
        call    c_imm
        call    c_copy_chain
        call    c_two_predecessors
        li      a7, 93
        ecall

        .option push
        .option norvc
        .type imm, @function
imm:    li      a7, 172                 # getpid
        ecall
        ret

        .type zero, @function
zero:   mv      a7, zero                # io_setup (0)
        ecall
        ret

        .type copy_chain, @function
copy_chain:
        li      t0, 64                  # write, via t0 -> a1 -> a7
        mv      a1, t0
        addi    a7, a1, 0
        ecall
        ret

        .type predecessor_block, @function
predecessor_block:
        li      a7, 57                  # close, set two blocks up
        bnez    a0, 1f
        addi    a1, a1, 8
1:      mv      a2, a1
        ecall
        ret

        .type two_predecessors, @function
two_predecessors:
        beqz    a0, 1f
        li      a7, 62                  # lseek
        j       2f
1:      li      a7, 63                  # read
2:      ecall
        ret

        .type wrapper, @function
wrapper:
        mv      a7, a0
        mv      a0, a1
        ecall
        ret

        .type from_memory, @function
from_memory:
        la      t0, number
        ld      a7, 0(t0)
        ecall
        ret

        .type lui_addiw, @function
lui_addiw:
        lui     a7, 1
        addiw   a7, a7, -2048           # 2048
        addi    a7, a7, -1841           # 207
        ecall
        ret

        .type zero_branch_taken, @function
zero_branch_taken:
        la      t0, number
        ld      a7, 0(t0)
        beqz    a7, 1f                  # beq a7, zero
        ret
1:      ecall                           # io_setup (0)
        ret

        .type zero_branch_fallthrough, @function
zero_branch_fallthrough:
        la      t0, number
        ld      a7, 0(t0)
        bnez    a7, 1f
        ecall                           # io_setup (0)
1:      ret
        .option pop

        .option push
        .option rvc
        .type c_imm, @function
c_imm:  c.li    a7, 29                  # ioctl
        ecall
        ret

        .type c_copy_chain, @function
c_copy_chain:
        c.li    a5, 20
        c.addi  a5, 5                   # 25: fcntl
        c.mv    a7, a5
        ecall
        ret

        .type c_two_predecessors, @function
c_two_predecessors:
        c.beqz  a0, 1f
        c.li    a7, 23                  # dup
        c.j     2f
1:      c.li    a7, 24                  # dup3
2:      ecall
        ret
        .option pop

        .data
number: .dword 64

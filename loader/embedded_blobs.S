/* loader/embedded_blobs.S: the kernel and the boot ROM as read-only data in utx-run.
 * UTX_KERNEL_PATH and UTX_ROM_PATH are passed by CMake. */
    .section .rodata
    .balign 4096
    .globl utx_kernel_start, utx_kernel_end, utx_rom_start, utx_rom_end
utx_kernel_start:
    .incbin UTX_KERNEL_PATH
utx_kernel_end:
    .balign 16
utx_rom_start:
    .incbin UTX_ROM_PATH
utx_rom_end:
    .section .note.GNU-stack, "", @progbits

/* kernel/vdso/vdso_blob.S: the vDSO shared object (built by kernel/CMakeLists.txt from
 * kernel/vdso/image/) as read-only data of the kernel. UTX_VDSO_PATH is passed by CMake. */
    .section .rodata
    .balign 4096
    .globl utx_vdso_image_start, utx_vdso_image_end
utx_vdso_image_start:
    .incbin UTX_VDSO_PATH
utx_vdso_image_end:
    .section .note.GNU-stack, "", @progbits

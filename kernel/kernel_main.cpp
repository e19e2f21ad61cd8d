// kernel/kernel_main.cpp: from the VMM's hand-off to the application's first instruction.
#include "abi/boot_info.h"
#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/exec/elf_loader.h"
#include "kernel/fs/procfs.h"
#include "kernel/fs/vfs.h"
#include "kernel/ipc/family.h"
#include "kernel/lib/string.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/log.h"
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"
#include "kernel/platform/hypercall.h"
#include "kernel/process.h"
#include "kernel/random.h"
#include "kernel/sched/sched.h"
#include "kernel/time.h"

namespace utx::kernel {
void syscalls_init(bool trace);
namespace {

alignas(16) uint8_t g_kernel_stack[64 * 1024];

}  // namespace
}  // namespace utx::kernel

using namespace utx::kernel;

extern "C" [[noreturn]] void kernel_main(uint64_t boot_info_gpa) {
    const auto& info = *static_cast<const utx::abi::BootInfo*>(phys_to_virt(boot_info_gpa));
    g_pvm = info.flags & utx::abi::kBootFlagPvm;
    cpu_init(boot_cpu(), reinterpret_cast<uint64_t>(g_kernel_stack + sizeof g_kernel_stack));
    hypercall_cpu_init(boot_cpu());
    if (info.magic != utx::abi::kBootInfoMagic || info.version != utx::abi::kBootInfoVersion)
        panic("boot info has the wrong magic or version");
    // This CPU holds the kernel lock until the program's first instruction.
    kernel_lock();
    fpu_init();
    protection_init();
    // The family region at the top of RAM is not the frame allocator's.
    frames_init(info.family.gpa, page_up(info.root_image.gpa + info.root_image.size));
    family_init(info);
    time_init(info.tsc_khz);
    random_init(info.random);
    const bool trace = info.flags & utx::abi::kBootFlagTrace;
    process_init(reinterpret_cast<const char*>(info.exec_path), info.uid, info.gid, trace);
    sched_init(reinterpret_cast<uint64_t>(g_kernel_stack + sizeof g_kernel_stack));
    syscalls_init(trace);

    AddressSpace& as = current_address_space();
    if (!as.init(read_cr3())) panic("out of memory for the page tables");
    as.page_table().activate();
    apic_init(info.tsc_khz);
    set_wait_by_halting(info.flags & utx::abi::kBootFlagQemu);
    smp_start(info);

    vfs_init(static_cast<const uint8_t*>(phys_to_virt(info.root_image.gpa)), info.root_image.size,
             static_cast<const char*>(phys_to_virt(info.mounts.gpa)), info.mounts.size,
             info.mount_count, reinterpret_cast<const char*>(info.cwd));

    {
        // argv then envp strings: /proc/self/cmdline and environ.
        const char* strings = static_cast<const char*>(phys_to_virt(info.args.gpa));
        size_t args_len = 0;
        for (uint32_t i = 0; i < info.argc; ++i) args_len += strlen(strings + args_len) + 1;
        procfs_init(strings, args_len, info.args.size);
    }
    const char* exec_path = reinterpret_cast<const char*>(info.exec_path);
    // The program is the image's copy, even where a host mount now covers its directory.
    auto program = utx::minifs::resolve(vfs(), vfs_context(false), vfs()->root(), utx::minifs::Name(exec_path),
                                   utx::minifs::kFollowLast);
    if (!program.ok()) panic("%s: %s", exec_path, errno_name(-program.error()));
    ExecFile file{[](void* ctx, uint64_t offset, void* dst, size_t len) -> int64_t {
                      return vfs()->read(static_cast<utx::minifs::Inode*>(ctx), offset, dst, len);
                  },
                  *program, (*program)->size};
    ExecArgs args{static_cast<const char*>(phys_to_virt(info.args.gpa)), info.argc, info.envc,
                  exec_path, info.random};
    TrapFrame frame;
    int64_t rc = exec_load(as, file, args, frame);
    if (rc < 0) panic("cannot load the program: %s", errno_name(int(-rc)));
    enter_user(frame);
}

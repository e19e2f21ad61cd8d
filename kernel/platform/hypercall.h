// kernel/platform/hypercall.h: requests to the VMM (abi/hypercall.h).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "abi/hypercall.h"

namespace utx::kernel {

struct PerCpu;
// Gives `cpu` its request buffer (before it makes any request); false when memory is short.
bool hypercall_cpu_init(PerCpu& cpu);
// Sends `req` (in kernel memory) and waits for the VMM to complete it. Returns req.result.
int64_t hypercall(abi::HcRequest& req);
// Host I/O on the guest's stdio through the VMM; `buf` is any kernel-mapped range.
int64_t host_write(int fd, const void* buf, size_t len);

// A gather list of mapped buffers (kernel or present user pages) for one host readv/writev.
struct IoBuffer {
    uint64_t addr;
    uint64_t len;
};
// Moves as much of `bufs` as fits one request (kMaxIoSegments pages or runs); returns the
// bytes transferred or -errno, like readv/writev.
int64_t host_io(abi::HcOp op, int fd, const IoBuffer* bufs, size_t count);
// Any other request with one optional buffer; result as the VMM returns it.
int64_t host_request(abi::HcOp op, uint64_t a0, uint64_t a1, uint64_t a2, void* buf = nullptr,
                     size_t len = 0);
// A request with args[0..4] and up to three buffers (abi::HostFsOp's b1, b2, b3; null or
// empty ones are left out); args[5] is filled to say where each buffer's segments start.
// `out0` receives what the VMM leaves in args[0]. -ENAMETOOLONG when the buffers need more
// than kMaxIoSegments segments.
int64_t host_request_buffers(abi::HcOp op, const uint64_t (&args)[5], const IoBuffer (&bufs)[3],
                             uint64_t* out0 = nullptr);
// A request with args[0..4], one buffer `head` (b1; may be empty) and then the gather list
// `data` (b2) as far as kMaxIoSegments reach: a transfer may come out shorter, as a readv.
// args[5] tells where b2 starts; `out` receives what the VMM leaves in args[0] and args[1].
int64_t host_request_gather(abi::HcOp op, const uint64_t (&args)[5], IoBuffer head,
                            const IoBuffer* data, size_t count, uint64_t (&out)[2]);
// host_io with args[0..2] of the caller's choosing (args[0] is the fd in host_io).
int64_t host_io_args(abi::HcOp op, const uint64_t (&args)[3], const IoBuffer* bufs, size_t count);
// Our VMM starts vCPU `index` in long mode at `rip` with %rsp and %rdi as given (the QEMU
// backend has no such request: CPUs start there with INIT and STARTUP IPIs).
int64_t host_start_cpu(uint32_t index, uint64_t rip, uint64_t rsp, uint64_t rdi);
// kHcProcess: `op` with args[1..2]; what the VMM leaves in args[1] and args[2] goes to
// *out1 and *out2 when given.
int64_t host_process(abi::ProcOp op, uint64_t a1, uint64_t a2, uint64_t* out1 = nullptr,
                     uint64_t* out2 = nullptr, uint64_t* out3 = nullptr, uint64_t* out4 = nullptr);
[[noreturn]] void host_exit(int status, int signal, uint64_t fault_address, uint64_t rip);

}  // namespace utx::kernel

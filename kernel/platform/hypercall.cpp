#include "kernel/platform/hypercall.h"

#include "abi/boot_info.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/sched/sched.h"

namespace utx::kernel {
namespace {

abi::HcRequest g_boot_request;  // the first CPU's; the others' are in a page of their own

// The calling CPU's request: never shared, so CPUs may ask the VMM at the same time.
abi::HcRequest& cpu_request() { return *static_cast<abi::HcRequest*>(this_cpu().hypercall_request); }

// Appends a mapped buffer to the request's guest-physical segments, page by page; returns
// the bytes that fit. Segments before index `floor` belong to another buffer: never merged.
uint64_t add_segments(abi::HcRequest& req, uint64_t va, size_t len, uint32_t floor = 0) {
    uint32_t& n = req.nsegments;
    uint64_t added = 0;
    while (len) {
        uint64_t pa = virt_to_phys(va);
        uint64_t chunk = 4096 - (va & 4095);
        if (chunk > len) chunk = len;
        if (n > floor && req.segments[n - 1].gpa + req.segments[n - 1].len == pa) {
            req.segments[n - 1].len += chunk;
        } else if (n < abi::kMaxIoSegments) {
            req.segments[n++] = {pa, chunk};
        } else {
            break;
        }
        va += chunk;
        len -= chunk;
        added += chunk;
    }
    return added;
}

}  // namespace

namespace {

constexpr uint32_t kSpinsBeforeHalt = 2000;

// The VMM may take a while (under QEMU it serves the request in another process): after a
// short spin, wait halted where that gives the host core back (smp.h).
void wait_done(volatile uint32_t& done) {
    for (uint32_t i = 0; !done; ++i) {
        if (i < kSpinsBeforeHalt || !wait_by_halting()) cpu_relax();
        else halt_briefly();
    }
}

}  // namespace


bool hypercall_cpu_init(PerCpu& cpu) {
    static_assert(sizeof(abi::HcRequest) <= 4096);
    if (cpu.index == 0) {
        cpu.hypercall_request = &g_boot_request;
        return true;
    }
    const uint64_t page = frame_alloc();  // physically contiguous, as the VMM reads it
    cpu.hypercall_request = page ? phys_to_virt(page) : nullptr;
    return page != 0;
}

int64_t hypercall(abi::HcRequest& req) {
    const uint32_t vcpu = this_cpu().index;
    auto* mailbox = reinterpret_cast<volatile uint64_t*>(phys_to_virt(abi::kHypercallPageGpa)) +
                    vcpu;
    *mailbox = virt_to_phys(reinterpret_cast<uint64_t>(&req));
    req.done = 0;
    asm volatile("outb %b0, %w1" : : "a"(uint8_t(vcpu)), "Nd"(abi::kHypercallPort) : "memory");
    wait_done(req.done);
    asm volatile("" ::: "memory");
    if (halted_since_rearm()) sched_rearm_timer();
    return req.result;
}

int64_t host_io_args(abi::HcOp op, const uint64_t (&args)[3], const IoBuffer* bufs,
                     size_t count) {
    abi::HcRequest& req = cpu_request();
    req.op = op;
    for (int i = 0; i < 3; ++i) req.args[i] = args[i];
    req.args[5] = 0;
    req.nsegments = 0;
    for (size_t i = 0; i < count; ++i)
        if (add_segments(req, bufs[i].addr, bufs[i].len) < bufs[i].len) break;
    return hypercall(req);
}

int64_t host_io(abi::HcOp op, int fd, const IoBuffer* bufs, size_t count) {
    return host_io_args(op, {uint64_t(fd), 0, 0}, bufs, count);
}

int64_t host_request_buffers(abi::HcOp op, const uint64_t (&args)[5], const IoBuffer (&bufs)[3],
                             uint64_t* out0) {
    abi::HcRequest& req = cpu_request();
    req.op = op;
    for (int i = 0; i < 5; ++i) req.args[i] = args[i];
    req.nsegments = 0;
    uint32_t counts[3];
    for (int i = 0; i < 3; ++i) {
        const uint32_t before = req.nsegments;
        if (bufs[i].addr && bufs[i].len &&
            add_segments(req, bufs[i].addr, bufs[i].len, before) < bufs[i].len)
            return -ENAMETOOLONG;
        counts[i] = req.nsegments - before;
    }
    req.args[5] = counts[0] | counts[1] << 8;
    int64_t r = hypercall(req);
    if (out0) *out0 = req.args[0];
    return r;
}

int64_t host_request_gather(abi::HcOp op, const uint64_t (&args)[5], IoBuffer head,
                            const IoBuffer* data, size_t count, uint64_t (&out)[2]) {
    abi::HcRequest& req = cpu_request();
    req.op = op;
    for (int i = 0; i < 5; ++i) req.args[i] = args[i];
    req.nsegments = 0;
    if (head.len && add_segments(req, head.addr, head.len) < head.len) return -EFAULT;
    const uint32_t n1 = req.nsegments;
    for (size_t i = 0; i < count; ++i)
        if (add_segments(req, data[i].addr, data[i].len, n1) < data[i].len) break;
    req.args[5] = n1;
    const int64_t r = hypercall(req);
    out[0] = req.args[0];
    out[1] = req.args[1];
    return r;
}

int64_t host_write(int fd, const void* buf, size_t len) {
    IoBuffer b{reinterpret_cast<uint64_t>(buf), len};
    return host_io(abi::kHcWrite, fd, &b, 1);
}

int64_t host_request(abi::HcOp op, uint64_t a0, uint64_t a1, uint64_t a2, void* buf,
                     size_t len) {
    abi::HcRequest& req = cpu_request();
    req.op = op;
    req.args[0] = a0;
    req.args[1] = a1;
    req.args[2] = a2;
    req.nsegments = 0;
    if (buf && add_segments(req, reinterpret_cast<uint64_t>(buf), len) < len) return -EFAULT;
    return hypercall(req);
}

int64_t host_start_cpu(uint32_t index, uint64_t rip, uint64_t rsp, uint64_t rdi) {
    abi::HcRequest& req = cpu_request();
    req.op = abi::kHcStartCpu;
    req.nsegments = 0;
    req.args[0] = index;
    req.args[1] = rip;
    req.args[2] = rsp;
    req.args[3] = rdi;
    return hypercall(req);
}

int64_t host_process(abi::ProcOp op, uint64_t a1, uint64_t a2, uint64_t* out1, uint64_t* out2,
                     uint64_t* out3, uint64_t* out4) {
    abi::HcRequest& req = cpu_request();
    req.op = abi::kHcProcess;
    req.nsegments = 0;
    req.args[0] = op;
    req.args[1] = a1;
    req.args[2] = a2;
    const int64_t r = hypercall(req);
    // After a fork, this is the child's copy of the request (cpu_request() of the CPU that
    // asked, whatever this_cpu() has become since).
    if (out1) *out1 = req.args[1];
    if (out2) *out2 = req.args[2];
    if (out3) *out3 = req.args[3];
    if (out4) *out4 = req.args[4];
    return r;
}

void host_exit(int status, int signal, uint64_t fault_address, uint64_t rip) {
    abi::HcRequest& req = cpu_request();
    req.op = abi::kHcExit;
    req.nsegments = 0;
    req.args[0] = uint64_t(status);
    req.args[1] = uint64_t(signal);
    req.args[2] = fault_address;
    req.args[3] = rip;
    hypercall(req);
    for (;;) cpu_halt();
}

}  // namespace utx::kernel

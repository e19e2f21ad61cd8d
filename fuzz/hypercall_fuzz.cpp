// fuzz/hypercall_fuzz.cpp: the VMM's hypercall decoder (HypercallHandler::handle) and the
// host mounts behind kHcFs (HostFs over a scratch directory), as a hostile guest drives them.
//
// Guest RAM is 64 KiB with PROT_NONE pages on both sides, filled with input bytes. Each input
// then makes up to 8 requests: a vCPU (its mailbox, or none), a request address (aligned,
// misaligned, straddling the end of RAM, anywhere), and often a plausible request written
// there (a known op, segments inside, across and outside RAM, host-mount paths from a
// small set). Whatever happens:
//  - no crash, and no access outside guest RAM (ASan, the guard pages, and no -EFAULT: every
//    buffer the VMM hands the host kernel must be guest RAM);
//  - a served request has done == 1; a refused one ends the guest with a one-line message;
//  - the guest reaches no host fd but the stdio ones it was given (/dev/null here: the
//    handler's set_stdio) and its mount handles: the process's real stdin and stdout stay
//    untouched, and no fd is left open once the HostFs is gone.
// kHcPoll gets a zero timeout (a guest may legitimately ask the VMM to wait on its stdin;
// the fuzzer must not). kHcExit ends the guest; kHcStartCpu is refused (no vCPUs here), and
// so is kHcProcess's fork.
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "abi/boot_info.h"
#include "abi/hypercall.h"
#include "fuzz/fuzz_check.h"
#include "loader/guest_memory.h"
#include "loader/host_fs.h"
#include "loader/hypercalls.h"
#include "loader/tests/guarded_buffer.h"

using namespace utx;
using abi::HcRequest;

namespace {

constexpr uint64_t kRam = 0x10000;
constexpr uint64_t kPathGpa = 0x1000;  // two path strings, below the mailboxes
constexpr uint64_t kPath2Gpa = 0x1800;
constexpr uint64_t kRequestArea = 0x3000;  // requests and data above the mailboxes

const char* const kPaths[] = {
    "",
    ".",
    "..",
    "dir",
    "dir/f",
    "file",
    "link",
    "abs",
    "up",
    "fifo",
    "new",
    "dir/new",
    "dir/",
    "../../etc/passwd",
    "/etc/passwd",
    "/",
    "dir/../..",
    "x/y/z",
    "sub/deep",
    "file/x",
    "link/",
};

// The scratch tree the mounts share, made again for every input.
struct Scratch {
    std::string root;

    // In $TMPDIR (fuzz/run.sh's is in its build directory, emptied before every run), else
    // in /dev/shm, where fsync and big sparse files cost nothing.
    Scratch() {
        const char* tmpdir = getenv("TMPDIR");
        std::string base = tmpdir ? tmpdir : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        std::string tmpl = base + "/utx-fuzz-hc.XXXXXX";
        FUZZ_CHECK(mkdtemp(tmpl.data()) != nullptr);
        root = tmpl;
    }
    void remove() {
        clear();
        rmdir(root.c_str());
    }

    std::string at(const char* name) const { return root + "/" + name; }

    void make() {
        FUZZ_CHECK(mkdir(at("rw").c_str(), 0755) == 0 && mkdir(at("ro").c_str(), 0755) == 0);
        for (const char* top : {"rw", "ro"}) {
            const std::string d = at(top);
            FUZZ_CHECK(mkdir((d + "/dir").c_str(), 0755) == 0);
            FUZZ_CHECK(mkdir((d + "/sub").c_str(), 0700) == 0);
            FUZZ_CHECK(mkdir((d + "/sub/deep").c_str(), 0755) == 0);
            write_file(d + "/dir/f", "contents of f\n");
            write_file(d + "/file", "some file\n");
            FUZZ_CHECK(symlink("file", (d + "/link").c_str()) == 0);
            FUZZ_CHECK(symlink("/etc/passwd", (d + "/abs").c_str()) == 0);
            FUZZ_CHECK(symlink("../../..", (d + "/up").c_str()) == 0);
            FUZZ_CHECK(mkfifo((d + "/fifo").c_str(), 0644) == 0);
        }
        write_file(at("single"), "a mounted file\n");
    }

    static void write_file(const std::string& path, const char* text) {
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        FUZZ_CHECK(fd >= 0);
        FUZZ_CHECK(write(fd, text, strlen(text)) == ssize_t(strlen(text)));
        close(fd);
    }

    // Everything below root, whatever the guest made of the permissions.
    void clear() {
        nftw(
            root.c_str(),
            [](const char* p, const struct stat* st, int type, FTW*) {
                if (type == FTW_D || type == FTW_DNR) chmod(p, (st->st_mode & 07777) | 0700);
                return 0;
            },
            16, FTW_PHYS);
        nftw(
            root.c_str(),
            [](const char* p, const struct stat*, int type, FTW* f) {
                if (f->level == 0) return 0;
                if (type == FTW_DP)
                    rmdir(p);
                else
                    unlink(p);
                return 0;
            },
            16, FTW_PHYS | FTW_DEPTH);
    }
};

int open_fds() {
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    FUZZ_CHECK(d != nullptr);
    while (readdir(d)) ++n;
    closedir(d);
    return n;
}

struct Process {
    Scratch scratch;
    int null_fd;
    int stdout_probe;  // what the process's own stdout became: must stay empty

    Process() {
        // Our own stdin is a pipe holding one byte, our stdout an empty file: a handler that
        // reached them would consume the byte or grow the file.
        int p[2];
        FUZZ_CHECK(pipe2(p, O_CLOEXEC) == 0 && write(p[1], "x", 1) == 1);
        FUZZ_CHECK(dup2(p[0], 0) == 0);
        close(p[0]);
        close(p[1]);
        std::string probe = scratch.root + ".stdout";
        stdout_probe = open(probe.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FUZZ_CHECK(stdout_probe >= 0 && dup2(stdout_probe, 1) == 1);
        unlink(probe.c_str());
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        FUZZ_CHECK(null_fd >= 0);
    }

    // libFuzzer opens fds of its own between inputs (its symbolizer): compare within one.
    void check_untouched(int fds_before) {
        int pending = 0;
        FUZZ_CHECK(ioctl(0, FIONREAD, &pending) == 0 && pending == 1);
        struct stat st;
        FUZZ_CHECK(fstat(1, &st) == 0 && st.st_size == 0);
        FUZZ_CHECK(open_fds() == fds_before);
    }
};

Process& process() {
    // Never destroyed (libFuzzer may exit from anywhere); its scratch tree goes at exit.
    static Process* p = [] {
        auto* made = new Process;
        std::atexit([] { process().scratch.remove(); });
        return made;
    }();
    return *p;
}

const char* pick_path(FuzzedDataProvider& in) {
    return kPaths[in.ConsumeIntegralInRange<size_t>(0, sizeof kPaths / sizeof kPaths[0] - 1)];
}

// A segment: mostly inside RAM, sometimes at its edges or anywhere.
abi::IoSegment segment(FuzzedDataProvider& in) {
    const uint64_t len = in.ConsumeIntegralInRange<uint64_t>(0, 0x2000);
    switch (in.ConsumeIntegralInRange(0, 10)) {
        case 0:
            return {kRam - len, len};
        case 1:
            return {kRam, 0};
        case 2:
            return {kRam - len + 1, len};
        case 3:
            return {in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint64_t>()};
        case 4:
            return {~0ULL - in.ConsumeIntegralInRange<uint64_t>(0, 16), len + 32};
        case 5:
            return {in.ConsumeIntegralInRange<uint64_t>(0, kRam),
                    ~0ULL - in.ConsumeIntegralInRange<uint64_t>(0, kRam)};
        default:
            return {in.ConsumeIntegralInRange<uint64_t>(kRequestArea, kRam - len), len};
    }
}

void put_path(loader::testing::GuardedBuffer& ram, uint64_t gpa, const char* path) {
    std::memcpy(ram.data() + gpa, path, strlen(path) + 1);
}

// A request that reaches the handler's interesting parts: a known op and arguments that fit it.
void plausible_request(FuzzedDataProvider& in, loader::testing::GuardedBuffer& ram, HcRequest& r,
                       uint64_t last_handle) {
    static const uint32_t kOps[] = {
        abi::kHcWrite,    abi::kHcRead,  abi::kHcClock, abi::kHcPanic, abi::kHcPoll,
        abi::kHcFstat,    abi::kHcIoctl, abi::kHcLseek, abi::kHcFcntl, abi::kHcFs,
        abi::kHcFs,       abi::kHcFs,    abi::kHcFs,    abi::kHcFs,    abi::kHcTraceMissing,
        abi::kHcStartCpu, abi::kHcProcess, abi::kHcExit};
    const size_t which = in.ConsumeIntegralInRange<size_t>(0, sizeof kOps / sizeof kOps[0]);
    // kHcExit rarely, so that most inputs go on; the one past the end is any op at all.
    r.op = which == sizeof kOps / sizeof kOps[0] ? in.ConsumeIntegral<uint32_t>() : kOps[which];
    if (r.op == abi::kHcExit && in.ConsumeBool()) r.op = abi::kHcFs;
    for (uint64_t& a : r.args)
        a = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 8)
                             : in.ConsumeIntegral<uint64_t>();
    r.nsegments = in.ConsumeIntegralInRange<uint32_t>(0, 4);
    if (in.ConsumeIntegralInRange(0, 31) == 0)
        r.nsegments = in.ConsumeBool() ? abi::kMaxIoSegments + 1 : in.ConsumeIntegral<uint32_t>();
    const uint32_t n = std::min(r.nsegments, abi::kMaxIoSegments);
    for (uint32_t i = 0; i < n; ++i) r.segments[i] = segment(in);

    // The one result buffer some ops take, mostly of the size they want.
    auto one_buffer = [&](uint64_t want) {
        if (in.ConsumeIntegralInRange(0, 7) == 0) return;
        const uint64_t len = in.ConsumeIntegralInRange(0, 7) ? want : want + 1;
        r.nsegments = 1;
        r.segments[0] = {in.ConsumeIntegralInRange<uint64_t>(kRequestArea, kRam - len), len};
    };
    switch (r.op) {
        case abi::kHcIoctl: {
            static const uint64_t kIoctls[] = {TCGETS, TIOCGWINSZ, FIONREAD, 0};
            static const uint64_t kSizes[] = {abi::kKernelTermiosSize, sizeof(winsize), sizeof(int),
                                              8};
            const int k = in.ConsumeIntegralInRange(0, 3);
            r.args[1] = kIoctls[k];
            one_buffer(kSizes[k]);
            break;
        }
        case abi::kHcFstat:
            one_buffer(sizeof(struct stat));
            break;
        case abi::kHcTraceMissing: {
            const char* path = pick_path(in);
            put_path(ram, kPathGpa, path);
            r.nsegments = 1;
            r.segments[0] = {kPathGpa, strlen(path) + in.ConsumeIntegralInRange(0, 1)};
            break;
        }
        case abi::kHcFcntl:
            r.args[1] = in.ConsumeBool() ? F_GETFL : r.args[1];
            break;
        case abi::kHcPoll:
            break;  // the timeout is zeroed for every request below
        case abi::kHcFs: {
            // args[0] an op, args[1] a mount (0 rw dir, 1 ro dir, 2 file) or a handle.
            r.args[0] = in.ConsumeIntegralInRange<uint64_t>(abi::kFsOpen, abi::kFsFstatfs + 1);
            r.args[1] = in.ConsumeIntegralInRange<uint64_t>(0, 4);
            const bool on_handle = (r.args[0] >= abi::kFsClose && r.args[0] <= abi::kFsFutimens) ||
                                   r.args[0] == abi::kFsFstatfs;
            if (on_handle && in.ConsumeIntegralInRange(0, 3) != 0) r.args[1] = last_handle;
            if (r.args[0] == abi::kFsOpen) {
                static const uint64_t kFlags[] = {
                    O_RDONLY,           O_RDWR | O_CREAT, O_WRONLY | O_TRUNC,
                    O_DIRECTORY,        O_PATH,           O_RDWR | O_CREAT | O_EXCL,
                    O_TMPFILE | O_RDWR, O_NOFOLLOW,       O_APPEND | O_WRONLY};
                r.args[2] = kFlags[in.ConsumeIntegralInRange<size_t>(0, 8)] |
                            (in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint32_t>());
                r.args[3] = in.ConsumeIntegralInRange<uint64_t>(0, 07777);
            }
            // b1 (and b2) path strings, b3 a result buffer.
            const char* p1 = pick_path(in);
            const char* p2 = pick_path(in);
            put_path(ram, kPathGpa, p1);
            put_path(ram, kPath2Gpa, p2);
            uint32_t n1 = 1, n2 = in.ConsumeIntegralInRange<uint32_t>(0, 1);
            r.segments[0] = {kPathGpa, strlen(p1) + (in.ConsumeIntegralInRange(0, 15) ? 1 : 0)};
            if (n2) r.segments[1] = {kPath2Gpa, strlen(p2) + 1};
            r.nsegments =
                std::max(r.nsegments, n1 + n2 + in.ConsumeIntegralInRange<uint32_t>(0, 1));
            if (r.nsegments > n1 + n2 && r.nsegments <= abi::kMaxIoSegments)
                r.segments[n1 + n2] = {
                    in.ConsumeIntegralInRange<uint64_t>(kRequestArea, kRam - 0x400),
                    in.ConsumeIntegralInRange<uint64_t>(0, 0x400)};
            r.args[5] =
                in.ConsumeIntegralInRange(0, 15) ? (n1 | n2 << 8) : in.ConsumeIntegral<uint16_t>();
            break;
        }
        default:
            break;
    }
}

uint64_t request_gpa(FuzzedDataProvider& in) {
    constexpr uint64_t kSize = sizeof(HcRequest);
    switch (in.ConsumeIntegralInRange(0, 9)) {
        case 0:
            return in.ConsumeIntegral<uint64_t>();
        case 1:
            return kRam - kSize + 8 * in.ConsumeIntegralInRange<uint64_t>(1, 8);
        case 2:
            return in.ConsumeIntegralInRange<uint64_t>(0, kRam);  // any alignment
        case 3:
            return abi::kHypercallPageGpa;  // over the mailboxes themselves
        default:
            return in.ConsumeIntegralInRange<uint64_t>(kRequestArea / 8, (kRam - kSize) / 8) * 8;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Process& proc = process();
    const int fds_before = open_fds();
    FuzzedDataProvider in(data, size);
    static loader::testing::GuardedBuffer ram(kRam);
    std::memset(ram.data(), 0, kRam);
    const std::vector<uint8_t> fill =
        in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 2048));
    const uint64_t fill_at = in.ConsumeIntegralInRange<uint64_t>(0, kRam - fill.size());
    if (!fill.empty()) std::memcpy(ram.data() + fill_at, fill.data(), fill.size());

    proc.scratch.make();
    {
        loader::HostFs host_fs;
        std::string error;
        const bool single_ro = in.ConsumeBool();
        FUZZ_CHECK(host_fs.add({proc.scratch.at("rw"), "/mnt/rw", false}, error));
        FUZZ_CHECK(host_fs.add({proc.scratch.at("ro"), "/mnt/ro", true}, error));
        FUZZ_CHECK(host_fs.add({proc.scratch.at("single"), "/mnt/single", single_ro}, error));
        const loader::GuestMemory mem = loader::GuestMemory::wrap(ram.span());
        loader::HypercallHandler handler(mem, &host_fs, /*trace=*/in.ConsumeBool());
        handler.set_stdio({proc.null_fd, proc.null_fd, proc.null_fd});
        // A process table with this process alone (fork stays off: it needs a backend),
        // so that wait and kill go through it; nothing in it names another host process.
        static loader::Family* family = loader::Family::create(8);
        FUZZ_CHECK(family != nullptr);
        handler.set_family(family, 1);

        uint64_t last_handle = 0;  // what the last kFsOpen returned: fd ops mostly use it
        const int requests = in.ConsumeIntegralInRange(1, 8);
        for (int i = 0; i < requests && !handler.finished(); ++i) {
            const uint32_t vcpu = in.ConsumeIntegralInRange(0, 15) ? in.ConsumeIntegralInRange(0, 3)
                                                                   : in.ConsumeIntegral<uint32_t>();
            const uint64_t gpa = request_gpa(in);
            const uint64_t mailbox = abi::kHypercallPageGpa + 8ULL * vcpu;
            if (vcpu < 512) std::memcpy(ram.data() + mailbox, &gpa, 8);
            const bool fits = gpa % 8 == 0 && gpa <= kRam - sizeof(HcRequest);
            HcRequest* req = fits ? reinterpret_cast<HcRequest*>(ram.data() + gpa) : nullptr;
            if (req && in.ConsumeIntegralInRange(0, 7) != 0) {
                HcRequest r{};
                plausible_request(in, ram, r, last_handle);
                std::memcpy(req, &r, sizeof r);
                if (vcpu < 512) std::memcpy(ram.data() + mailbox, &gpa, 8);  // over the paths
            }
            if (req && req->op == abi::kHcPoll) req->args[2] = 0;
            const uint32_t op = req ? req->op : 0;
            const uint64_t fs_op = req ? req->args[0] : 0;
            if (req) req->done = 0;

            handler.handle(vcpu);

            if (!handler.finished()) {
                FUZZ_CHECK(req != nullptr && vcpu < 512);
                FUZZ_CHECK(req->done == 1);
                FUZZ_CHECK(req->result != -EFAULT);
                if (op == abi::kHcFs && fs_op == abi::kFsOpen && req->result >= 0)
                    last_handle = uint64_t(req->result);
            } else if (handler.exit().kind == loader::GuestExit::Kind::Panicked &&
                       op != abi::kHcPanic) {
                fuzz::check_one_line(handler.exit().message);
            }
        }
    }
    proc.scratch.clear();
    proc.check_untouched(fds_before);
    return 0;
}

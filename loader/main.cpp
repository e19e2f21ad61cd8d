// loader/main.cpp: utx-run, a thin CLI over the loader library.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "abi/boot_info.h"
#include "binary-analyzer/error.hpp"
#include "loader/backend.h"
#include "loader/boot_image.h"
#include "loader/elf_check.h"
#include "loader/embedded.h"
#include "loader/family.h"
#include "loader/host_events.h"
#include "loader/host_fs.h"
#include "loader/host_net.h"
#include "loader/options.h"
#include "loader/root_image.h"
#include "loader/unique_fd.h"
#include "rewriter/rewriter.hpp"

extern char** environ;

namespace {

using namespace utx::loader;

constexpr int kExitRunnerError = 125;
constexpr int kExitNotExecutable = 126;
constexpr int kExitNotFound = 127;

// One line, whatever the message holds: paths from the command line and a guest's panic
// text may hold newlines and other control characters.
int fail(const std::string& message, int status = kExitRunnerError) {
    std::string line = message;
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    for (char& c : line) {
        if (c == '\n' || c == '\t')
            c = ' ';
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    }
    std::fprintf(stderr, "utx-run: %s\n", line.c_str());
    return status;
}

// Reads the whole program file; sets `status` to the exit status on failure.
bool read_program(const std::string& path, std::vector<uint8_t>& bytes, uint32_t& mode,
                  std::string& error, int& status) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    status = kExitNotExecutable;
    if (!fd) {
        if (errno == ENOENT) status = kExitNotFound;
        error = path + ": " + std::strerror(errno);
        return false;
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        error = path + ": not a regular file";
        return false;
    }
    mode = st.st_mode & 07777;
    if (st.st_size > (1LL << 30)) {
        error = path + ": larger than 1 GiB";
        return false;
    }
    bytes.resize(size_t(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
            error = path + ": read error: " + (n < 0 ? std::strerror(errno) : "short file");
            return false;
        }
        done += size_t(n);
    }
    return true;
}

std::vector<std::string> build_environment(const Options& o) {
    std::vector<std::string> env;
    if (!o.clear_env)
        for (char** e = environ; *e; ++e) env.emplace_back(*e);
    for (const auto& extra : o.extra_env) {
        std::string name = extra.substr(0, extra.find('=') + 1);
        std::erase_if(env, [&](const std::string& e) { return e.starts_with(name); });
        env.push_back(extra);
    }
    return env;
}

std::string signal_description(int sig) {
    const char* d = strsignal(sig);
    return d ? d : "killed by signal " + std::to_string(sig);
}

// What the end of the guest needs after the backend returns, in the first process and in
// every process forked from it (the backends call child_done there).
const Options* g_options;
HypercallHandler* g_handler;
HostNet* g_host_net;

// utx-run's exit status for how the guest ended, with the one-line reports.
int exit_status(bool started, const std::string& error) {
    if (!started) return fail(error);
    const bool first = g_handler->pid() == 1;
    const GuestExit& exit = g_handler->exit();
    switch (exit.kind) {
        case GuestExit::Kind::Exited:
            return exit.status;
        case GuestExit::Kind::Killed:
            // Faults of the first process get the one-line report; a signal sent to the
            // program (kill, raise, abort, a closed pipe) ends it silently, as under a
            // shell, and so does anything in a child (its parent reports it, if anyone),
            // unless --trace asks for every process's end.
            if (exit.rip != 0 && (first || g_options->trace)) {
                const std::string who = first ? g_options->program
                                              : "pid " + std::to_string(g_handler->pid());
                std::fprintf(stderr, "utx-run: %s: %s (signal %d) at address 0x%lx, rip 0x%lx\n",
                             who.c_str(), signal_description(exit.status).c_str(),
                             exit.status, (unsigned long)exit.fault_address,
                             (unsigned long)exit.rip);
            }
            return 128 + exit.status;
        case GuestExit::Kind::Panicked:
        case GuestExit::Kind::Running:
            return fail(g_options->program + ": " + exit.message);
    }
    return kExitRunnerError;
}

// Records the end in the process tree. The first process's end is the end of the pid
// namespace: the others are killed, and utx-run waits for all of them.
int settle(bool started, const std::string& error) {
    const int status = exit_status(started, error);
    Family* family = g_handler->family();
    if (!family) return status;
    const GuestExit& exit = g_handler->exit();
    const int wait_status = started && exit.kind == GuestExit::Kind::Killed ? exit.status & 0x7f
                                                                            : (status & 0xff) << 8;
    if (g_handler->pid() != 1) {
        // The parent hears of the end now rather than at this process's own end, which
        // waits for the VM's teardown; what the guest wrote is out before.
        std::fflush(nullptr);
        if (const pid_t parent = family->exited(g_handler->pid(), wait_status,
                                                g_handler->self_usage()))
            kill(parent, SIGCHLD);
        return status;
    }
    static pid_t hosts[kMaxFamily];
    const int n = family->running_hosts(1, hosts, int(kMaxFamily));
    for (int i = 0; i < n; ++i) kill(hosts[i], SIGKILL);
    while (waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
    }
    return status;
}

// A forked child, before its VM runs: the network's event thread is the parent's, so the
// child gets one of its own over the sockets it inherited.
bool child_start(std::string& error) { return g_host_net->restart_after_fork(error); }

// A forked child's end: no destructors or atexit handlers, which belong to the parent's
// threads and state (whatever they held when the process forked stays held here).
[[noreturn]] void child_done(bool started, const std::string& error) {
    _exit(settle(started, error));  // settle flushes the output before telling the parent
}

}  // namespace

namespace utx::loader {

uint64_t host_tsc_khz() {
    timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
    uint64_t c0 = __rdtsc();
    do {
        clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1'000'000'000L + (t1.tv_nsec - t0.tv_nsec) < 1'000'000);
    uint64_t c1 = __rdtsc();
    int64_t ns = (t1.tv_sec - t0.tv_sec) * 1'000'000'000L + (t1.tv_nsec - t0.tv_nsec);
    return (c1 - c0) * 1'000'000 / uint64_t(ns);
}

}  // namespace utx::loader

int main(int argc, char** argv) {
    std::string error;
    auto options = parse_options(argc, argv, error);
    if (!options) return fail(error, 2);
    if (options->help) {
        std::fputs(usage_text(), stdout);
        return 0;
    }
    if (options->version) {
        std::puts("utx-run 0.1");
        return 0;
    }
    if (options->which_backend) {
        // What --backend auto picks here, for scripts and tests that must agree with it.
        std::string why;
        if (kvm_by_default(why)) std::puts("kvm");
        else std::printf("qemu: %s\n", why.c_str());
        return 0;
    }

    std::vector<uint8_t> program;
    int status;
    uint32_t program_mode = 0755;
    if (!read_program(options->program, program, program_mode, error, status))
        return fail(error, status);
    ElfSummary summary;
    if (!check_elf(program, summary, error))
        return fail(options->program + ": " + error, kExitNotExecutable);
    if (summary.arch != ElfArch::X86_64)
        return fail(options->program + ": riscv64 programs are not supported yet",
                    kExitNotExecutable);

    if (options->rewrite) {
        // As utx-rewrite would write it: the sites become calls through the slot, which
        // leads to the `syscall; ret` stub until the kernel fills it.
        try {
            utx::rewrite::Rewritten rewritten =
                utx::rewrite::rewrite_program(options->program, std::move(program));
            if (options->trace)
                std::fprintf(stderr, "utx-run: --rewrite: %s\n",
                             rewritten.report.already_rewritten
                                 ? "already rewritten"
                                 : utx::rewrite::summary(rewritten.report).c_str());
            program = std::move(rewritten.bytes);
        } catch (const utx::analyze::InputError& e) {
            return fail(e.file() + ": " + e.what(), kExitNotExecutable);
        }
    }

    HostFs host_fs;
    std::vector<MountPoint> mount_points;
    for (const auto& text : options->mounts) {
        MountSpec spec;
        if (!parse_mount_spec(text, spec, error)) return fail(error, 2);
        if (!host_fs.add(spec, error)) return fail(error, 2);
        mount_points.push_back({spec.guest, host_fs.is_directory(host_fs.size() - 1)});
    }

    bool use_kvm = false;
    if (options->backend != BackendChoice::Qemu) {
        std::string why;
        use_kvm = options->backend == BackendChoice::Kvm ? kvm_available(why)
                                                         : kvm_by_default(why);
        if (!use_kvm && options->backend == BackendChoice::Kvm)
            return fail("--backend kvm: " + why, 125);
        if (!use_kvm)
            std::fprintf(stderr, "utx-run: notice: %s; using the QEMU backend (slower)\n",
                         why.c_str());
    }
    const bool pvm = use_kvm && kvm_is_pvm();
    // PVM runs the kernel natively only on pages the application could reach too.
    if (pvm && options->isolate)
        return fail("--isolate: not on PVM (kvm_pvm) yet, where the kernel's pages must be "
                    "user pages; use --backend qemu",
                    2);

    const uint64_t family_size = family_region_size(options->memory);
    auto memory = GuestMemory::create(options->memory + family_size,
                                      use_kvm ? GuestMemory::Backing::PrivateAnonymous
                                              : GuestMemory::Backing::SharedMemfd,
                                      family_size);
    if (!memory) return fail(std::string("cannot allocate guest memory: ") + std::strerror(errno));

    // One vCPU per host core under KVM. Under QEMU (TCG) one vCPU unless -c says more:
    // emulated vCPUs that wait for each other (the kernel lock, the VMM) compete with the
    // VMM for the host's cores, and on small hosts a second vCPU made thread-heavy programs
    // several times slower, not faster.
    uint32_t cpus = options->cpus;
    if (!cpus && use_kvm) {
        const long online = sysconf(_SC_NPROCESSORS_ONLN);
        cpus = online < 1 ? 1 : online > long(kMaxCpus) ? kMaxCpus : uint32_t(online);
    }
    if (!cpus) cpus = 1;

    char resolved[PATH_MAX];
    RootImageRequest root;
    root.vcpus = cpus;
    root.exec_path = realpath(options->program.c_str(), resolved) ? resolved : options->program;
    root.program = program;
    root.program_mode = program_mode;
    root.uid = getuid();
    root.gid = getgid();
    for (const auto& text : options->copies) {
        CopySpec spec;
        if (!parse_copy_spec(text, spec, error)) return fail(error, 2);
        root.copies.push_back(spec);
    }
    root.mount_points = mount_points;
    std::vector<uint8_t> root_image;
    if (!build_root_image(root, root_image, error)) return fail(error);

    BootRequest req;
    req.vcpus = cpus;
    req.family_size = family_size;
    req.kernel_elf = embedded_kernel();
    req.root_image = root_image;
    req.exec_path = root.exec_path;
    req.cwd = options->workdir;
    req.argv.push_back(options->program);
    req.argv.insert(req.argv.end(), options->args.begin(), options->args.end());
    req.envp = build_environment(*options);
    for (size_t i = 0; i < host_fs.size(); ++i)
        req.mounts.push_back((host_fs.read_only(i) ? "r" : "w") + host_fs.guest_path(i));
    req.flags = (options->isolate ? utx::abi::kBootFlagIsolate : 0) |
                (use_kvm ? 0 : utx::abi::kBootFlagQemu) |
                (pvm ? utx::abi::kBootFlagPvm : 0) |
                (options->trace ? utx::abi::kBootFlagTrace : 0);
    req.tsc_khz = host_tsc_khz();
    BootLayout layout;
    if (!build_boot_image(*memory, req, layout, error)) return fail(error);

    // A closed stdout must reach the guest as EPIPE, not kill utx-run.
    signal(SIGPIPE, SIG_IGN);
    HostNet host_net(*memory, options->net);
    if (!host_net.start(host_events_request_nmi, error)) return fail(error);
    HypercallHandler handler(*memory, &host_fs, options->trace, &host_net);
    g_options = &*options;
    g_handler = &handler;
    g_host_net = &host_net;
    RunConfig config;
    config.trace = options->trace;
    config.vcpus = cpus;
    // The process tree's table (groups, sessions, the other processes: both backends fork).
    // Orphaned VMMs come back here as orphans come back to pid 1.
    Family* family = Family::create(options->pids);
    if (!family) return fail(std::string("cannot map the process table: ") + std::strerror(errno));
    handler.set_family(family, 1);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    config.child_start = child_start;
    config.child_done = child_done;
    bool started = use_kvm ? run_kvm(*memory, layout, config, handler, error)
                           : run_qemu(*memory, layout, config, handler, error);
    host_net.stop();
    if (started && (options->stats || options->trace)) {  // --trace's summary ends with the exits
        std::fprintf(stderr,
                     "utx-run: stats: %llu hypercalls, %llu NMIs (%llu asked for by the "
                     "network, %llu of them on a second look; %llu readiness reports)",
                     (unsigned long long)handler.hypercall_count(),
                     (unsigned long long)host_events_nmi_count(),
                     (unsigned long long)host_net.wakeups(), (unsigned long long)host_net.rechecks(),
                     (unsigned long long)host_net.batches());
        if (use_kvm)
            std::fprintf(stderr, ", %llu KVM exits", (unsigned long long)handler.exit_count());
        std::fputc('\n', stderr);
    }
    return settle(started, error);
}

// loader/qemu_backend.cpp: runs the prepared guest under qemu-system-x86_64 when KVM is
// missing. QEMU maps the same memfd as guest RAM and boots our ROM (boot-rom/rom.S), which
// enters long mode and jumps to the kernel; the guest's hypercall doorbell (isa-debugcon on
// abi::kHypercallPort) reaches us on a socket, and we serve the request in the shared RAM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include "loader/strprintf.h"
#include <span>
#include <string>
#include <vector>

#include "abi/hypercall.h"
#include "loader/backend.h"
#include "loader/embedded.h"
#include "loader/host_events.h"
#include "loader/unique_fd.h"


namespace utx::loader {
namespace {

std::string errno_text() { return std::strerror(errno); }

UniqueFd make_rom_fd(std::string& error) {
    UniqueFd fd(memfd_create("utx-boot-rom", 0));
    auto rom = embedded_boot_rom();
    if (!fd || write(fd.get(), rom.data(), rom.size()) != ssize_t(rom.size())) {
        error = "cannot prepare the boot ROM: " + errno_text();
        return UniqueFd();
    }
    return fd;
}

}  // namespace

bool run_qemu(GuestMemory& mem, const BootLayout&, const RunConfig& config,
              HypercallHandler& handler, std::string& error) {
    if (mem.memfd() < 0) return error = "QEMU backend needs shared guest memory", false;
    UniqueFd rom = make_rom_fd(error);
    if (!rom) return false;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return error = "socketpair: " + errno_text(), false;
    UniqueFd doorbell(sv[0]), qemu_end(sv[1]);
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) return error = "pipe: " + errno_text(), false;
    UniqueFd err_read(errpipe[0]), err_write(errpipe[1]);
    // QEMU's monitor (QMP), to raise an NMI in the guest for a signal sent to utx-run.
    int mon[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, mon) != 0)
        return error = "socketpair: " + errno_text(), false;
    UniqueFd monitor(mon[0]), qemu_monitor(mon[1]);
    int wake[2];
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return error = "pipe: " + errno_text(), false;
    UniqueFd wake_read(wake[0]), wake_write(wake[1]);

    // The child sees these three at fixed numbers 3, 4 and 5.
    const std::string mib = std::to_string(mem.size() >> 20) + "M";
    std::vector<std::string> args = {
        "qemu-system-x86_64",
        "-machine",
        "microvm,x-option-roms=off,pit=off,pic=off,rtc=off,isa-serial=off,acpi=off,"
        "memory-backend=ram",
        "-object",
        "memory-backend-file,id=ram,size=" + mib + ",mem-path=/proc/self/fd/3,share=on",
        "-m", mib, "-cpu", "max", "-smp", std::to_string(config.vcpus),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-bios", "/proc/self/fd/4",
        "-chardev", "socket,id=hc,fd=5",
        "-device", "isa-debugcon,iobase=" + std::to_string(abi::kHypercallPort) + ",chardev=hc",
        "-chardev", "socket,id=mon,fd=6", "-mon", "chardev=mon,mode=control",
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    // QEMU runs in a process group of its own, so that Ctrl-C on the terminal reaches
    // utx-run only (which passes it to the guest), and dies with utx-run, however that ends.
    int status_pipe[2];  // the child's exec error, if any
    if (pipe2(status_pipe, O_CLOEXEC) != 0) return error = "pipe: " + errno_text(), false;
    UniqueFd status_read(status_pipe[0]), status_write(status_pipe[1]);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return error = "fork: " + errno_text(), false;
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int null_in = open("/dev/null", O_RDONLY), null_out = open("/dev/null", O_WRONLY);
        const int from[] = {null_in, null_out, err_write.get(), mem.memfd(), rom.get(),
                            qemu_end.get(), qemu_monitor.get()};
        // Above every target number first, so that no dup2 overwrites a source still needed.
        int moved[7];
        for (int i = 0; i < 7; ++i) moved[i] = fcntl(from[i], F_DUPFD, 16);
        for (int i = 0; i < 7; ++i) dup2(moved[i], i);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE})
            signal(sig, SIG_DFL);
        execvp("qemu-system-x86_64", argv.data());
        int e = errno;
        (void)!write(status_write.get(), &e, sizeof e);
        _exit(127);
    }
    status_write.reset();
    int exec_errno = 0;
    if (read(status_read.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
        waitpid(pid, nullptr, 0);
        error = exec_errno == ENOENT ? "qemu-system-x86_64 is not installed (apt-get install "
                                       "qemu-system-x86)"
                                     : "cannot start qemu-system-x86_64: " +
                                           std::string(strerror(exec_errno));
        return false;
    }
    qemu_end.reset();
    qemu_monitor.reset();
    err_write.reset();
    // QMP wants its capabilities negotiated before any command; QEMU reads this once ready.
    const char hello[] = "{\"execute\":\"qmp_capabilities\"}\n";
    (void)!write(monitor.get(), hello, sizeof hello - 1);
    host_events_install(wake_write.get(), nullptr);

    std::string qemu_stderr;
    bool qemu_gone = false;
    while (!handler.finished() && !qemu_gone) {
        if (host_events_service(mem)) {
            const char nmi[] = "{\"execute\":\"inject-nmi\"}\n";
            (void)!write(monitor.get(), nmi, sizeof nmi - 1);
            host_events_count_nmi();
        }
        pollfd fds[4] = {{doorbell.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0},
                         {wake_read.get(), POLLIN, 0}, {monitor ? monitor.get() : -1, POLLIN, 0}};
        if (poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            handler.fail("poll: " + errno_text());
            break;
        }
        char drain[4096];
        if (fds[2].revents & POLLIN) (void)!read(wake_read.get(), drain, sizeof drain);
        if (fds[3].revents & POLLIN) (void)!read(monitor.get(), drain, sizeof drain);  // QMP replies
        else if (fds[3].revents & (POLLHUP | POLLERR)) monitor.reset();
        if (fds[1].revents) {
            char buf[4096];
            ssize_t n = read(err_read.get(), buf, sizeof buf);
            if (n > 0 && qemu_stderr.size() < 65536) qemu_stderr.append(buf, size_t(n));
        }
        if (fds[0].revents & POLLIN) {
            uint8_t bells[64];
            ssize_t n = read(doorbell.get(), bells, sizeof bells);
            for (ssize_t i = 0; i < n && !handler.finished(); ++i) handler.handle(bells[i]);
            if (n <= 0) qemu_gone = true;
        } else if (fds[0].revents & (POLLHUP | POLLERR)) {
            qemu_gone = true;
        }
    }
    if (!handler.finished()) {
        // QEMU ended by itself: -no-reboot turns a triple fault into an exit.
        int status = 0;
        waitpid(pid, &status, 0);
        char buf[4096];
        ssize_t n;
        while ((n = read(err_read.get(), buf, sizeof buf)) > 0) qemu_stderr.append(buf, size_t(n));
        while (!qemu_stderr.empty() && qemu_stderr.back() == '\n') qemu_stderr.pop_back();
        if (auto nl = qemu_stderr.rfind('\n'); nl != std::string::npos)
            qemu_stderr.erase(0, nl + 1);
        handler.fail(qemu_stderr.empty() ? "guest crashed (the virtual machine reset)"
                                         : "qemu: " + qemu_stderr);
        return true;
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return true;
}

}  // namespace utx::loader

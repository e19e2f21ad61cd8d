// loader/qemu_backend.cpp: runs the prepared guest under qemu-system-x86_64 when KVM is
// missing. QEMU maps the same memfd as guest RAM and boots our ROM (boot-rom/rom.S), which
// enters long mode and jumps to the kernel; the guest's hypercall doorbell (isa-debugcon on
// abi::kHypercallPort) reaches us on a socket, and we serve the request in the shared RAM.
//
// fork clones the VM with QEMU's own migration: the family region (the tail of guest RAM)
// is a memory backend of its own, which both VMs map; the rest is copied into a new memfd
// while the parent is stopped; utx-run forks, and the child starts a QEMU that takes the
// parent's device and vCPU state by migration, with x-ignore-shared so that no RAM moves.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
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

// QEMU's monitor (QMP) on a socket: commands that want their answer (the fork's stop,
// migration, cont) and the NMIs sent without waiting, whose answers are read and dropped.
class Qmp {
public:
    explicit Qmp(UniqueFd fd) : fd_(std::move(fd)) {}
    int fd() const { return fd_.get(); }
    explicit operator bool() const { return bool(fd_); }
    void close() { fd_.reset(); }
    void send(const std::string& json) { (void)!write(fd_.get(), json.data(), json.size()); }
    // What QEMU said without being waited for (events, the NMIs' answers): dropped.
    void drain() {
        char buf[4096];
        const ssize_t n = read(fd_.get(), buf, sizeof buf);
        if (n > 0) absorb(buf, size_t(n));
        else if (n == 0 || (errno != EAGAIN && errno != EINTR)) fd_.reset();
    }
    // Runs `command` (with `arguments`, a JSON object, or empty) and waits for its answer:
    // false with `error` for an error answer, a closed monitor or a time-out. `passed_fd`,
    // if not -1, goes along (SCM_RIGHTS), as getfd wants.
    bool call(const std::string& command, const std::string& arguments, std::string& error,
              std::string* answer = nullptr, int passed_fd = -1) {
        const std::string id = "utx-" + std::to_string(++calls_);
        std::string json = "{\"execute\":\"" + command + "\"";
        if (!arguments.empty()) json += ",\"arguments\":" + arguments;
        json += ",\"id\":\"" + id + "\"}\n";
        iovec iov = {json.data(), json.size()};
        msghdr msg = {};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        if (passed_fd >= 0) {
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &passed_fd, sizeof(int));
        }
        if (!fd_ || sendmsg(fd_.get(), &msg, MSG_NOSIGNAL) != ssize_t(json.size()))
            return error = "QEMU's monitor is gone (" + command + ")", false;
        const std::string tag = "\"id\": \"" + id + "\"";
        for (;;) {
            for (size_t nl; (nl = buffer_.find('\n')) != std::string::npos;) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                if (line.find(tag) == std::string::npos) continue;
                if (line.find("\"error\"") != std::string::npos)
                    return error = "QEMU: " + command + ": " + line, false;
                if (answer) *answer = line;
                return true;
            }
            pollfd p = {fd_.get(), POLLIN, 0};
            const int r = poll(&p, 1, 30'000);
            if (r < 0 && errno == EINTR) continue;
            char buf[4096];
            const ssize_t n = r > 0 ? read(fd_.get(), buf, sizeof buf) : -1;
            if (n > 0) {
                buffer_.append(buf, size_t(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            return error = "no answer from QEMU's monitor (" + command + ")", false;
        }
    }

private:
    // Keeps only an unfinished last line: the answers waited for are matched by id.
    void absorb(const char* data, size_t n) {
        buffer_.append(data, n);
        const size_t nl = buffer_.rfind('\n');
        if (nl != std::string::npos) buffer_.erase(0, nl + 1);
    }

    UniqueFd fd_;
    std::string buffer_;
    uint64_t calls_ = 0;
};

constexpr const char* kIgnoreShared =
    "{\"capabilities\":[{\"capability\":\"x-ignore-shared\",\"state\":true}]}";

// The CPU time of a running process (all its threads), from /proc: QEMU's, where the guest
// runs, is the process's (getrusage, wait4).
Usage usage_of_process(pid_t pid) {
    char path[64], text[1024];
    std::snprintf(path, sizeof path, "/proc/%d/stat", int(pid));
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    const ssize_t n = read(fd, text, sizeof text - 1);
    ::close(fd);
    if (n <= 0) return {};
    text[n] = 0;
    const char* p = std::strrchr(text, ')');  // the name may hold spaces and parentheses
    unsigned long long utime = 0, stime = 0;
    // After the name: state, then fields 4 to 13, then utime and stime (clock ticks).
    if (!p || std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                          &utime, &stime) != 2)
        return {};
    const uint64_t us_per_tick = 1'000'000 / uint64_t(sysconf(_SC_CLK_TCK));
    return {utime * us_per_tick, stime * us_per_tick};
}

// Until the migration of a fork, on either side, has ended: false with `error` if it failed.
// The VM stays paused (the parent's was when it left), for the caller's cont.
bool wait_migration(Qmp& qmp, std::string& error) {
    for (int i = 0; i < 30'000; ++i) {
        std::string answer;
        if (!qmp.call("query-migrate", "", error, &answer)) return false;
        if (answer.find("\"completed\"") != std::string::npos) return true;
        if (answer.find("\"failed\"") != std::string::npos ||
            answer.find("\"cancelled\"") != std::string::npos)
            return error = "QEMU: the migration to the forked VM failed: " + answer, false;
        usleep(1000);
    }
    return error = "QEMU: the migration to the forked VM did not end", false;
}

// The parent's half of a fork's migration: QEMU (stopped) sends its state on `channel`.
bool migrate_out(Qmp& qmp, int channel, std::string& error) {
    if (!qmp.call("migrate-set-capabilities", kIgnoreShared, error) ||
        !qmp.call("getfd", "{\"fdname\":\"utx-fork\"}", error, nullptr, channel) ||
        !qmp.call("migrate", "{\"uri\":\"fd:utx-fork\"}", error))
        return false;
    return wait_migration(qmp, error);
}

// One QEMU: boots the prepared guest, or (incoming >= 0, in a forked child) takes the
// parent's state from that descriptor.
bool run_vm(GuestMemory& mem, const BootLayout& layout, const RunConfig& config,
            HypercallHandler& handler, int incoming, std::string& error) {
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
    Qmp monitor{UniqueFd(mon[0])};
    UniqueFd qemu_monitor(mon[1]);
    int wake[2];
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return error = "pipe: " + errno_text(), false;
    UniqueFd wake_read(wake[0]), wake_write(wake[1]);

    // The child sees these at fixed numbers 3 to 8: RAM, the ROM, the doorbell, the
    // monitor, the family region's RAM and the incoming migration.
    const uint64_t tail = mem.family_memfd() >= 0 ? mem.shared_tail() : 0;
    const std::string mib = std::to_string(mem.size() >> 20) + "M";
    std::vector<std::string> args = {
        "qemu-system-x86_64", "-machine",
        std::string("microvm,x-option-roms=off,pit=off,pic=off,rtc=off,isa-serial=off,acpi=off") +
            (tail ? "" : ",memory-backend=ram"),
        "-object",
        "memory-backend-file,id=ram,size=" + std::to_string(mem.size() - tail) +
            ",mem-path=/proc/self/fd/3,share=on",
    };
    if (tail) {
        // Two NUMA nodes are QEMU's way of making RAM of two backends, one after the other.
        args.insert(args.end(), {"-object",
                                 "memory-backend-file,id=fam,size=" + std::to_string(tail) +
                                     ",mem-path=/proc/self/fd/7,share=on",
                                 "-numa", "node,memdev=ram", "-numa", "node,memdev=fam"});
    }
    args.insert(args.end(), {
        "-m", mib, "-cpu", "max", "-smp", std::to_string(config.vcpus),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-bios", "/proc/self/fd/4",
        "-chardev", "socket,id=hc,fd=5",
        "-device", "isa-debugcon,iobase=" + std::to_string(abi::kHypercallPort) + ",chardev=hc",
        "-chardev", "socket,id=mon,fd=6", "-mon", "chardev=mon,mode=control",
    });
    if (incoming >= 0) args.insert(args.end(), {"-incoming", "defer"});
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
        const int from[] = {null_in,     null_out,     err_write.get(),
                            mem.memfd(), rom.get(),    qemu_end.get(),
                            qemu_monitor.get(), tail ? mem.family_memfd() : null_in,
                            incoming >= 0 ? incoming : null_in};
        constexpr int kCount = sizeof from / sizeof from[0];
        // Above every target number first, so that no dup2 overwrites a source still needed.
        int moved[kCount];
        for (int i = 0; i < kCount; ++i) moved[i] = fcntl(from[i], F_DUPFD, 16);
        for (int i = 0; i < kCount; ++i) dup2(moved[i], i);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD})
            signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
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
    // Once QEMU has been reaped (below), its final times; until then, what /proc says.
    auto qemu_usage = std::make_shared<std::optional<Usage>>();
    handler.set_helper_usage([pid, qemu_usage] {
        return *qemu_usage ? **qemu_usage : usage_of_process(pid);
    });
    auto end_qemu = [&] {
        kill(pid, SIGKILL);
        int status;
        rusage r = {};
        if (wait4(pid, &status, 0, &r) == pid) *qemu_usage = usage_from(r);
    };
    // QMP wants its capabilities negotiated before any command; QEMU reads this once ready.
    if (incoming >= 0) {
        if (!monitor.call("qmp_capabilities", "", error) ||
            !monitor.call("migrate-set-capabilities", kIgnoreShared, error) ||
            !monitor.call("migrate-incoming", "{\"uri\":\"fd:8\"}", error) ||
            !wait_migration(monitor, error) || !monitor.call("cont", "", error)) {
            end_qemu();
            return false;
        }
    } else {
        monitor.send("{\"execute\":\"qmp_capabilities\"}\n");
    }
    fcntl(monitor.fd(), F_SETFL, O_NONBLOCK | fcntl(monitor.fd(), F_GETFL));
    host_events_install(wake_write.get(), nullptr);
    if (handler.family()) host_events_install_family();
    std::function<uint64_t(uint64_t)> family;
    if (handler.family()) family = [&handler](uint64_t bits) { return handler.family_signals(bits); };
    // One vCPU only: QEMU's migration needs the same vCPUs on both sides, and the child is
    // to have only the caller's.
    handler.allow_fork(config.child_done && handler.family() && config.vcpus == 1);

    // fork(): see the top of the file. The parent's QEMU is stopped meanwhile, and the
    // guest's other threads with it.
    auto fork_vm = [&](uint64_t request_gpa, int32_t child) {
        std::string why;
        int channel[2] = {-1, -1};
        int copy = -1;
        if (!monitor.call("stop", "", why) || (copy = mem.copy_private()) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
            if (why.empty()) why = "fork: cannot copy the guest's memory: " + errno_text();
            if (copy >= 0) ::close(copy);
            handler.refuse_fork(request_gpa, child, -ENOMEM);
            if (!monitor.call("cont", "", why)) handler.fail(why);
            return;
        }
        UniqueFd out(channel[0]), in(channel[1]), child_ram(copy);
        if (const pid_t host = handler.fork_host(request_gpa, child); host != 0) {
            child_ram.reset();
            in.reset();
            if (host > 0 && !migrate_out(monitor, out.get(), why)) return handler.fail(why);
            if (!monitor.call("cont", "", why)) handler.fail(why);
            return;
        }
        // The child: only this thread is left of the parent's, its signals held until its
        // QEMU runs. Let go of the parent's QEMU, take the copy of RAM, answer the request
        // as the child, and run a QEMU of its own.
        out.reset();
        doorbell.reset();
        err_read.reset();
        monitor.close();
        wake_read.reset();
        wake_write.reset();
        if (!mem.replace_private(child_ram.release())) {
            config.child_done(false, "fork: cannot map the copy of the guest's memory: " +
                                         errno_text());
        }
        handler.become_child(request_gpa, child);
        std::string child_error;
        const bool started = (!config.child_start || config.child_start(child_error)) &&
                             run_vm(mem, layout, config, handler, in.get(), child_error);
        config.child_done(started, child_error);
    };
    if (incoming >= 0) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    }

    std::string qemu_stderr;
    bool qemu_gone = false;
    while (!handler.finished() && !qemu_gone) {
        if (host_events_service(mem, family)) {
            monitor.send("{\"execute\":\"inject-nmi\"}\n");
            host_events_count_nmi();
        }
        pollfd fds[4] = {{doorbell.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0},
                         {wake_read.get(), POLLIN, 0}, {monitor ? monitor.fd() : -1, POLLIN, 0}};
        if (poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            handler.fail("poll: " + errno_text());
            break;
        }
        char drain[4096];
        if (fds[2].revents & POLLIN) (void)!read(wake_read.get(), drain, sizeof drain);
        if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) monitor.drain();  // QMP replies
        if (fds[1].revents) {
            char buf[4096];
            ssize_t n = read(err_read.get(), buf, sizeof buf);
            if (n > 0 && qemu_stderr.size() < 65536) qemu_stderr.append(buf, size_t(n));
        }
        if (fds[0].revents & POLLIN) {
            uint8_t bells[64];
            ssize_t n = read(doorbell.get(), bells, sizeof bells);
            for (ssize_t i = 0; i < n && !handler.finished(); ++i) {
                handler.handle(bells[i]);
                uint64_t request_gpa;
                int32_t child;
                if (handler.take_fork(bells[i], request_gpa, child)) fork_vm(request_gpa, child);
            }
            if (n <= 0) qemu_gone = true;
        } else if (fds[0].revents & (POLLHUP | POLLERR)) {
            qemu_gone = true;
        }
    }
    handler.allow_fork(false);
    if (!handler.finished()) {
        // QEMU ended by itself: -no-reboot turns a triple fault into an exit.
        end_qemu();
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
    end_qemu();
    return true;
}

}  // namespace

bool run_qemu(GuestMemory& mem, const BootLayout& layout, const RunConfig& config,
              HypercallHandler& handler, std::string& error) {
    return run_vm(mem, layout, config, handler, -1, error);
}

}  // namespace utx::loader

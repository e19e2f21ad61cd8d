// loader/qemu_backend.cpp: runs the prepared guest under qemu-system-x86_64 when KVM is
// missing. QEMU maps the same memfd as guest RAM and boots our ROM (boot-rom/rom.S), which
// enters long mode and jumps to the kernel; the guest's hypercall doorbell (isa-debugcon on
// abi::kHypercallPort) reaches us on a socket, and we serve the request in the shared RAM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
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
#include "loader/unique_fd.h"

extern char** environ;

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
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, err_write.get(), 2);
    posix_spawn_file_actions_adddup2(&fa, mem.memfd(), 3);
    posix_spawn_file_actions_adddup2(&fa, rom.get(), 4);
    posix_spawn_file_actions_adddup2(&fa, qemu_end.get(), 5);
    pid_t pid;
    int rc = posix_spawnp(&pid, "qemu-system-x86_64", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        error = rc == ENOENT ? "qemu-system-x86_64 is not installed (apt-get install "
                               "qemu-system-x86)"
                             : "cannot start qemu-system-x86_64: " + std::string(strerror(rc));
        return false;
    }
    qemu_end.reset();
    err_write.reset();

    std::string qemu_stderr;
    bool qemu_gone = false;
    while (!handler.finished() && !qemu_gone) {
        pollfd fds[2] = {{doorbell.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            handler.fail("poll: " + errno_text());
            break;
        }
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

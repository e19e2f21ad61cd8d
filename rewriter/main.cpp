// utx-rewrite: a thin CLI over the rewriter library.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "error.hpp"
#include "output_file.hpp"
#include "rewriter.hpp"

namespace {

using utx::analyze::hex;

constexpr int kExitWriteError = 1;
constexpr int kExitBadInput = 2;

const char* const kUsage =
    "usage: utx-rewrite PROG -o OUT [--verbose]\n"
    "Replaces the syscall instructions of the static x86-64 program PROG by jumps to\n"
    "trampolines that can call utx's kernel directly, and writes the result to OUT. OUT still\n"
    "runs on Linux as PROG does. Sites that cannot be rewritten safely are left as they are.\n"
    "\n"
    "options:\n"
    "  -o OUT         where to write the rewritten program (may be PROG itself)\n"
    "  -v, --verbose  list every site: where it was patched, or why it was left\n"
    "  -h, --help     this text\n";

int fail(const std::string& message, int status = kExitBadInput) {
    std::fprintf(stderr, "utx-rewrite: %s\n", message.c_str());
    return status;
}

struct Options {
    std::string program, output;
    bool verbose = false;
};

bool parse(int argc, char** argv, Options& options, std::string& error, bool& help) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            help = true;
            return true;
        } else if (arg == "-v" || arg == "--verbose") {
            options.verbose = true;
        } else if (arg == "-o") {
            if (i + 1 >= argc) {
                error = "option -o needs a file name";
                return false;
            }
            options.output = argv[++i];
        } else if (arg.size() > 1 && arg[0] == '-') {
            error = "unknown option '" + arg + "' (see utx-rewrite --help)";
            return false;
        } else if (options.program.empty()) {
            options.program = arg;
        } else {
            error = "more than one program given ('" + options.program + "' and '" + arg + "')";
            return false;
        }
    }
    if (options.program.empty()) {
        error = "no program given (usage: utx-rewrite PROG -o OUT)";
        return false;
    }
    if (options.output.empty()) {
        error = "no output given (usage: utx-rewrite PROG -o OUT)";
        return false;
    }
    return true;
}

bool read_program(const std::string& path, std::vector<uint8_t>& bytes, mode_t& mode,
                  std::string& error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0;
    if (!ok) {
        error = path + ": " + std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        error = path + ": not a regular file";
        ok = false;
    } else {
        mode = st.st_mode & 07777;
        bytes.resize(static_cast<size_t>(st.st_size));
        size_t done = 0;
        while (ok && done < bytes.size()) {
            const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                error = path + ": read error: " + (n < 0 ? std::strerror(errno) : "short file");
                ok = false;
            } else {
                done += static_cast<size_t>(n);
            }
        }
    }
    ::close(fd);
    return ok;
}

const char* packing_name(utx::rewrite::Packing packing) {
    switch (packing) {
        case utx::rewrite::Packing::Backward:
            return "backward";
        case utx::rewrite::Packing::Forward:
            return "forward";
        case utx::rewrite::Packing::Both:
            return "both ways";
    }
    return "";
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    std::string error;
    bool help = false;
    if (!parse(argc, argv, options, error, help)) return fail(error);
    if (help) {
        std::fputs(kUsage, stdout);
        return 0;
    }

    std::vector<uint8_t> input;
    mode_t mode = 0755;
    if (!read_program(options.program, input, mode, error)) return fail(error);

    utx::rewrite::Rewritten result;
    try {
        result = utx::rewrite::rewrite_program(options.program, std::move(input));
    } catch (const utx::analyze::InputError& e) {
        return fail(e.file() + ": " + e.what());
    } catch (const std::bad_alloc&) {
        return fail(options.program + ": out of memory");
    }
    if (!utx::rewrite::write_atomically(options.output, result.bytes, mode, error))
        return fail(error, kExitWriteError);

    const utx::rewrite::Report& report = result.report;
    if (report.already_rewritten) {
        std::printf("%s: already rewritten by utx-rewrite: nothing to change\n",
                    options.program.c_str());
        return 0;
    }
    if (options.verbose) {
        for (const utx::rewrite::SiteOutcome& site : report.sites) {
            if (site.rewritten)
                std::printf("  %s in %s: %s, %s..%s -> trampoline %s\n", hex(site.addr).c_str(),
                            site.function.c_str(), packing_name(site.packing),
                            hex(site.start).c_str(), hex(site.end).c_str(),
                            hex(site.trampoline).c_str());
            else
                std::printf("  %s in %s: left: %s\n", hex(site.addr).c_str(), site.function.c_str(),
                            site.reason.c_str());
        }
    }
    std::printf("%s: %s\n", options.program.c_str(), summary(report).c_str());
    return 0;
}

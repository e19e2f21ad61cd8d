#include "output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace utx::rewrite {

namespace {

class TempFile {
  public:
    explicit TempFile(const std::string& target) : path_(target + ".XXXXXX") {
        std::vector<char> name(path_.begin(), path_.end());
        name.push_back('\0');
        fd_ = ::mkstemp(name.data());
        if (fd_ >= 0) path_ = name.data();
    }
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!kept_) ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const { return fd_; }
    const std::string& path() const { return path_; }
    bool close() {
        const int fd = fd_;
        fd_ = -1;
        return ::close(fd) == 0;
    }
    void keep() { kept_ = true; }

  private:
    std::string path_;
    int fd_ = -1;
    bool kept_ = false;
};

}  // namespace

bool write_atomically(const std::string& path, std::span<const uint8_t> bytes, mode_t mode,
                      std::string& error) {
    auto fail = [&](const std::string& where, const char* what) {
        error = where + ": " + what + ": " + std::strerror(errno);
        return false;
    };
    auto write_all = [&](int fd) {
        size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<size_t>(n);
        }
        return true;
    };
    std::string target = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            error = path + ": is a directory";
            return false;
        }
        // A device or FIFO (-o /dev/null, -o /dev/stdout) is written to, never replaced.
        if (!S_ISREG(st.st_mode)) {
            const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0) return fail(path, "open");
            const bool ok = write_all(fd);
            const int saved = errno;
            ::close(fd);
            errno = saved;
            return ok || fail(path, "write");
        }
        // A symbolic link keeps pointing where it did; the file it names is replaced.
        char resolved[PATH_MAX];
        if (::realpath(path.c_str(), resolved)) target = resolved;
    }
    TempFile temp(target);
    if (temp.fd() < 0) return fail(path, "cannot create a file beside it");
    if (!write_all(temp.fd())) return fail(path, "write");
    if (::fchmod(temp.fd(), mode & 07777) != 0) return fail(path, "chmod");
    if (::fsync(temp.fd()) != 0) return fail(path, "fsync");
    if (!temp.close()) return fail(path, "close");
    if (::rename(temp.path().c_str(), target.c_str()) != 0) return fail(path, "rename");
    temp.keep();
    return true;
}

}  // namespace utx::rewrite

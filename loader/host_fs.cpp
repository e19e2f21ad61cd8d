#include "loader/host_fs.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "abi/hypercall.h"

namespace utx::loader {

struct HostFs::Buffers {
    std::span<const iovec> b1, b2, b3;
};

namespace {

int64_t neg_errno() { return -static_cast<int64_t>(errno); }

// The guest's NUL-terminated path out of a buffer's segments; false when it has no NUL.
bool read_path(std::span<const iovec> buf, std::string& out) {
    out.clear();
    for (const iovec& v : buf) {
        const char* p = static_cast<const char*>(v.iov_base);
        const void* nul = std::memchr(p, 0, v.iov_len);
        if (nul) {
            out.append(p, size_t(static_cast<const char*>(nul) - p));
            return true;
        }
        out.append(p, v.iov_len);
        if (out.size() > PATH_MAX) return false;
    }
    return false;
}

// Copies `len` bytes into a buffer's segments; returns how many fit.
size_t scatter(std::span<const iovec> buf, const void* data, size_t len) {
    size_t done = 0;
    for (const iovec& v : buf) {
        if (done == len) break;
        size_t n = std::min(v.iov_len, len - done);
        std::memcpy(v.iov_base, static_cast<const char*>(data) + done, n);
        done += n;
    }
    return done;
}

size_t total(std::span<const iovec> buf) {
    size_t n = 0;
    for (const iovec& v : buf) n += v.iov_len;
    return n;
}

// Copies a buffer of exactly `len` bytes out of its segments; false for another size.
bool gather(std::span<const iovec> buf, void* data, size_t len) {
    if (total(buf) != len) return false;
    size_t done = 0;
    for (const iovec& v : buf) {
        std::memcpy(static_cast<char*>(data) + done, v.iov_base, v.iov_len);
        done += v.iov_len;
    }
    return true;
}

// openat2 beneath `root`, retried while a concurrent rename makes the kernel unsure (EAGAIN).
int resolve_in(int root, const std::string& path, uint64_t flags, uint64_t mode = 0) {
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const char* p = path.empty() ? "." : path.c_str();
    for (int attempt = 0;; ++attempt) {
        long fd = syscall(SYS_openat2, root, p, &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN || attempt == 8) return int(fd);
    }
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// A path split before its last component: "a/b/c/" is "a/b" and "c/". The last component
// keeps its trailing slashes so that the host applies "must be a directory" itself.
struct Split {
    std::string parent;
    std::string last;   // empty for the root itself
    std::string name;   // last without trailing slashes
};

Split split(const std::string& path) {
    size_t end = path.size();
    while (end > 0 && path[end - 1] == '/') --end;
    size_t start = path.rfind('/', end == 0 ? 0 : end - 1);
    start = (start == std::string::npos || end == 0) ? 0 : start + 1;
    if (end == 0) return {"", "", ""};
    return {path.substr(0, start), path.substr(start), path.substr(start, end - start)};
}

bool is_dot(const std::string& name) { return name == "." || name == ".."; }

}  // namespace

bool parse_mount_spec(const std::string& text, MountSpec& spec, std::string& error) {
    std::string rest = text;
    spec.read_only = false;
    if (rest.size() > 3 && rest.ends_with(":ro")) {
        spec.read_only = true;
        rest.resize(rest.size() - 3);
    } else if (rest.size() > 3 && rest.ends_with(":rw")) {
        rest.resize(rest.size() - 3);
    }
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= rest.size() ||
        rest[colon + 1] != '/') {
        error = "invalid -v '" + text + "' (expected HOST:/GUEST/PATH or HOST:/GUEST/PATH:ro)";
        return false;
    }
    spec.host = rest.substr(0, colon);
    spec.guest.clear();
    for (char c : rest.substr(colon + 1))  // repeated slashes folded, as a path walk does
        if (c != '/' || spec.guest.empty() || spec.guest.back() != '/') spec.guest += c;
    while (spec.guest.size() > 1 && spec.guest.back() == '/') spec.guest.pop_back();
    if (spec.guest == "/") {
        error = "-v " + text + ": mounting over the guest's / is not supported";
        return false;
    }
    for (size_t i = 0; i < spec.guest.size();) {
        size_t j = spec.guest.find('/', i + 1);
        std::string part = spec.guest.substr(i + 1, (j == std::string::npos ? spec.guest.size() : j) - i - 1);
        if (part.empty() || part == "." || part == "..") {
            error = "-v " + text + ": the guest path must be a plain absolute path";
            return false;
        }
        if (j == std::string::npos) break;
        i = j;
    }
    return true;
}

bool HostFs::add(const MountSpec& spec, std::string& error) {
    if (mounts_.empty()) umask(0);  // the guest applies its own umask to what it creates
    UniqueFd root(::open(spec.host.c_str(), O_PATH | O_CLOEXEC));
    struct stat st;
    if (!root || fstat(root.get(), &st) != 0) {
        error = "-v " + spec.host + ": " + std::strerror(errno);
        return false;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        error = "-v " + spec.host + ": not a directory or regular file";
        return false;
    }
    char real[PATH_MAX];
    if (!realpath(spec.host.c_str(), real)) {
        error = "-v " + spec.host + ": " + std::strerror(errno);
        return false;
    }
    for (const Mount& m : mounts_) {
        const auto inside = [](const std::string& a, const std::string& b) {
            return a == b || a.starts_with(b + "/");
        };
        if (inside(m.guest, spec.guest) || inside(spec.guest, m.guest)) {
            error = "-v " + spec.guest + ": overlaps the mount at " + m.guest +
                    " (nested mounts are not supported)";
            return false;
        }
    }
    mounts_.push_back(Mount{std::move(root), real, spec.guest, spec.read_only, S_ISDIR(st.st_mode)});
    return true;
}

int64_t HostFs::handle(const uint64_t args[6], const iovec* iov, uint32_t nsegments,
                       uint64_t* out) {
    const uint32_t n1 = uint32_t(args[5] & 0xff), n2 = uint32_t((args[5] >> 8) & 0xff);
    if (n1 + n2 > nsegments) return -EINVAL;
    std::span<const iovec> all(iov, nsegments);
    Buffers b{all.subspan(0, n1), all.subspan(n1, n2), all.subspan(n1 + n2)};
    const uint64_t op = args[0];
    if ((op >= abi::kFsClose && op <= abi::kFsFutimens) || op == abi::kFsFstatfs) {
        if (args[1] >= handles_.size() || !handles_[args[1]].fd) return -EBADF;
        Handle& h = handles_[args[1]];
        if (op == abi::kFsClose) {
            h.fd.reset();
            return 0;
        }
        return fd_op(op, h, args, iov, nsegments, b);
    }
    if (args[1] >= mounts_.size()) return -ENODEV;
    return path_op(op, mounts_[args[1]], args, b, out);
}

int64_t HostFs::open(const Mount& m, size_t index, const std::string& path, uint64_t flags,
                     uint64_t mode, const Buffers& b, uint64_t* out) {
    // open(2) ignores flags it does not know, openat2 refuses them: keep what open(2) reads
    // (and for O_PATH, only what matters to it).
    constexpr uint64_t kKnown = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                                O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_LARGEFILE |
                                O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_PATH | __O_TMPFILE;
    flags &= (flags & O_PATH) ? uint64_t(O_PATH | O_DIRECTORY | O_NOFOLLOW) : kKnown;
    mode &= 07777;
    const uint64_t acc = flags & O_ACCMODE;
    const bool tmpfile = (flags & __O_TMPFILE) == __O_TMPFILE;
    const bool writes = !(flags & O_PATH) &&
                        (acc != O_RDONLY || (flags & (O_TRUNC | O_CREAT)) || tmpfile);
    int fd = -1;
    if (!m.is_dir) {
        // A mounted file is the root itself: reopen it through our own descriptor.
        if (!path.empty()) return -ENOTDIR;
        if (m.read_only && writes && (acc != O_RDONLY || (flags & O_TRUNC))) return -EROFS;
        fd = ::open(fd_path(m.root.get()).c_str(),
                    int(flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    } else {
        if (m.read_only && writes) {
            // Linux's order: a missing parent or an existing file's own error comes first.
            int probe = resolve_in(m.root.get(), path, O_PATH | (flags & (O_NOFOLLOW | O_DIRECTORY)));
            if (probe < 0) {
                if (errno != ENOENT || !(flags & O_CREAT)) return neg_errno();
                Split s = split(path);
                int parent = resolve_in(m.root.get(), s.parent, O_PATH | O_DIRECTORY);
                if (parent < 0) return neg_errno();
                ::close(parent);
                return -EROFS;
            }
            struct stat st;
            fstat(probe, &st);
            ::close(probe);
            if ((flags & O_CREAT) && (flags & O_EXCL)) return -EEXIST;
            if (S_ISDIR(st.st_mode) && (acc != O_RDONLY || tmpfile)) return tmpfile ? -EROFS : -EISDIR;
            if (acc != O_RDONLY || (flags & O_TRUNC) || tmpfile) return -EROFS;
            flags &= ~uint64_t(O_CREAT);
        }
        const uint64_t extra = (flags & O_PATH) ? 0 : O_NOCTTY | O_NONBLOCK;
        fd = resolve_in(m.root.get(), path, flags | extra, mode);
    }
    if (fd < 0) return neg_errno();
    UniqueFd file(fd);
    struct stat st;
    if (fstat(fd, &st) != 0) return neg_errno();
    if (!(flags & O_PATH)) {
        // FIFOs, sockets and devices would block or reach host hardware: files and
        // directories only.
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return -ENXIO;
        if (!(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    }
    // Where the file is, relative to the root: the guest's getcwd and /proc/self/fd.
    char where[PATH_MAX];
    ssize_t n = readlink(fd_path(fd).c_str(), where, sizeof where - 1);
    std::string rel;
    if (n > 0) {
        where[n] = 0;
        std::string abs = where;
        if (abs.starts_with(m.real + "/")) rel = abs.substr(m.real.size() + 1);
        else if (abs != m.real && m.real != "/") rel = path;
        else if (m.real == "/" && abs.size() > 1) rel = abs.substr(1);
    }
    out[0] = scatter(b.b2, rel.data(), rel.size());
    scatter(b.b3, &st, sizeof st);
    size_t slot = 0;
    while (slot < handles_.size() && handles_[slot].fd) ++slot;
    if (slot == kMaxHandles) return -ENFILE;
    if (slot == handles_.size()) handles_.emplace_back();
    handles_[slot] = Handle{std::move(file), index};
    return int64_t(slot);
}

int64_t HostFs::fd_op(uint64_t op, Handle& h, const uint64_t args[6], const iovec* iov,
                      uint32_t nsegments, const Buffers& b) {
    const int fd = h.fd.get();
    const bool ro = mounts_[h.mount].read_only;
    int64_t r = 0;
    switch (op) {
        case abi::kFsRead:
            r = int64_t(args[2]) < 0 ? readv(fd, iov, int(nsegments))
                                     : preadv(fd, iov, int(nsegments), off_t(args[2]));
            break;
        case abi::kFsWrite:
            r = int64_t(args[2]) < 0 ? writev(fd, iov, int(nsegments))
                                     : pwritev(fd, iov, int(nsegments), off_t(args[2]));
            break;
        case abi::kFsSeek: r = lseek(fd, off_t(args[2]), int(args[3])); break;
        case abi::kFsFstat: {
            struct stat st;
            r = fstat(fd, &st);
            if (r == 0) scatter(b.b3, &st, sizeof st);
            break;
        }
        case abi::kFsGetdents: {
            const size_t want = std::min<size_t>(total(b.b3), 1 << 16);
            std::vector<char> buf(want);
            r = syscall(SYS_getdents64, fd, buf.data(), want);
            if (r > 0) scatter(b.b3, buf.data(), size_t(r));
            break;
        }
        case abi::kFsFtruncate: r = ftruncate(fd, off_t(args[2])); break;
        case abi::kFsFstatfs: {
            struct statfs sf;
            r = fstatfs(fd, &sf);
            if (r == 0) scatter(b.b3, &sf, sizeof sf);
            break;
        }
        case abi::kFsFsync: r = args[2] ? fdatasync(fd) : fsync(fd); break;
        case abi::kFsFchmod:
            if (ro) return -EROFS;
            r = fchmod(fd, mode_t(args[2]));
            break;
        case abi::kFsFchown:
            if (ro) return -EROFS;
            r = fchown(fd, uid_t(args[2]), gid_t(args[3]));
            break;
        case abi::kFsFutimens: {
            if (ro) return -EROFS;
            timespec times[2];
            if (args[2] && !gather(b.b3, times, sizeof times)) return -EINVAL;
            r = futimens(fd, args[2] ? times : nullptr);
            break;
        }
        default: return -ENOSYS;
    }
    return r < 0 ? neg_errno() : r;
}

int64_t HostFs::path_op(uint64_t op, const Mount& m, const uint64_t args[6], const Buffers& b,
                        uint64_t* out) {
    std::string path, path2;
    if (!read_path(b.b1, path)) return -ENAMETOOLONG;
    const size_t index = size_t(&m - mounts_.data());
    if (op == abi::kFsOpen) return open(m, index, path, args[2], args[3], b, out);
    if (!m.is_dir && !path.empty()) return -ENOTDIR;
    const int root = m.root.get();

    // Operations on the file a path names (following a last symlink or not).
    auto target = [&](bool follow) -> int {
        if (!m.is_dir) return fcntl(root, F_DUPFD_CLOEXEC, 0);
        return resolve_in(root, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
    };
    switch (op) {
        case abi::kFsStat:
        case abi::kFsStatfs:
        case abi::kFsReadlink:
        case abi::kFsChmod:
        case abi::kFsChown:
        case abi::kFsUtimens:
        case abi::kFsTruncate:
        case abi::kFsAccess: {
            bool follow = op == abi::kFsStat ? args[2] != 0
                        : op == abi::kFsChown ? args[4] != 0
                        : op == abi::kFsUtimens || op == abi::kFsAccess ? args[3] != 0
                        : op != abi::kFsReadlink;
            int fd = target(follow);
            if (fd < 0) return neg_errno();
            UniqueFd t(fd);
            struct stat st;
            if (fstat(fd, &st) != 0) return neg_errno();
            int64_t r = 0;
            switch (op) {
                case abi::kFsStat: scatter(b.b3, &st, sizeof st); return 0;
                case abi::kFsStatfs: {
                    struct statfs sf;
                    if (fstatfs(fd, &sf) != 0) return neg_errno();
                    scatter(b.b3, &sf, sizeof sf);
                    return 0;
                }
                case abi::kFsReadlink: {
                    if (!S_ISLNK(st.st_mode)) return -EINVAL;
                    char buf[PATH_MAX];
                    ssize_t n = readlinkat(fd, "", buf, sizeof buf);
                    if (n < 0) return neg_errno();
                    return int64_t(scatter(b.b3, buf, size_t(n)));
                }
                case abi::kFsAccess:
                    if ((args[2] & W_OK) && m.read_only) return -EROFS;
                    r = faccessat(fd, "", int(args[2]), AT_EMPTY_PATH | AT_EACCESS);
                    break;
                case abi::kFsTruncate: {
                    if (S_ISDIR(st.st_mode)) return -EISDIR;
                    if (!S_ISREG(st.st_mode)) return -EINVAL;
                    if (m.read_only) return -EROFS;
                    r = truncate(fd_path(fd).c_str(), off_t(args[2]));
                    break;
                }
                case abi::kFsChmod:
                    if (m.read_only) return -EROFS;
                    r = fchmodat(AT_FDCWD, fd_path(fd).c_str(), mode_t(args[2]), 0);
                    break;
                case abi::kFsChown:
                    if (m.read_only) return -EROFS;
                    r = fchownat(fd, "", uid_t(args[2]), gid_t(args[3]), AT_EMPTY_PATH);
                    break;
                case abi::kFsUtimens: {
                    if (m.read_only) return -EROFS;
                    timespec times[2];
                    if (args[2] && !gather(b.b3, times, sizeof times)) return -EINVAL;
                    r = utimensat(fd, "", args[2] ? times : nullptr, AT_EMPTY_PATH);
                    break;
                }
            }
            return r < 0 ? neg_errno() : r;
        }
        default: break;
    }

    // Operations on a last component, in its parent; the component is never followed.
    if (!m.is_dir) return -EBUSY;  // the mounted file itself cannot be replaced or removed
    Split s = split(path);
    auto open_parent = [&](const Split& sp) { return resolve_in(root, sp.parent, O_PATH | O_DIRECTORY); };
    int pfd = open_parent(s);
    if (pfd < 0) return neg_errno();
    UniqueFd parent(pfd);
    const bool names_root = s.last.empty();
    const bool dots = names_root || is_dot(s.name);
    auto exists = [&] {
        struct stat st;
        return fstatat(pfd, s.last.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    };
    int64_t r = 0;
    switch (op) {
        case abi::kFsMkdir:
        case abi::kFsSymlink:
        case abi::kFsMknod:
            if (dots || exists()) return -EEXIST;
            if (m.read_only) return -EROFS;
            if (op == abi::kFsMkdir) {
                r = mkdirat(pfd, s.last.c_str(), mode_t(args[2]));
            } else if (op == abi::kFsSymlink) {
                if (!read_path(b.b2, path2)) return -ENAMETOOLONG;
                r = symlinkat(path2.c_str(), pfd, s.last.c_str());
            } else {
                const mode_t type = mode_t(args[2]) & S_IFMT;
                if (type != S_IFREG && type != S_IFIFO && type != 0) return -EPERM;
                r = mknodat(pfd, s.last.c_str(), mode_t(args[2]), 0);
            }
            break;
        case abi::kFsUnlink:
            if (names_root) return args[2] ? -EBUSY : -EISDIR;
            if (s.name == ".") return args[2] ? -EINVAL : -EISDIR;
            if (s.name == "..") return args[2] ? -ENOTEMPTY : -EISDIR;
            if (m.read_only) return -EROFS;
            r = unlinkat(pfd, s.last.c_str(), int(args[2] & AT_REMOVEDIR));
            break;
        case abi::kFsRename:
        case abi::kFsLink: {
            if (!read_path(b.b2, path2)) return -ENAMETOOLONG;
            Split s2 = split(path2);
            int pfd2 = open_parent(s2);
            if (pfd2 < 0) return neg_errno();
            UniqueFd parent2(pfd2);
            const bool dots2 = s2.last.empty() || is_dot(s2.name);
            if (op == abi::kFsRename) {
                if (dots || dots2) return -EBUSY;
                if (m.read_only) return -EROFS;
                r = syscall(SYS_renameat2, pfd, s.last.c_str(), pfd2, s2.last.c_str(),
                            unsigned(args[2]));
                break;
            }
            if (dots2) return -EEXIST;
            if (m.read_only) return -EROFS;
            if (args[2]) {
                // Follow the old name's symlink beneath the root, then link what it names.
                int fd = resolve_in(root, path, O_PATH);
                if (fd < 0) return neg_errno();
                UniqueFd t(fd);
                r = linkat(AT_FDCWD, fd_path(fd).c_str(), pfd2, s2.last.c_str(), AT_SYMLINK_FOLLOW);
            } else {
                if (dots) return -EPERM;  // a directory cannot get another name
                r = linkat(pfd, s.last.c_str(), pfd2, s2.last.c_str(), 0);
            }
            break;
        }
        default: return -ENOSYS;
    }
    return r < 0 ? neg_errno() : r;
}

}  // namespace utx::loader

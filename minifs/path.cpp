// minifs/path.cpp: path resolution and the *at() operations.
#include "minifs/path.h"

#include "minifs/internal.h"

namespace utx::minifs {

namespace {

// The unread rest of the path: the path itself at the bottom, then the targets of the
// symlinks being followed. Each piece is consumed from the front.
class PathStack {
  public:
    explicit PathStack(Name path) { pieces_[depth_++] = path; }

    bool push(Name piece) {
        if (depth_ == kCapacity) return false;
        pieces_[depth_++] = piece;
        return true;
    }

    // The next component, or false when none is left. `last`: no component follows it;
    // `slash_after`: a '/' follows it in its own piece.
    bool next(Name* component, bool* last, bool* slash_after) {
        while (depth_ > 0) {
            Name& top = pieces_[depth_ - 1];
            skip_slashes(top);
            if (top.len > 0) break;
            --depth_;
        }
        if (depth_ == 0) return false;
        Name& top = pieces_[depth_ - 1];
        size_t n = 0;
        while (n < top.len && top.data[n] != '/') ++n;
        *component = Name(top.data, n);
        top.data += n;
        top.len -= n;
        *slash_after = top.len > 0;
        *last = true;
        for (size_t i = depth_; i > 0; --i) {
            Name rest = pieces_[i - 1];
            skip_slashes(rest);
            if (rest.len > 0) {
                *last = false;
                break;
            }
        }
        return true;
    }

    // The unread rest joined into one path (the top piece first), for a walk that hands
    // over to a mount; false when it does not fit `cap`.
    bool rest(char* buf, size_t cap, size_t* len) const {
        size_t n = 0;
        for (size_t i = depth_; i > 0; --i) {
            Name piece = pieces_[i - 1];
            skip_slashes(piece);
            if (piece.len == 0) continue;
            if (n > 0) {
                if (n + 1 >= cap) return false;
                buf[n++] = '/';
            }
            if (n + piece.len >= cap) return false;
            for (size_t k = 0; k < piece.len; ++k) buf[n++] = piece.data[k];
        }
        buf[n] = 0;
        *len = n;
        return true;
    }

  private:
    static constexpr size_t kCapacity = kMaxSymlinkFollows + 1;
    static void skip_slashes(Name& n) {
        while (n.len > 0 && n.data[0] == '/') {
            ++n.data;
            --n.len;
        }
    }
    Name pieces_[kCapacity];
    size_t depth_ = 0;
};

int check_path(Name path) {
    if (path.len == 0) return -kENOENT;
    if (path.len >= kPathMax) return -kENAMETOOLONG;
    return 0;
}

int may_search(const PathContext& ctx, const Inode* dir) {
    return ctx.check_permissions ? access(dir, ctx.cred, kMayExec) : 0;
}

int may_create(const PathContext& ctx, const Inode* dir) {
    return ctx.check_permissions ? access(dir, ctx.cred, kMayWrite | kMayExec) : 0;
}

int may_remove(const PathContext& ctx, const Inode* dir, const Inode* victim) {
    return ctx.check_permissions ? may_delete(dir, victim, ctx.cred) : 0;
}

bool is_mount_root(const PathContext& ctx, const Inode* dir) {
    return ctx.hooks != nullptr && ctx.hooks->is_mount_root != nullptr &&
           ctx.hooks->is_mount_root(dir);
}

// The mount `dir` is in: the nearest mount root at or above it, or null for the main one.
const Inode* mount_of(const PathContext& ctx, const Inode* dir) {
    for (const Inode* d = dir; d != nullptr; d = d->dir.parent) {
        if (is_mount_root(ctx, d)) return d;
        if (d->dir.parent == d) break;  // the root
    }
    return nullptr;
}

// One step: `component` in `dir`, with search permission and the context's root as a
// floor for ".." (or a wall, for kResolveBeneath); with kResolveNoXdev, into or out of a
// mount is -kEXDEV.
Result<Inode*> step(Fs& fs, const PathContext& ctx, Inode* dir, Name component) {
    int r = may_search(ctx, dir);
    if (r < 0) return Error{r};
    if (component.len > kNameMax) return Error{-kENAMETOOLONG};
    const bool no_xdev = (ctx.resolve & kResolveNoXdev) != 0;
    if (component.is_dotdot()) {
        if (dir == ctx.root) {
            if (ctx.resolve & kResolveBeneath) return Error{-kEXDEV};
            return dir;
        }
        if (no_xdev && is_mount_root(ctx, dir)) return Error{-kEXDEV};
        return fs.lookup(dir, component);
    }
    Result<Inode*> found = fs.lookup(dir, component);
    if (found.ok() && no_xdev && !component.is_dot() && is_mount_root(ctx, *found))
        return Error{-kEXDEV};
    return found;
}

// May the walk follow the symlink `name` in `dir`? The kResolve* restrictions.
int may_follow(const PathContext& ctx, const Inode* dir, Name name) {
    if (ctx.resolve & kResolveNoSymlinks) return -kELOOP;
    if (!(ctx.resolve & (kResolveNoMagicLinks | kResolveBeneath | kResolveInRoot))) return 0;
    const bool magic = ctx.hooks != nullptr && ctx.hooks->is_magic_link != nullptr &&
                       ctx.hooks->is_magic_link(dir, name);
    if (!magic) return 0;
    if (ctx.resolve & kResolveNoMagicLinks) return -kELOOP;
    if (ctx.resolve & (kResolveBeneath | kResolveInRoot)) return -kEXDEV;
    return 0;
}

// May an absolute symlink target, met in `dir`, restart the walk at ctx.root?
int may_jump_to_root(const PathContext& ctx, const Inode* dir) {
    if (ctx.resolve & kResolveBeneath) return -kEXDEV;
    if ((ctx.resolve & kResolveNoXdev) && mount_of(ctx, dir) != mount_of(ctx, ctx.root))
        return -kEXDEV;
    return 0;
}

// The walk shared by resolve() and resolve_parent(): with `parent` set it stops before the
// last component and describes it there.
Result<Inode*> walk(Fs& fs, const PathContext& ctx, Inode* start, Name path, unsigned flags,
                    ParentLookup* parent) {
    int r = check_path(path);
    if (r < 0) return Error{r};
    PathStack rest(path);
    if (path.data[0] == '/' && (ctx.resolve & kResolveBeneath)) return Error{-kEXDEV};
    Inode* dir = path.data[0] == '/' ? ctx.root : start;
    if (!dir->is_dir()) return Error{-kENOTDIR};
    unsigned follows = 0;
    bool must_be_dir = (flags & kMustBeDir) != 0;
    for (;;) {
        Name component;
        bool last = false;
        bool slash_after = false;
        if (!rest.next(&component, &last, &slash_after)) {
            // Nothing but slashes: the path (or the symlink target last followed) is "/".
            if (parent != nullptr) *parent = {dir, Name(".", 1), true, dir == ctx.root};
            return dir;
        }
        if (last && parent != nullptr) {
            if (component.len > kNameMax) return Error{-kENAMETOOLONG};
            *parent = {dir, component, slash_after, false};
            return dir;
        }
        Result<Inode*> found = step(fs, ctx, dir, component);
        if (!found.ok()) return found;
        Inode* inode = *found;
        if (inode->mount && ctx.crossing) {
            // The rest of the path belongs to the file system mounted here.
            MountCrossing& c = *ctx.crossing;
            c.mountpoint = inode;
            if (!rest.rest(c.rest, sizeof c.rest, &c.rest_len)) return Error{-kENAMETOOLONG};
            if (slash_after && c.rest_len == 0) c.rest[c.rest_len++] = '.', c.rest[c.rest_len] = 0;
            return Error{-kECrossMount};
        }
        if (inode->is_symlink() && (!last || slash_after || (flags & kFollowLast))) {
            if (++follows > kMaxSymlinkFollows) return Error{-kELOOP};
            r = may_follow(ctx, dir, component);
            if (r < 0) return Error{r};
            Name target = fs.symlink_target(inode);
            if (!rest.push(target)) return Error{-kELOOP};
            if (target.len > 0 && target.data[0] == '/') {
                r = may_jump_to_root(ctx, dir);
                if (r < 0) return Error{r};
                dir = ctx.root;
            }
            if (last && slash_after) must_be_dir = true;
            continue;
        }
        if (!last) {
            if (!inode->is_dir()) return Error{-kENOTDIR};
            dir = inode;
            continue;
        }
        if ((slash_after || must_be_dir) && !inode->is_dir()) return Error{-kENOTDIR};
        return inode;
    }
}

bool is_dot_or_dotdot(Name n) {
    return n.is_dot() || n.is_dotdot();
}

// resolve_parent() and a lookup of the last component: the common start of the operations
// that create a name. -kEEXIST when it exists, -kENOENT for a trailing slash on a name
// that cannot be a directory.
Result<ParentLookup> parent_for_new(Fs& fs, const PathContext& ctx, Inode* start, Name path,
                                    bool is_dir) {
    Result<ParentLookup> pl = resolve_parent(fs, ctx, start, path);
    if (!pl.ok()) return pl;
    ParentLookup p = *pl;
    if (p.names_root || is_dot_or_dotdot(p.last)) return Error{-kEEXIST};
    Result<Inode*> existing = step(fs, ctx, p.dir, p.last);
    if (existing.ok()) return Error{-kEEXIST};
    if (existing.error() != -kENOENT) return Error{existing.error()};
    if (p.trailing_slash && !is_dir) return Error{-kENOENT};
    int r = may_create(ctx, p.dir);
    if (r < 0) return Error{r};
    return p;
}

}  // namespace

Result<Inode*> resolve(Fs& fs, const PathContext& ctx, Inode* start, Name path, unsigned flags) {
    return walk(fs, ctx, start, path, flags, nullptr);
}

Result<ParentLookup> resolve_parent(Fs& fs, const PathContext& ctx, Inode* start, Name path) {
    ParentLookup p{};
    Result<Inode*> r = walk(fs, ctx, start, path, 0, &p);
    if (!r.ok()) return Error{r.error()};
    return p;
}

Result<OpenResult> open_at(Fs& fs, const PathContext& ctx, Inode* start, Name path, unsigned flags,
                           uint32_t perm) {
    if (!(flags & kOpenCreate)) {
        unsigned rflags = (flags & kOpenNoFollow) ? 0 : kFollowLast;
        if (flags & kOpenDirectory) rflags |= kMustBeDir;
        Result<Inode*> r = resolve(fs, ctx, start, path, rflags);
        if (!r.ok()) return Error{r.error()};
        if ((*r)->is_symlink() && !(flags & kOpenPath)) return Error{-kELOOP};
        return OpenResult{*r, false};
    }
    // O_CREAT: the last component is looked up without following, so that a dangling
    // symlink's target can be created; each symlink met there restarts the walk at its target.
    for (unsigned follows = 0;; ++follows) {
        Result<ParentLookup> pl = resolve_parent(fs, ctx, start, path);
        if (!pl.ok()) return Error{pl.error()};
        ParentLookup p = *pl;
        if (p.names_root || is_dot_or_dotdot(p.last) || p.trailing_slash) return Error{-kEISDIR};
        Result<Inode*> existing = step(fs, ctx, p.dir, p.last);
        if (existing.ok() && (*existing)->mount && ctx.crossing) {
            ctx.crossing->mountpoint = *existing;  // open the mounted file itself
            ctx.crossing->rest[0] = 0;
            ctx.crossing->rest_len = 0;
            return Error{-kECrossMount};
        }
        if (existing.ok()) {
            Inode* inode = *existing;
            if (flags & kOpenExcl) return Error{-kEEXIST};
            if (inode->is_symlink()) {
                if (flags & kOpenNoFollow) return Error{-kELOOP};
                if (follows + 1 > kMaxSymlinkFollows) return Error{-kELOOP};
                int r = may_follow(ctx, p.dir, p.last);
                if (r < 0) return Error{r};
                start = p.dir;
                path = fs.symlink_target(inode);
                continue;
            }
            if (inode->is_dir()) return Error{-kEISDIR};
            return OpenResult{inode, false};
        }
        if (existing.error() != -kENOENT) return Error{existing.error()};
        int r = may_create(ctx, p.dir);
        if (r < 0) return Error{r};
        Result<Inode*> made = fs.create(p.dir, p.last, perm, ctx.cred);
        if (!made.ok()) return Error{made.error()};
        return OpenResult{*made, true};
    }
}

Result<Inode*> tmpfile_at(Fs& fs, const PathContext& ctx, Inode* start, Name path, unsigned flags,
                          uint32_t perm) {
    unsigned rflags = (flags & kOpenNoFollow) ? kMustBeDir : kFollowLast | kMustBeDir;
    Result<Inode*> dir = resolve(fs, ctx, start, path, rflags);
    if (!dir.ok()) return dir;
    int r = may_create(ctx, *dir);
    if (r < 0) return Error{r};
    return fs.create_unnamed(*dir, perm, ctx.cred);
}

Result<Inode*> mkdir_at(Fs& fs, const PathContext& ctx, Inode* start, Name path, uint32_t perm) {
    Result<ParentLookup> p = parent_for_new(fs, ctx, start, path, true);
    if (!p.ok()) return Error{p.error()};
    return fs.mkdir((*p).dir, (*p).last, perm, ctx.cred);
}

Result<Inode*> mknod_at(Fs& fs, const PathContext& ctx, Inode* start, Name path, uint32_t mode,
                        uint64_t rdev) {
    Result<ParentLookup> p = parent_for_new(fs, ctx, start, path, false);
    if (!p.ok()) return Error{p.error()};
    return fs.mknod((*p).dir, (*p).last, mode, rdev, ctx.cred);
}

Result<Inode*> symlink_at(Fs& fs, const PathContext& ctx, Name target, Inode* start, Name path) {
    Result<ParentLookup> p = parent_for_new(fs, ctx, start, path, false);
    if (!p.ok()) return Error{p.error()};
    return fs.symlink((*p).dir, (*p).last, target, ctx.cred);
}

int link_at(Fs& fs, const PathContext& ctx, Inode* old_start, Name old_path, Inode* new_start,
            Name new_path, bool follow) {
    Result<Inode*> old = resolve(fs, ctx, old_start, old_path, follow ? kFollowLast : 0);
    if (!old.ok()) return old.error();
    Result<ParentLookup> p = parent_for_new(fs, ctx, new_start, new_path, false);
    if (!p.ok()) return p.error();
    return fs.link((*p).dir, (*p).last, *old);
}

int unlink_at(Fs& fs, const PathContext& ctx, Inode* start, Name path) {
    Result<ParentLookup> pl = resolve_parent(fs, ctx, start, path);
    if (!pl.ok()) return pl.error();
    ParentLookup p = *pl;
    if (p.names_root || is_dot_or_dotdot(p.last)) return -kEISDIR;
    Result<Inode*> victim = step(fs, ctx, p.dir, p.last);
    if (!victim.ok()) return victim.error();
    if ((*victim)->is_dir()) return -kEISDIR;
    if (p.trailing_slash) return -kENOTDIR;
    if ((*victim)->mount) return -kEBUSY;
    int r = may_remove(ctx, p.dir, *victim);
    if (r < 0) return r;
    return fs.unlink(p.dir, p.last);
}

int rmdir_at(Fs& fs, const PathContext& ctx, Inode* start, Name path) {
    Result<ParentLookup> pl = resolve_parent(fs, ctx, start, path);
    if (!pl.ok()) return pl.error();
    ParentLookup p = *pl;
    if (p.names_root) return -kEBUSY;
    if (p.last.is_dot()) return -kEINVAL;
    if (p.last.is_dotdot()) return -kENOTEMPTY;
    Result<Inode*> victim = step(fs, ctx, p.dir, p.last);
    if (!victim.ok()) return victim.error();
    if (!(*victim)->is_dir()) return -kENOTDIR;
    if (*victim == ctx.root || *victim == fs.root() || (*victim)->mount) return -kEBUSY;
    int r = may_remove(ctx, p.dir, *victim);
    if (r < 0) return r;
    return fs.rmdir(p.dir, p.last);
}

int rename_at(Fs& fs, const PathContext& ctx, Inode* old_start, Name old_path, Inode* new_start,
              Name new_path, unsigned flags) {
    if (flags & ~(kRenameNoReplace | kRenameExchange)) return -kEINVAL;
    if ((flags & kRenameNoReplace) && (flags & kRenameExchange)) return -kEINVAL;
    Result<ParentLookup> old_pl = resolve_parent(fs, ctx, old_start, old_path);
    if (!old_pl.ok()) return old_pl.error();
    Result<ParentLookup> new_pl = resolve_parent(fs, ctx, new_start, new_path);
    if (!new_pl.ok()) return new_pl.error();
    ParentLookup o = *old_pl;
    ParentLookup n = *new_pl;
    if (o.names_root || n.names_root || is_dot_or_dotdot(o.last) || is_dot_or_dotdot(n.last))
        return -kEBUSY;
    Result<Inode*> source = step(fs, ctx, o.dir, o.last);
    if (!source.ok()) return source.error();
    Result<Inode*> target = step(fs, ctx, n.dir, n.last);
    if (!target.ok() && target.error() != -kENOENT) return target.error();
    Inode* t = target.ok() ? *target : nullptr;
    if (!(*source)->is_dir() &&
        (o.trailing_slash || (n.trailing_slash && !(flags & kRenameExchange))))
        return -kENOTDIR;
    if ((flags & kRenameExchange) && t != nullptr && !t->is_dir() && n.trailing_slash)
        return -kENOTDIR;
    if (*source == ctx.root || t == ctx.root || (*source)->mount || (t && t->mount))
        return -kEBUSY;
    int r = may_remove(ctx, o.dir, *source);
    if (r < 0) return r;
    r = t != nullptr ? may_remove(ctx, n.dir, t) : may_create(ctx, n.dir);
    if (r < 0) return r;
    // Moving a directory to another parent rewrites its "..": that needs write access to it.
    if (ctx.check_permissions && o.dir != n.dir) {
        if ((*source)->is_dir()) r = access(*source, ctx.cred, kMayWrite);
        if (r == 0 && (flags & kRenameExchange) && t != nullptr && t->is_dir())
            r = access(t, ctx.cred, kMayWrite);
        if (r < 0) return r;
    }
    return fs.rename(o.dir, o.last, n.dir, n.last, flags);
}

}  // namespace utx::minifs

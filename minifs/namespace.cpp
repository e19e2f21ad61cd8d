// minifs/namespace.cpp: the operations on names in directories: lookup, create, link,
// unlink, rmdir, rename, iteration.
#include "minifs/internal.h"

namespace utx::minifs {

using detail::check_name;
using detail::dir_after;
using detail::dir_find;
using detail::dir_insert;
using detail::dir_remove;

namespace {

// A directory that can hold new names: a directory, not removed.
int check_live_dir(const Inode* dir) {
    if (!dir->is_dir()) return -kENOTDIR;
    if (dir->nlink == 0) return -kENOENT;
    return 0;
}

// Is `ancestor` the directory `dir` or one above it?
bool is_ancestor(const Inode* ancestor, const Inode* dir) {
    for (const Inode* d = dir; d != nullptr; d = d->dir.parent) {
        if (d == ancestor) return true;
        if (d->dir.parent == d) break;  // the root
    }
    return false;
}

}  // namespace

void Fs::touch_dir(Inode* dir) {
    dir->mtime_ns = dir->ctime_ns = int64_t(now());
}

Result<Inode*> Fs::lookup(Inode* dir, Name name) {
    if (!dir->is_dir()) return Error{-kENOTDIR};
    if (name.is_dot()) return dir;
    if (dir->nlink == 0) return Error{-kENOENT};
    if (name.is_dotdot()) return dir->dir.parent;
    int r = check_name(name);
    if (r < 0) return Error{r};
    DirEntry* e = dir_find(dir, name);
    if (e == nullptr) return Error{-kENOENT};
    return e->inode;
}

Result<Inode*> Fs::add_new(Inode* dir, Name name, uint32_t mode, const Cred& owner) {
    int r = check_live_dir(dir);
    if (r == 0) r = check_name(name);
    if (r < 0) return Error{r};
    if (name.is_dot() || name.is_dotdot() || dir_find(dir, name) != nullptr) return Error{-kEEXIST};
    bool is_dir = (mode & kTypeMask) == kTypeDir;
    if (is_dir && dir->nlink >= kMaxLinks) return Error{-kEMLINK};
    Result<Inode*> made = new_inode(mode, owner, dir);
    if (!made.ok()) return made;
    Inode* inode = *made;
    if (dir_insert(*this, dir, name, inode) == nullptr) {
        free_inode(inode);
        return Error{-kENOSPC};
    }
    if (is_dir) {
        inode->nlink = 2;
        inode->dir.parent = dir;
        ++dir->nlink;
    } else {
        inode->nlink = 1;
    }
    touch_dir(dir);
    return inode;
}

Result<Inode*> Fs::create(Inode* dir, Name name, uint32_t perm, const Cred& owner) {
    return add_new(dir, name, kTypeRegular | (perm & kPermMask), owner);
}

Result<Inode*> Fs::create_unnamed(Inode* dir, uint32_t perm, const Cred& owner) {
    if (dir != nullptr) {
        int r = check_live_dir(dir);
        if (r < 0) return Error{r};
    }
    Result<Inode*> made = new_inode(kTypeRegular | (perm & kPermMask), owner, dir);
    if (made.ok()) (*made)->nlink = 0;
    return made;
}

Result<Inode*> Fs::mkdir(Inode* dir, Name name, uint32_t perm, const Cred& owner) {
    return add_new(dir, name, kTypeDir | (perm & kPermMask), owner);
}

Result<Inode*> Fs::mknod(Inode* dir, Name name, uint32_t mode, uint64_t rdev, const Cred& owner) {
    switch (mode & kTypeMask) {
        case kTypeRegular:
        case kTypeChar:
        case kTypeBlock:
        case kTypeFifo:
        case kTypeSocket:
            break;
        case kTypeDir:
            return Error{-kEPERM};
        default:
            return Error{-kEINVAL};
    }
    Result<Inode*> made = add_new(dir, name, mode & (kTypeMask | kPermMask), owner);
    if (made.ok() && ((mode & kTypeMask) == kTypeChar || (mode & kTypeMask) == kTypeBlock))
        (*made)->rdev = rdev;
    return made;
}

Result<Inode*> Fs::symlink(Inode* dir, Name name, Name target, const Cred& owner) {
    if (target.len == 0) return Error{-kENOENT};
    if (target.len >= kPathMax) return Error{-kENAMETOOLONG};
    auto* copy = static_cast<char*>(alloc_meta(target.len + 1));
    if (copy == nullptr) return Error{-kENOSPC};
    __builtin_memcpy(copy, target.data, target.len);
    Result<Inode*> made = add_new(dir, name, kTypeSymlink | 0777, owner);
    if (!made.ok()) {
        free_meta(copy, target.len + 1);
        return made;
    }
    (*made)->link.target = copy;
    (*made)->link.len = uint32_t(target.len);
    (*made)->size = target.len;
    return made;
}

int Fs::link(Inode* dir, Name name, Inode* target) {
    if (target->is_dir()) return -kEPERM;
    int r = check_live_dir(dir);
    if (r == 0) r = check_name(name);
    if (r < 0) return r;
    if (name.is_dot() || name.is_dotdot() || dir_find(dir, name) != nullptr) return -kEEXIST;
    if (target->nlink == 0) return -kENOENT;
    if (target->nlink >= kMaxLinks) return -kEMLINK;
    if (dir_insert(*this, dir, name, target) == nullptr) return -kENOSPC;
    ++target->nlink;
    target->ctime_ns = int64_t(now());
    touch_dir(dir);
    return 0;
}

int Fs::unlink(Inode* dir, Name name) {
    int r = check_live_dir(dir);
    if (r < 0) return r;
    if (name.is_dot() || name.is_dotdot()) return -kEISDIR;
    r = check_name(name);
    if (r < 0) return r;
    DirEntry* e = dir_find(dir, name);
    if (e == nullptr) return -kENOENT;
    Inode* victim = e->inode;
    if (victim->is_dir()) return -kEISDIR;
    dir_remove(*this, dir, e);
    --victim->nlink;
    victim->ctime_ns = int64_t(now());
    touch_dir(dir);
    release_if_unused(victim);
    return 0;
}

int Fs::rmdir(Inode* dir, Name name) {
    if (!dir->is_dir()) return -kENOTDIR;
    if (name.is_dot()) return -kEINVAL;
    if (name.is_dotdot()) return -kENOTEMPTY;
    if (dir->nlink == 0) return -kENOENT;
    int r = check_name(name);
    if (r < 0) return r;
    DirEntry* e = dir_find(dir, name);
    if (e == nullptr) return -kENOENT;
    Inode* victim = e->inode;
    if (!victim->is_dir()) return -kENOTDIR;
    if (victim == root_) return -kEBUSY;
    if (victim->dir.entry_count != 0) return -kENOTEMPTY;
    dir_remove(*this, dir, e);
    victim->nlink = 0;
    victim->dir.parent = nullptr;
    victim->ctime_ns = int64_t(now());
    --dir->nlink;
    touch_dir(dir);
    release_if_unused(victim);
    return 0;
}

int Fs::rename(Inode* old_dir, Name old_name, Inode* new_dir, Name new_name, unsigned flags) {
    if (flags & ~(kRenameNoReplace | kRenameExchange)) return -kEINVAL;
    if ((flags & kRenameNoReplace) && (flags & kRenameExchange)) return -kEINVAL;
    int r = check_live_dir(old_dir);
    if (r == 0) r = check_live_dir(new_dir);
    if (r < 0) return r;
    if (old_name.is_dot() || old_name.is_dotdot() || new_name.is_dot() || new_name.is_dotdot())
        return -kEBUSY;
    r = check_name(old_name);
    if (r == 0) r = check_name(new_name);
    if (r < 0) return r;

    DirEntry* old_entry = dir_find(old_dir, old_name);
    if (old_entry == nullptr) return -kENOENT;
    DirEntry* new_entry = dir_find(new_dir, new_name);
    Inode* source = old_entry->inode;
    if (flags & kRenameExchange) {
        if (new_entry == nullptr) return -kENOENT;
    } else if (new_entry != nullptr && (flags & kRenameNoReplace)) {
        return -kEEXIST;
    }
    Inode* target = new_entry != nullptr ? new_entry->inode : nullptr;
    if (target == source) return 0;  // two names of one inode: POSIX says do nothing

    // A directory cannot move below itself.
    if (source->is_dir() && new_dir != old_dir && is_ancestor(source, new_dir)) return -kEINVAL;
    int64_t t = int64_t(now());

    if (flags & kRenameExchange) {
        if (target->is_dir() && new_dir != old_dir && is_ancestor(target, old_dir)) return -kEINVAL;
        old_entry->inode = target;
        new_entry->inode = source;
        if (old_dir != new_dir) {
            if (source->is_dir()) source->dir.parent = new_dir;
            if (target->is_dir()) target->dir.parent = old_dir;
            if (source->is_dir() && !target->is_dir()) {
                --old_dir->nlink;
                ++new_dir->nlink;
            } else if (target->is_dir() && !source->is_dir()) {
                --new_dir->nlink;
                ++old_dir->nlink;
            }
        }
        source->ctime_ns = target->ctime_ns = t;
        touch_dir(old_dir);
        touch_dir(new_dir);
        return 0;
    }

    if (target != nullptr) {
        if (source->is_dir()) {
            if (!target->is_dir()) return -kENOTDIR;
            if (target->dir.entry_count != 0) return -kENOTEMPTY;
        } else if (target->is_dir()) {
            return -kEISDIR;
        }
        // Reuse the target's entry: nothing to allocate, so this cannot fail from here on.
        new_entry->inode = source;
        dir_remove(*this, old_dir, old_entry);
        if (target->is_dir()) {
            target->nlink = 0;
            target->dir.parent = nullptr;
            --new_dir->nlink;
        } else {
            --target->nlink;
        }
        target->ctime_ns = t;
    } else {
        if (source->is_dir() && new_dir != old_dir && new_dir->nlink >= kMaxLinks) return -kEMLINK;
        if (dir_insert(*this, new_dir, new_name, source) == nullptr) return -kENOSPC;
        dir_remove(*this, old_dir, old_entry);
    }
    if (source->is_dir() && old_dir != new_dir) {
        source->dir.parent = new_dir;
        --old_dir->nlink;
        ++new_dir->nlink;
    }
    source->ctime_ns = t;
    touch_dir(old_dir);
    touch_dir(new_dir);
    if (target != nullptr) release_if_unused(target);
    return 0;
}

int Fs::dir_next(Inode* dir, uint64_t cookie, DirentInfo* out) {
    if (!dir->is_dir()) return -kENOTDIR;
    if (cookie < 1) {
        *out = {Name(".", 1), dir->ino, DirentType::kDir, 1};
        return 1;
    }
    if (cookie < 2) {
        const Inode* parent = dir->dir.parent != nullptr ? dir->dir.parent : dir;
        *out = {Name("..", 2), parent->ino, DirentType::kDir, 2};
        return 1;
    }
    DirEntry* e = dir_after(dir, cookie);
    if (e == nullptr) return 0;
    *out = {Name(e->name, e->name_len), e->inode->ino, dirent_type(e->inode->mode), e->cookie};
    return 1;
}

}  // namespace utx::minifs

// minifs/fs.cpp: the Fs lifecycle, accounting, inode allocation and metadata.
#include "minifs/fs.h"

#include "minifs/internal.h"

namespace utx::minifs {

using detail::dir_free_all;
using detail::file_free_from;

int Fs::init(const Config& config) {
    config_ = config;
    root_ = nullptr;
    all_ = nullptr;
    next_ino_ = 1;
    used_bytes_ = 0;
    data_pages_ = 0;
    inode_count_ = 0;
    Cred owner{config.root_uid, config.root_gid, nullptr, 0};
    Result<Inode*> root = new_inode(kTypeDir | (config.root_mode & kPermMask), owner, nullptr);
    if (!root.ok()) return root.error();
    root_ = *root;
    root_->nlink = 2;
    root_->dir.parent = root_;
    return 0;
}

void Fs::destroy() {
    while (all_ != nullptr) free_inode(all_);
    root_ = nullptr;
}

FsStats Fs::stats() const {
    FsStats s{};
    s.budget_bytes = config_.budget_bytes;
    s.used_bytes = used_bytes_;
    s.data_pages = data_pages_;
    s.metadata_bytes = used_bytes_ - data_pages_ * kPageSize;
    s.inodes = inode_count_;
    return s;
}

void* Fs::alloc_meta(size_t size) {
    if (size > config_.budget_bytes - used_bytes_ || used_bytes_ > config_.budget_bytes)
        return nullptr;
    void* p = config_.allocator.alloc(size);
    if (p == nullptr) return nullptr;
    used_bytes_ += size;
    __builtin_memset(p, 0, size);
    return p;
}

void Fs::free_meta(void* p, size_t size) {
    if (p == nullptr) return;
    used_bytes_ -= size;
    config_.allocator.free(p);
}

void* Fs::alloc_data_page() {
    if (kPageSize > config_.budget_bytes - used_bytes_ || used_bytes_ > config_.budget_bytes)
        return nullptr;
    void* p = config_.allocator.alloc_page();
    if (p == nullptr) return nullptr;
    used_bytes_ += kPageSize;
    ++data_pages_;
    __builtin_memset(p, 0, kPageSize);
    return p;
}

void Fs::free_data_page(void* p) {
    used_bytes_ -= kPageSize;
    --data_pages_;
    config_.allocator.free_page(p);
}

Result<Inode*> Fs::new_inode(uint32_t mode, const Cred& owner, const Inode* dir) {
    auto* inode = static_cast<Inode*>(alloc_meta(sizeof(Inode)));
    if (inode == nullptr) return Error{-kENOSPC};
    inode->ino = next_ino_++;
    inode->mode = mode;
    inode->uid = owner.uid;
    inode->gid = owner.gid;
    if (dir != nullptr && (dir->mode & kSetGid)) {
        inode->gid = dir->gid;
        if ((mode & kTypeMask) == kTypeDir) inode->mode |= kSetGid;
    }
    int64_t t = int64_t(now());
    inode->atime_ns = inode->mtime_ns = inode->ctime_ns = t;
    if ((mode & kTypeMask) == kTypeDir) inode->dir.next_cookie = 3;  // 1 is ".", 2 is ".."
    inode->all_next = all_;
    if (all_ != nullptr) all_->all_prev = inode;
    all_ = inode;
    ++inode_count_;
    return inode;
}

void Fs::free_inode(Inode* inode) {
    switch (inode->type()) {
        case kTypeRegular:
            file_free_from(*this, inode->file, 0);
            break;
        case kTypeDir:
            dir_free_all(*this, inode);
            break;
        case kTypeSymlink:
            free_meta(inode->link.target, inode->link.len + 1);
            break;
        default:
            break;
    }
    if (inode->all_prev != nullptr)
        inode->all_prev->all_next = inode->all_next;
    else
        all_ = inode->all_next;
    if (inode->all_next != nullptr) inode->all_next->all_prev = inode->all_prev;
    if (inode == root_) root_ = nullptr;
    --inode_count_;
    free_meta(inode, sizeof(Inode));
}

void Fs::release_if_unused(Inode* inode) {
    if (inode->nlink == 0 && inode->refs == 0) free_inode(inode);
}

void Fs::unref(Inode* inode) {
    if (inode->refs > 0) --inode->refs;
    release_if_unused(inode);
}

void Fs::stat(const Inode* inode, Stat* out) const {
    out->ino = inode->ino;
    out->nlink = inode->nlink;
    out->mode = inode->mode;
    out->uid = inode->uid;
    out->gid = inode->gid;
    out->rdev = inode->rdev;
    out->size = inode->size;
    out->blocks = 0;
    if (inode->is_regular()) out->blocks = inode->file.pages * (kPageSize / 512);
    if (inode->is_dir()) out->size = 40 + 20 * inode->dir.entry_count;  // like tmpfs
    out->blksize = kPageSize;
    out->atime_ns = inode->atime_ns;
    out->mtime_ns = inode->mtime_ns;
    out->ctime_ns = inode->ctime_ns;
}

int Fs::chmod(Inode* inode, uint32_t perm) {
    inode->mode = inode->type() | (perm & kPermMask);
    inode->ctime_ns = int64_t(now());
    return 0;
}

int Fs::chown(Inode* inode, uint32_t uid, uint32_t gid) {
    if (uid != 0xffffffffu) inode->uid = uid;
    if (gid != 0xffffffffu) inode->gid = gid;
    inode->ctime_ns = int64_t(now());
    return 0;
}

int Fs::utimens(Inode* inode, int64_t atime_ns, int64_t mtime_ns) {
    if (atime_ns == kTimeOmit && mtime_ns == kTimeOmit) return 0;
    int64_t t = int64_t(now());
    if (atime_ns != kTimeOmit) inode->atime_ns = atime_ns == kTimeNow ? t : atime_ns;
    if (mtime_ns != kTimeOmit) inode->mtime_ns = mtime_ns == kTimeNow ? t : mtime_ns;
    inode->ctime_ns = t;
    return 0;
}

void Fs::touch_atime(Inode* inode) {
    constexpr int64_t kDay = 86400ll * 1000000000ll;
    int64_t t = int64_t(now());
    if (inode->atime_ns <= inode->mtime_ns || inode->atime_ns <= inode->ctime_ns ||
        t - inode->atime_ns >= kDay)
        inode->atime_ns = t;
}

int64_t Fs::readlink(Inode* inode, char* buf, size_t len) {
    if (!inode->is_symlink()) return -kEINVAL;
    size_t n = inode->link.len < len ? inode->link.len : len;
    __builtin_memcpy(buf, inode->link.target, n);
    touch_atime(inode);
    return int64_t(n);
}

static bool in_group(const Cred& cred, uint32_t gid) {
    if (cred.gid == gid) return true;
    for (size_t i = 0; i < cred.group_count; ++i)
        if (cred.groups[i] == gid) return true;
    return false;
}

int access(const Inode* inode, const Cred& cred, int mask) {
    mask &= kMayRead | kMayWrite | kMayExec;
    if (cred.uid == 0) {
        if ((mask & kMayExec) && !inode->is_dir() && (inode->mode & 0111) == 0) return -kEACCES;
        return 0;
    }
    uint32_t bits;
    if (cred.uid == inode->uid)
        bits = (inode->mode >> 6) & 7;
    else if (in_group(cred, inode->gid))
        bits = (inode->mode >> 3) & 7;
    else
        bits = inode->mode & 7;
    return (uint32_t(mask) & ~bits) ? -kEACCES : 0;
}

int may_delete(const Inode* dir, const Inode* victim, const Cred& cred) {
    int r = access(dir, cred, kMayWrite | kMayExec);
    if (r < 0) return r;
    if ((dir->mode & kSticky) && cred.uid != 0 && cred.uid != victim->uid && cred.uid != dir->uid)
        return -kEPERM;
    return 0;
}

DirentType dirent_type(uint32_t mode) {
    switch (mode & kTypeMask) {
        case kTypeFifo:
            return DirentType::kFifo;
        case kTypeChar:
            return DirentType::kChar;
        case kTypeDir:
            return DirentType::kDir;
        case kTypeBlock:
            return DirentType::kBlock;
        case kTypeRegular:
            return DirentType::kRegular;
        case kTypeSymlink:
            return DirentType::kSymlink;
        case kTypeSocket:
            return DirentType::kSocket;
        default:
            return DirentType::kUnknown;
    }
}

}  // namespace utx::minifs

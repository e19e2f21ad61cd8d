// minifs/file.cpp: reading and writing regular files over their page index.
//
// Invariant: the bytes of a page past the file size are zero, so growing a file (truncate or
// a write past the end) never exposes old data.
#include "minifs/internal.h"

namespace utx::minifs {

using detail::file_find_page;
using detail::file_free_range;
using detail::file_get_page;

namespace {

int check_regular(const Inode* inode) {
    if (inode->is_dir()) return -kEISDIR;
    if (!inode->is_regular()) return -kEINVAL;
    return 0;
}

// Zeroes [from, end of its page) of a page that exists (the invariant above, kept even when
// someone wrote past the end through a mapping).
void zero_tail(const FileData& file, uint64_t from) {
    uint64_t in_page = from % kPageSize;
    if (in_page == 0) return;
    auto* page = static_cast<uint8_t*>(file_find_page(file, from / kPageSize));
    if (page != nullptr) __builtin_memset(page + in_page, 0, kPageSize - in_page);
}

}  // namespace

int64_t Fs::read(Inode* inode, uint64_t offset, void* buf, size_t len) {
    int r = check_regular(inode);
    if (r < 0) return r;
    if (offset >= inode->size || len == 0) return 0;
    uint64_t n = inode->size - offset;
    if (len < n) n = len;
    auto* out = static_cast<uint8_t*>(buf);
    for (uint64_t done = 0; done < n;) {
        uint64_t pos = offset + done;
        uint64_t in_page = pos % kPageSize;
        uint64_t chunk = kPageSize - in_page;
        if (chunk > n - done) chunk = n - done;
        auto* page = static_cast<const uint8_t*>(file_find_page(inode->file, pos / kPageSize));
        if (page != nullptr)
            __builtin_memcpy(out + done, page + in_page, chunk);
        else
            __builtin_memset(out + done, 0, chunk);
        done += chunk;
    }
    touch_atime(inode);
    return int64_t(n);
}

int64_t Fs::write(Inode* inode, uint64_t offset, const void* buf, size_t len) {
    int r = check_regular(inode);
    if (r < 0) return r;
    if (len == 0) return 0;
    if (offset >= kMaxFileSize) return -kEFBIG;
    uint64_t n = len;
    if (n > kMaxFileSize - offset) n = kMaxFileSize - offset;
    if (offset > inode->size) zero_tail(inode->file, inode->size);
    const auto* in = static_cast<const uint8_t*>(buf);
    uint64_t done = 0;
    while (done < n) {
        uint64_t pos = offset + done;
        uint64_t in_page = pos % kPageSize;
        uint64_t chunk = kPageSize - in_page;
        if (chunk > n - done) chunk = n - done;
        auto* page = static_cast<uint8_t*>(file_get_page(*this, inode->file, pos / kPageSize));
        if (page == nullptr) break;
        __builtin_memcpy(page + in_page, in + done, chunk);
        done += chunk;
    }
    if (done == 0) return -kENOSPC;
    if (offset + done > inode->size) inode->size = offset + done;
    inode->mtime_ns = inode->ctime_ns = int64_t(now());
    return int64_t(done);
}

int Fs::truncate(Inode* inode, uint64_t size) {
    int r = check_regular(inode);
    if (r < 0) return r;
    if (size > kMaxFileSize) return -kEFBIG;
    if (size < inode->size) {
        release_pages(inode, (size + kPageSize - 1) / kPageSize, ~0ull);
        zero_tail(inode->file, size);
    } else if (size > inode->size) {
        zero_tail(inode->file, inode->size);
    }
    inode->size = size;
    inode->mtime_ns = inode->ctime_ns = int64_t(now());
    return 0;
}

int Fs::allocate(Inode* inode, uint64_t offset, uint64_t len, bool keep_size) {
    int r = check_regular(inode);
    if (r < 0) return r;
    if (len == 0) return -kEINVAL;
    if (offset > kMaxFileSize || len > kMaxFileSize - offset) return -kEFBIG;
    uint64_t end = offset + len;
    // Pages filled before running out stay: they are zeros, invisible but for st_blocks.
    for (uint64_t page = offset / kPageSize; page < (end + kPageSize - 1) / kPageSize; ++page)
        if (file_get_page(*this, inode->file, page) == nullptr) return -kENOSPC;
    if (!keep_size && end > inode->size) {
        zero_tail(inode->file, inode->size);
        inode->size = end;
    }
    inode->ctime_ns = int64_t(now());
    if (!keep_size) inode->mtime_ns = inode->ctime_ns;
    return 0;
}

int Fs::punch_hole(Inode* inode, uint64_t offset, uint64_t len) {
    int r = check_regular(inode);
    if (r < 0) return r;
    if (len == 0) return -kEINVAL;
    if (offset > kMaxFileSize || len > kMaxFileSize - offset) return -kEFBIG;
    const uint64_t end = offset + len;
    const uint64_t first_whole = (offset + kPageSize - 1) / kPageSize;  // pages wholly inside
    const uint64_t end_whole = end / kPageSize;
    // The partial pages at either edge keep their page, with the punched bytes zeroed.
    auto zero = [&](uint64_t from, uint64_t to) {
        auto* page = static_cast<uint8_t*>(file_find_page(inode->file, from / kPageSize));
        if (page != nullptr) __builtin_memset(page + from % kPageSize, 0, to - from);
    };
    if (offset % kPageSize != 0) {
        const uint64_t page_end = first_whole * kPageSize;
        zero(offset, end < page_end ? end : page_end);
    }
    if (end % kPageSize != 0 && end_whole >= first_whole) zero(end_whole * kPageSize, end);
    if (first_whole < end_whole) release_pages(inode, first_whole, end_whole);
    inode->mtime_ns = inode->ctime_ns = int64_t(now());
    return 0;
}

void Fs::release_pages(Inode* inode, uint64_t first, uint64_t end) {
    if (config_.releasing_pages != nullptr) config_.releasing_pages(inode, first, end);
    file_free_range(*this, inode->file, first, end);
}

void* Fs::page_at(Inode* inode, uint64_t index) {
    if (!inode->is_regular()) return nullptr;
    return file_find_page(inode->file, index);
}

Result<void*> Fs::page_for_write(Inode* inode, uint64_t index) {
    int r = check_regular(inode);
    if (r < 0) return Error{r};
    if (index > kMaxFileSize / kPageSize) return Error{-kEFBIG};
    void* page = file_get_page(*this, inode->file, index);
    if (page == nullptr) return Error{-kENOSPC};
    return page;
}

}  // namespace utx::minifs

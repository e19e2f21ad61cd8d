// minifs/dir.cpp: directory entries: a list in cookie (creation) order for getdents, and
// two chained hash tables, by name for lookup and by cookie to resume iteration in O(1).
#include "minifs/internal.h"

namespace utx::minifs::detail {

namespace {

constexpr uint32_t kInitialBuckets = 8;
// Bucket arrays stay below 1 MiB (2 * 8 bytes * 64Ki); past that the chains grow instead.
constexpr uint32_t kMaxBuckets = 1u << 16;

uint32_t name_hash(Name name) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (size_t i = 0; i < name.len; ++i) h = (h ^ uint8_t(name.data[i])) * 16777619u;
    return h;
}

size_t tables_size(uint32_t buckets) {
    return 2 * sizeof(DirEntry*) * buckets;
}

void chain_in(DirData& d, DirEntry* e) {
    uint32_t mask = d.bucket_count - 1;
    DirEntry*& by_name = d.name_buckets[e->hash & mask];
    e->name_chain = by_name;
    by_name = e;
    DirEntry*& by_cookie = d.cookie_buckets[uint32_t(e->cookie) & mask];
    e->cookie_chain = by_cookie;
    by_cookie = e;
}

// Replaces the tables with ones of `buckets` buckets; false (nothing changed) when out of
// space.
bool resize_tables(Fs& fs, DirData& d, uint32_t buckets) {
    auto** tables = static_cast<DirEntry**>(fs.alloc_meta(tables_size(buckets)));
    if (tables == nullptr) return false;
    fs.free_meta(d.name_buckets, tables_size(d.bucket_count));
    d.name_buckets = tables;
    d.cookie_buckets = tables + buckets;
    d.bucket_count = buckets;
    for (DirEntry* e = d.first; e != nullptr; e = e->next) chain_in(d, e);
    return true;
}

}  // namespace

int check_name(Name name) {
    if (name.len == 0) return -kENOENT;
    if (name.len > kNameMax) return -kENAMETOOLONG;
    for (size_t i = 0; i < name.len; ++i)
        if (name.data[i] == '/' || name.data[i] == '\0') return -kEINVAL;
    return 0;
}

DirEntry* dir_find(const Inode* dir, Name name) {
    const DirData& d = dir->dir;
    if (d.bucket_count == 0) return nullptr;
    uint32_t h = name_hash(name);
    for (DirEntry* e = d.name_buckets[h & (d.bucket_count - 1)]; e != nullptr; e = e->name_chain)
        if (e->hash == h && e->name_len == name.len &&
            __builtin_memcmp(e->name, name.data, name.len) == 0)
            return e;
    return nullptr;
}

DirEntry* dir_insert(Fs& fs, Inode* dir, Name name, Inode* inode) {
    DirData& d = dir->dir;
    if (d.bucket_count == 0) {
        if (!resize_tables(fs, d, kInitialBuckets)) return nullptr;
    } else if (d.entry_count >= 2 * uint64_t(d.bucket_count) && d.bucket_count < kMaxBuckets) {
        resize_tables(fs, d, d.bucket_count * 2);  // a failure only makes chains longer
    }
    auto* e = static_cast<DirEntry*>(fs.alloc_meta(entry_size(name.len)));
    if (e == nullptr) return nullptr;
    __builtin_memcpy(e->name, name.data, name.len);
    e->name_len = uint16_t(name.len);
    e->hash = name_hash(name);
    e->inode = inode;
    e->cookie = d.next_cookie++;
    e->prev = d.last;
    if (d.last != nullptr)
        d.last->next = e;
    else
        d.first = e;
    d.last = e;
    chain_in(d, e);
    ++d.entry_count;
    return e;
}

void dir_remove(Fs& fs, Inode* dir, DirEntry* e) {
    DirData& d = dir->dir;
    uint32_t mask = d.bucket_count - 1;
    for (DirEntry** p = &d.name_buckets[e->hash & mask]; *p != nullptr; p = &(*p)->name_chain)
        if (*p == e) {
            *p = e->name_chain;
            break;
        }
    for (DirEntry** p = &d.cookie_buckets[uint32_t(e->cookie) & mask]; *p != nullptr;
         p = &(*p)->cookie_chain)
        if (*p == e) {
            *p = e->cookie_chain;
            break;
        }
    if (e->prev != nullptr)
        e->prev->next = e->next;
    else
        d.first = e->next;
    if (e->next != nullptr)
        e->next->prev = e->prev;
    else
        d.last = e->prev;
    --d.entry_count;
    fs.free_meta(e, entry_size(e->name_len));
}

void dir_free_all(Fs& fs, Inode* dir) {
    DirData& d = dir->dir;
    for (DirEntry* e = d.first; e != nullptr;) {
        DirEntry* next = e->next;
        fs.free_meta(e, entry_size(e->name_len));
        e = next;
    }
    fs.free_meta(d.name_buckets, tables_size(d.bucket_count));
    d.first = d.last = nullptr;
    d.name_buckets = d.cookie_buckets = nullptr;
    d.bucket_count = 0;
    d.entry_count = 0;
}

// The first entry with a cookie above `cookie`.
DirEntry* dir_after(const Inode* dir, uint64_t cookie) {
    const DirData& d = dir->dir;
    if (d.bucket_count == 0) return nullptr;
    for (DirEntry* e = d.cookie_buckets[uint32_t(cookie) & (d.bucket_count - 1)]; e != nullptr;
         e = e->cookie_chain)
        if (e->cookie == cookie) return e->next;
    // That entry is gone: the list is in cookie order, so scan for the next one.
    DirEntry* e = d.first;
    while (e != nullptr && e->cookie <= cookie) e = e->next;
    return e;
}

}  // namespace utx::minifs::detail

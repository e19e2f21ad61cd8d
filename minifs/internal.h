// minifs/internal.h: what the parts of minifs share and the embedder does not see.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "minifs/fs.h"

namespace utx::minifs {

struct DirEntry {
    DirEntry* prev;  // cookie order
    DirEntry* next;
    DirEntry* name_chain;
    DirEntry* cookie_chain;
    Inode* inode;
    uint64_t cookie;
    uint32_t hash;
    uint16_t name_len;
    char name[];  // name_len bytes, no NUL
};

}  // namespace utx::minifs

namespace utx::minifs::detail {

inline size_t entry_size(size_t name_len) {
    return sizeof(DirEntry) + name_len;
}

// A single component: not empty, at most kNameMax bytes, no '/' or NUL.
int check_name(Name name);

// Directories (dir.cpp).
DirEntry* dir_find(const Inode* dir, Name name);
// Allocates and appends an entry (with a fresh cookie). Null when space runs out.
DirEntry* dir_insert(Fs& fs, Inode* dir, Name name, Inode* inode);
// Unlinks and frees the entry; the inode's nlink is the caller's business.
void dir_remove(Fs& fs, Inode* dir, DirEntry* entry);
// Frees all entries and the tables (the inodes are not touched).
void dir_free_all(Fs& fs, Inode* dir);
// The first entry with a cookie above `cookie`, or null.
DirEntry* dir_after(const Inode* dir, uint64_t cookie);

// Regular file pages (file_data.cpp).
void* file_find_page(const FileData& file, uint64_t index);
void* file_get_page(Fs& fs, FileData& file, uint64_t index);  // null when out of space
// Frees every page of index >= first.
void file_free_from(Fs& fs, FileData& file, uint64_t first);
// Frees the pages of index in [first, end).
void file_free_range(Fs& fs, FileData& file, uint64_t first, uint64_t end);

}  // namespace utx::minifs::detail

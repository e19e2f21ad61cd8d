// minifs/fuzz/ops_script.h: a byte-coded script of file system operations, run against an
// Fs with the invariants checked after every step. Used by fuzz/minifs_ops_fuzz.cpp
// (libFuzzer) and by a randomized unit test (minifs/tests/ops_random_test.cpp).
//
// Each operation is one opcode byte and a few argument bytes; names come from a small pool
// so that operations collide often (rename over existing names, links, loops). Regular
// files' contents are mirrored in a model (FileModel), so every read is checked against
// what was written, truncated, punched and allocated before, not only the last write.
#pragma once
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "minifs/fuzz/fuzz_support.h"
#include "minifs/path.h"

namespace utx::minifs::fuzz {

// What a regular file holds: its size and runs of one non-zero byte; the rest reads as
// zeros. Files are only written through the script, so a file it has not written yet is
// empty.
struct FileModel {
    struct Run {
        uint64_t end;
        uint8_t byte;
    };
    uint64_t size = 0;
    std::map<uint64_t, Run> runs;  // by start, disjoint

    // [start, end) now reads as `byte`.
    void fill(uint64_t start, uint64_t end, uint8_t byte) {
        if (start >= end) return;
        auto it = runs.lower_bound(start);
        if (it != runs.begin() && std::prev(it)->second.end > start) --it;
        std::vector<std::pair<uint64_t, Run>> keep;
        while (it != runs.end() && it->first < end) {
            if (it->first < start) keep.push_back({it->first, {start, it->second.byte}});
            if (it->second.end > end) keep.push_back({end, it->second});
            it = runs.erase(it);
        }
        for (auto& [at, run] : keep) runs[at] = run;
        if (byte != 0) runs[start] = {end, byte};
    }
    void truncate(uint64_t new_size) {
        if (new_size < size) fill(new_size, size, 0);
        size = new_size;
    }
    // The byte at `offset` (below size).
    uint8_t at(uint64_t offset) const {
        auto it = runs.upper_bound(offset);
        if (it == runs.begin()) return 0;
        --it;
        return offset < it->second.end ? it->second.byte : 0;
    }
    // Checks what a read of `len` bytes at `offset` returned.
    void check_read(uint64_t offset, size_t len, int64_t n, const uint8_t* buf) const {
        const uint64_t expect = offset >= size ? 0 : std::min<uint64_t>(len, size - offset);
        MINIFS_CHECK(n == int64_t(expect));
        for (uint64_t i = 0; i < expect; ++i) MINIFS_CHECK(buf[i] == at(offset + i));
    }
};

inline void run_ops_script(const uint8_t* data, size_t size, uint64_t budget = 256 * 1024) {
    static const char* const kPaths[] = {
        "a", "b", "c", "a/x", "a/y", "b/x", "b/a", "a/x/z", "c/../a/y", "l", "/a/x/..", "a/x/z/w",
    };
    constexpr size_t kPathCount = sizeof kPaths / sizeof kPaths[0];
    Fs fs;
    if (fs.init(config(budget)) != 0) abort();
    PathContext ctx{fs.root(), Cred{}, true};
    std::vector<Inode*> open;             // referenced inodes, like open files
    std::map<uint64_t, FileModel> files;  // by inode number (never reused)
    std::map<uint64_t, std::string> link_targets;
    size_t i = 0;
    auto byte = [&]() -> uint8_t { return i < size ? data[i++] : 0; };
    auto path = [&]() { return Name(kPaths[byte() % kPathCount]); };
    auto keep_open = [&](Inode* inode) {
        if (open.size() >= 8) return;
        fs.ref(inode);
        open.push_back(inode);
    };
    auto model = [&](Inode* inode) -> FileModel& { return files[inode->ino]; };
    uint8_t buf[8192];
    uint8_t back[8192];
    while (i < size) {
        uint8_t op = byte() % 20;
        switch (op) {
            case 0:
                (void)mkdir_at(fs, ctx, fs.root(), path(), 0755);
                break;
            case 1: {
                Result<OpenResult> r = open_at(fs, ctx, fs.root(), path(), kOpenCreate, 0644);
                if (r.ok()) keep_open((*r).inode);
                break;
            }
            case 2:
                (void)unlink_at(fs, ctx, fs.root(), path());
                break;
            case 3:
                (void)rmdir_at(fs, ctx, fs.root(), path());
                break;
            case 4: {
                Name from = path(), to = path();
                (void)rename_at(fs, ctx, fs.root(), from, fs.root(), to, byte() % 4);
                break;
            }
            case 5: {
                Name from = path(), to = path();
                (void)link_at(fs, ctx, fs.root(), from, fs.root(), to, byte() & 1);
                break;
            }
            case 6: {
                Name target = path(), at = path();
                Result<Inode*> r = symlink_at(fs, ctx, target, fs.root(), at);
                if (r.ok()) link_targets[(*r)->ino] = std::string(target.data, target.len);
                break;
            }
            case 7:
            case 8: {
                if (open.empty()) break;
                Inode* f = open[byte() % open.size()];
                uint64_t off = uint64_t(byte()) << (byte() % 40);
                size_t len = size_t(byte()) * 37 % sizeof buf;
                const uint8_t fill = byte();
                memset(buf, fill, len);
                int64_t n = fs.write(f, off, buf, len);
                MINIFS_CHECK((n >= 0 && n <= int64_t(len)) || n == -kENOSPC || n == -kEISDIR ||
                             n == -kEINVAL);
                if (n > 0) {
                    FileModel& m = model(f);
                    m.fill(off, off + uint64_t(n), fill);
                    m.size = std::max(m.size, off + uint64_t(n));
                    m.check_read(off, size_t(n), fs.read(f, off, back, size_t(n)), back);
                }
                break;
            }
            case 9: {
                if (open.empty()) break;
                Inode* f = open[byte() % open.size()];
                uint64_t new_size = uint64_t(byte()) << (byte() % 36);
                if (fs.truncate(f, new_size) == 0) {
                    MINIFS_CHECK(f->size == new_size);
                    model(f).truncate(new_size);
                }
                break;
            }
            case 10: {
                if (open.empty()) break;
                Inode* f = open[byte() % open.size()];
                // Near what was written: the start of the file, its end, or a shifted byte.
                const uint8_t how = byte();
                uint64_t off = how % 3 == 0   ? uint64_t(byte()) * 61
                               : how % 3 == 1 ? f->size - std::min<uint64_t>(f->size, byte() * 53u)
                                              : uint64_t(byte()) << (byte() % 36);
                size_t len = 1 + size_t(byte()) * 31 % sizeof buf;
                int64_t n = fs.read(f, off, buf, len);
                MINIFS_CHECK(n >= 0 || n == -kEISDIR || n == -kEINVAL);
                if (f->is_regular()) model(f).check_read(off, len, n, buf);
                break;
            }
            case 11: {
                if (open.empty()) break;
                size_t k = byte() % open.size();
                fs.unref(open[k]);
                open.erase(open.begin() + long(k));
                break;
            }
            case 12: {
                Result<Inode*> r =
                    resolve(fs, ctx, fs.root(), path(), byte() & 1 ? kFollowLast : 0);
                if (r.ok()) keep_open(*r);
                break;
            }
            case 13: {
                // getdents in small steps, removing entries as it goes: every entry that
                // stays is seen exactly once.
                Result<Inode*> r = resolve(fs, ctx, fs.root(), path(), kFollowLast);
                if (!r.ok() || !(*r)->is_dir()) break;
                DirentInfo e;
                uint8_t remove_every = byte() % 4;
                int k = 0;
                std::map<std::string, int> seen;
                for (uint64_t c = 0; fs.dir_next(*r, c, &e) == 1 && k < 64; c = e.cookie, ++k) {
                    std::string n(e.name.data, e.name.len);
                    MINIFS_CHECK(++seen[n] == 1);
                    if (remove_every && k % remove_every == 0 && !e.name.is_dot() &&
                        !e.name.is_dotdot()) {
                        (void)fs.unlink(*r, Name(n.c_str()));
                    }
                }
                break;
            }
            case 14:
                (void)mknod_at(fs, ctx, fs.root(), path(), kTypeFifo | 0644, 0);
                break;
            case 15:
                if (!open.empty()) {
                    Inode* f = open[byte() % open.size()];
                    uint64_t off = uint64_t(byte()) * 512;
                    uint64_t len = 1 + uint64_t(byte()) * 64;
                    const bool keep_size = byte() & 1;
                    if (fs.allocate(f, off, len, keep_size) == 0 && !keep_size) {
                        FileModel& m = model(f);
                        m.size = std::max(m.size, off + len);
                    }
                }
                break;
            case 16:
                if (!open.empty()) {
                    Inode* f = open[byte() % open.size()];
                    uint64_t off = uint64_t(byte()) * 97;
                    uint64_t len = uint64_t(byte()) * 131;
                    if (fs.punch_hole(f, off, len) == 0) model(f).fill(off, off + len, 0);
                }
                break;
            case 17: {
                // The target a symlink was made with.
                Result<Inode*> r = resolve(fs, ctx, fs.root(), path(), 0);
                if (!r.ok() || !(*r)->is_symlink()) break;
                char target[64];
                int64_t n = fs.readlink(*r, target, sizeof target);
                MINIFS_CHECK(n >= 0 && std::string(target, size_t(n)) == link_targets[(*r)->ino]);
                break;
            }
            case 18: {
                Result<Inode*> r = tmpfile_at(fs, ctx, fs.root(), path(), 0, 0600);
                if (!r.ok()) break;
                MINIFS_CHECK((*r)->nlink == 0 && (*r)->is_regular());
                fs.ref(*r);
                keep_open(*r);
                fs.unref(*r);  // freed now unless kept open
                break;
            }
            case 19: {
                // stat agrees with the inode; metadata changes stick.
                if (open.empty()) break;
                Inode* f = open[byte() % open.size()];
                const uint32_t perm = uint32_t(byte()) << 4 | byte() % 16;
                MINIFS_CHECK(fs.chmod(f, perm) == 0);
                MINIFS_CHECK(fs.chown(f, byte(), 0xffffffffu) == 0);
                Stat st;
                fs.stat(f, &st);
                MINIFS_CHECK(st.ino == f->ino && st.nlink == f->nlink);
                if (!f->is_dir()) MINIFS_CHECK(st.size == f->size);
                MINIFS_CHECK((st.mode & kPermMask) == (perm & kPermMask) &&
                             st.mode >> 12 == f->mode >> 12);
                if (f->is_regular()) {
                    MINIFS_CHECK(st.size == model(f).size);
                    MINIFS_CHECK(st.blocks == f->file.pages * (kPageSize / 512));
                }
                break;
            }
        }
        for (Inode* f : open)
            if (f->is_regular()) MINIFS_CHECK(f->size == model(f).size);
        check_invariants(fs);
    }
    for (Inode* f : open) fs.unref(f);
    check_invariants(fs);
    fs.destroy();
}

}  // namespace utx::minifs::fuzz

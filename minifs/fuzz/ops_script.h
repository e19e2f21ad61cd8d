// minifs/fuzz/ops_script.h: a byte-coded script of file system operations, run against an
// Fs with the invariants checked after every step. Used by fuzz_ops.cpp (libFuzzer) and by
// a randomized unit test.
//
// Each operation is one opcode byte and a few argument bytes; names come from a small pool
// so that operations collide often (rename over existing names, links, loops).
#pragma once
#include <string>
#include <vector>

#include "minifs/fuzz/fuzz_support.h"
#include "minifs/path.h"

namespace utx::minifs::fuzz {

inline void run_ops_script(const uint8_t* data, size_t size, uint64_t budget = 256 * 1024) {
    static const char* const kPaths[] = {
        "a", "b", "c", "a/x", "a/y", "b/x", "b/a", "a/x/z", "c/../a/y", "l", "/a/x/..", "a/x/z/w",
    };
    constexpr size_t kPathCount = sizeof kPaths / sizeof kPaths[0];
    Fs fs;
    if (fs.init(config(budget)) != 0) abort();
    PathContext ctx{fs.root(), Cred{}, true};
    std::vector<Inode*> open;  // referenced inodes, like open files
    size_t i = 0;
    auto byte = [&]() -> uint8_t { return i < size ? data[i++] : 0; };
    auto path = [&]() { return Name(kPaths[byte() % kPathCount]); };
    uint8_t buf[8192];
    while (i < size) {
        uint8_t op = byte() % 16;
        switch (op) {
            case 0:
                (void)mkdir_at(fs, ctx, fs.root(), path(), 0755);
                break;
            case 1: {
                Result<OpenResult> r = open_at(fs, ctx, fs.root(), path(), kOpenCreate, 0644);
                if (r.ok() && open.size() < 8) {
                    fs.ref((*r).inode);
                    open.push_back((*r).inode);
                }
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
                (void)symlink_at(fs, ctx, target, fs.root(), at);
                break;
            }
            case 7:
            case 8: {
                if (open.empty()) break;
                Inode* f = open[byte() % open.size()];
                uint64_t off = uint64_t(byte()) << (byte() % 40);
                size_t len = size_t(byte()) * 37 % sizeof buf;
                memset(buf, byte(), len);
                int64_t n = fs.write(f, off, buf, len);
                MINIFS_CHECK((n >= 0 && n <= int64_t(len)) || n == -kENOSPC || n == -kEISDIR ||
                             n == -kEINVAL);
                if (n > 0) {
                    uint8_t back[8192];
                    MINIFS_CHECK(fs.read(f, off, back, size_t(n)) == n);
                    MINIFS_CHECK(memcmp(back, buf, size_t(n)) == 0);
                }
                break;
            }
            case 9: {
                if (open.empty()) break;
                Inode* f = open[byte() % open.size()];
                uint64_t new_size = uint64_t(byte()) << (byte() % 36);
                if (fs.truncate(f, new_size) == 0) MINIFS_CHECK(f->size == new_size);
                break;
            }
            case 10: {
                if (open.empty()) break;
                Inode* f = open[byte() % open.size()];
                uint64_t off = uint64_t(byte()) << (byte() % 36);
                int64_t n = fs.read(f, off, buf, sizeof buf);
                MINIFS_CHECK(n >= 0 || n == -kEISDIR || n == -kEINVAL);
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
                if (r.ok() && open.size() < 8) {
                    fs.ref(*r);
                    open.push_back(*r);
                }
                break;
            }
            case 13: {
                // getdents in small steps, removing entries as it goes.
                Result<Inode*> r = resolve(fs, ctx, fs.root(), path(), kFollowLast);
                if (!r.ok() || !(*r)->is_dir()) break;
                DirentInfo e;
                uint8_t remove_every = byte() % 4;
                int k = 0;
                for (uint64_t c = 0; fs.dir_next(*r, c, &e) == 1 && k < 64; c = e.cookie, ++k) {
                    if (remove_every && k % remove_every == 0 && !e.name.is_dot() &&
                        !e.name.is_dotdot()) {
                        std::string n(e.name.data, e.name.len);
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
                    (void)fs.allocate(f, off, len, byte() & 1);
                }
                break;
        }
        check_invariants(fs);
    }
    for (Inode* f : open) fs.unref(f);
    check_invariants(fs);
    fs.destroy();
}

}  // namespace utx::minifs::fuzz

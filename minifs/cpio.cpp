// minifs/cpio.cpp: the cpio newc reader (see cpio.h).
#include "minifs/cpio.h"

#include "minifs/internal.h"

namespace utx::minifs {

namespace {

constexpr size_t kHeaderSize = 110;
constexpr size_t kFieldCount = 13;
enum Field {
    kIno,
    kMode,
    kUid,
    kGid,
    kNlink,
    kMtime,
    kFileSize,
    kDevMajor,
    kDevMinor,
    kRdevMajor,
    kRdevMinor,
    kNameSize,
    kCheck,
};

uint64_t align4(uint64_t v) {
    return (v + 3) & ~uint64_t(3);
}

bool parse_hex8(const uint8_t* p, uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < 8; ++i) {
        uint8_t c = p[i];
        uint32_t digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            return false;
        v = v << 4 | digit;
    }
    *out = v;
    return true;
}

bool all_zero(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0) return false;
    return true;
}

// Inodes the unpacker keeps a reference on until it is done: hard-link sources (keyed by the
// archive's device and inode numbers) and directories waiting for their mtime. Open
// addressing, grown by doubling, memory from the Fs.
class InodeTable {
  public:
    struct Slot {
        uint64_t key;
        Inode* inode;
        int64_t mtime_ns;
    };

    explicit InodeTable(Fs& fs) : fs_(fs) {}
    InodeTable(const InodeTable&) = delete;
    InodeTable& operator=(const InodeTable&) = delete;
    ~InodeTable() {
        for (uint32_t i = 0; i < capacity_; ++i)
            if (slots_[i].inode != nullptr) fs_.unref(slots_[i].inode);
        fs_.free_meta(slots_, capacity_ * sizeof(Slot));
    }

    Slot* find(uint64_t key) {
        if (capacity_ == 0) return nullptr;
        for (uint32_t i = hash(key);; i = (i + 1) & (capacity_ - 1)) {
            if (slots_[i].inode == nullptr) return nullptr;
            if (slots_[i].key == key) return &slots_[i];
        }
    }

    // Records (or replaces) key → inode, taking a reference. False when out of space.
    bool put(uint64_t key, Inode* inode, int64_t mtime_ns) {
        if (Slot* s = find(key)) {
            fs_.unref(s->inode);
            fs_.ref(inode);
            s->inode = inode;
            s->mtime_ns = mtime_ns;
            return true;
        }
        if ((count_ + 1) * 2 > capacity_ && !grow()) return false;
        uint32_t i = hash(key);
        while (slots_[i].inode != nullptr) i = (i + 1) & (capacity_ - 1);
        fs_.ref(inode);
        slots_[i] = {key, inode, mtime_ns};
        ++count_;
        return true;
    }

    template <typename F>
    void for_each(F f) {
        for (uint32_t i = 0; i < capacity_; ++i)
            if (slots_[i].inode != nullptr) f(slots_[i]);
    }

  private:
    uint32_t hash(uint64_t key) const {
        key *= 0x9e3779b97f4a7c15ull;
        return uint32_t(key >> 32) & (capacity_ - 1);
    }
    bool grow() {
        uint32_t old_capacity = capacity_;
        Slot* old = slots_;
        uint32_t capacity = capacity_ ? capacity_ * 2 : 16;
        auto* slots = static_cast<Slot*>(fs_.alloc_meta(capacity * sizeof(Slot)));
        if (slots == nullptr) return false;
        slots_ = slots;
        capacity_ = capacity;
        for (uint32_t i = 0; i < old_capacity; ++i) {
            if (old[i].inode == nullptr) continue;
            uint32_t j = hash(old[i].key);
            while (slots_[j].inode != nullptr) j = (j + 1) & (capacity_ - 1);
            slots_[j] = old[i];
        }
        fs_.free_meta(old, old_capacity * sizeof(Slot));
        return true;
    }

    Fs& fs_;
    Slot* slots_ = nullptr;
    uint32_t capacity_ = 0;
    uint32_t count_ = 0;
};

struct Entry {
    uint32_t field[kFieldCount];
    Name name;
    const uint8_t* data;
};

class Unpacker {
  public:
    Unpacker(Fs& fs, Inode* dest) : fs_(fs), dest_(dest), links_(fs), dirs_(fs) {}

    int run(const uint8_t* image, size_t len, UnpackError* error);

  private:
    int fail(int code, const char* reason) {
        reason_ = reason;
        return code;
    }
    int add(const Entry& e);
    int add_dir(Inode* parent, Name name, const Entry& e);
    int add_file(Inode* parent, Name name, const Entry& e, uint32_t type);
    int add_symlink(Inode* parent, Name name, const Entry& e);
    int remove_in_the_way(Inode* parent, Name name, bool keep_dir);
    int fill(Inode* inode, const Entry& e);
    void set_owner_and_mode(Inode* inode, const Entry& e);

    Fs& fs_;
    Inode* dest_;
    InodeTable links_;
    InodeTable dirs_;
    Cred root_{};
    uint64_t dir_count_ = 0;
    const char* reason_ = "";
};

int Unpacker::run(const uint8_t* image, size_t len, UnpackError* error) {
    uint64_t offset = 0;
    int r = 0;
    for (;;) {
        if (len - offset < kHeaderSize) {
            r = fail(-kEINVAL, offset == len ? "no TRAILER!!!" : "truncated header");
            break;
        }
        const uint8_t* header = image + offset;
        if (__builtin_memcmp(header, "070701", 6) != 0) {
            r = fail(-kEINVAL, "bad magic (not a cpio newc archive)");
            break;
        }
        Entry e{};
        bool fields_ok = true;
        for (size_t i = 0; i < kFieldCount; ++i)
            fields_ok = fields_ok && parse_hex8(header + 6 + 8 * i, &e.field[i]);
        if (!fields_ok) {
            r = fail(-kEINVAL, "bad header field (not hex)");
            break;
        }
        uint64_t name_off = offset + kHeaderSize;
        uint64_t name_size = e.field[kNameSize];
        if (name_size == 0) {
            r = fail(-kEINVAL, "empty name");
            break;
        }
        if (name_size > len - name_off) {
            r = fail(-kEINVAL, "truncated name");
            break;
        }
        const char* name = reinterpret_cast<const char*>(image + name_off);
        if (name[name_size - 1] != '\0') {
            r = fail(-kEINVAL, "name without NUL");
            break;
        }
        size_t name_len = 0;
        while (name[name_len] != '\0') ++name_len;
        if (name_len != name_size - 1) {
            r = fail(-kEINVAL, "NUL inside a name");
            break;
        }
        e.name = Name(name, name_size - 1);
        if (e.name.equals(Name("TRAILER!!!", 10))) break;  // its padding may be cut off
        uint64_t data_off = align4(name_off + name_size);
        uint64_t file_size = e.field[kFileSize];
        if (data_off > len || file_size > len - data_off) {
            r = fail(-kEINVAL, "data past the end");
            break;
        }
        e.data = image + data_off;
        r = add(e);
        if (r < 0) break;
        offset = align4(data_off + file_size);
        if (offset > len) offset = len;  // only the padding is missing: the next read fails
    }
    if (r < 0 && error != nullptr) *error = {offset, reason_};
    if (r == 0) {
        // Last, so that creating their entries did not overwrite them.
        dirs_.for_each([&](InodeTable::Slot& s) { fs_.utimens(s.inode, s.mtime_ns, s.mtime_ns); });
    }
    return r;
}

int Unpacker::add(const Entry& e) {
    Name name = e.name;
    if (name.len > 0 && name.data[0] == '/') return fail(-kEINVAL, "absolute name");
    // Walk the parents, making missing ones; the last component is handled by type.
    Inode* dir = dest_;
    Name last(".", 1);
    size_t i = 0;
    while (i < name.len) {
        size_t start = i;
        while (i < name.len && name.data[i] != '/') ++i;
        Name component(name.data + start, i - start);
        while (i < name.len && name.data[i] == '/') ++i;
        if (component.len == 0 || component.is_dot()) continue;
        if (component.is_dotdot()) return fail(-kEINVAL, "'..' in a name");
        if (component.len > kNameMax) return fail(-kENAMETOOLONG, "name component too long");
        // It is a parent only if some component other than "." follows.
        bool more = false;
        for (size_t j = i; j < name.len; ++j) {
            if (name.data[j] == '/') continue;
            Name rest(name.data + j, name.len - j);
            size_t k = 0;
            while (k < rest.len && rest.data[k] != '/') ++k;
            if (!(k == 1 && rest.data[0] == '.')) {
                more = true;
                break;
            }
            j += k;
        }
        if (!more) {
            last = component;
            break;
        }
        Result<Inode*> next = fs_.lookup(dir, component);
        if (!next.ok()) {
            if (next.error() != -kENOENT) return fail(next.error(), "bad parent directory");
            next = fs_.mkdir(dir, component, 0755, root_);
            if (!next.ok()) return fail(next.error(), "cannot make a parent directory");
        } else if (!(*next)->is_dir()) {
            return fail(-kENOTDIR, "a parent is not a directory");
        }
        dir = *next;
    }
    uint32_t type = e.field[kMode] & kTypeMask;
    if (last.is_dot()) {
        // The destination itself ("." in the archive).
        if (type != kTypeDir) return fail(-kEINVAL, "'.' is not a directory");
        set_owner_and_mode(dest_, e);
        return dirs_.put(uint64_t(-1) - dir_count_++, dest_, int64_t(e.field[kMtime]) * 1000000000)
                   ? 0
                   : fail(-kENOSPC, "out of space");
    }
    switch (type) {
        case kTypeDir:
            return add_dir(dir, last, e);
        case kTypeRegular:
        case kTypeChar:
        case kTypeBlock:
        case kTypeFifo:
        case kTypeSocket:
            return add_file(dir, last, e, type);
        case kTypeSymlink:
            return add_symlink(dir, last, e);
        default:
            return fail(-kEINVAL, "unknown file type");
    }
}

// Clears the name for a new entry; a directory stays when keep_dir (a directory replacing a
// directory) and is removed when empty otherwise.
int Unpacker::remove_in_the_way(Inode* parent, Name name, bool keep_dir) {
    Result<Inode*> existing = fs_.lookup(parent, name);
    if (!existing.ok()) return 0;
    if ((*existing)->is_dir()) {
        if (keep_dir) return 1;
        int r = fs_.rmdir(parent, name);
        return r < 0 ? fail(r, "a non-empty directory is in the way") : 0;
    }
    int r = fs_.unlink(parent, name);
    return r < 0 ? fail(r, "cannot replace an entry") : 0;
}

void Unpacker::set_owner_and_mode(Inode* inode, const Entry& e) {
    fs_.chown(inode, e.field[kUid], e.field[kGid]);
    fs_.chmod(inode, e.field[kMode] & kPermMask);
    int64_t mtime = int64_t(e.field[kMtime]) * 1000000000;
    fs_.utimens(inode, mtime, mtime);
}

int Unpacker::add_dir(Inode* parent, Name name, const Entry& e) {
    int r = remove_in_the_way(parent, name, true);
    if (r < 0) return r;
    Inode* dir;
    if (r == 1) {
        dir = *fs_.lookup(parent, name);
    } else {
        Result<Inode*> made = fs_.mkdir(parent, name, e.field[kMode], root_);
        if (!made.ok()) return fail(made.error(), "cannot make a directory");
        dir = *made;
    }
    set_owner_and_mode(dir, e);
    if (!dirs_.put(uint64_t(-1) - dir_count_++, dir, int64_t(e.field[kMtime]) * 1000000000))
        return fail(-kENOSPC, "out of space");
    return 0;
}

int Unpacker::fill(Inode* inode, const Entry& e) {
    uint64_t size = e.field[kFileSize];
    for (uint64_t pos = 0; pos < size; pos += kPageSize) {
        uint64_t chunk = size - pos < kPageSize ? size - pos : kPageSize;
        if (all_zero(e.data + pos, chunk)) continue;
        int64_t n = fs_.write(inode, pos, e.data + pos, chunk);
        if (n < 0) return fail(int(n), "cannot write file data");
        if (uint64_t(n) != chunk) return fail(-kENOSPC, "cannot write file data");
    }
    int r = fs_.truncate(inode, size);
    return r < 0 ? fail(r, "cannot size a file") : 0;
}

int Unpacker::add_file(Inode* parent, Name name, const Entry& e, uint32_t type) {
    bool linked = e.field[kNlink] > 1;
    uint64_t key = uint64_t(e.field[kDevMajor] & 0xfff) << 52 |
                   uint64_t(e.field[kDevMinor] & 0xfffff) << 32 | e.field[kIno];
    int r = remove_in_the_way(parent, name, false);
    if (r < 0) return r;
    Inode* inode = nullptr;
    if (linked) {
        InodeTable::Slot* s = links_.find(key);
        if (s != nullptr && s->inode->nlink > 0 && s->inode->type() == type) {
            r = fs_.link(parent, name, s->inode);
            if (r < 0) return fail(r, "cannot make a hard link");
            inode = s->inode;
            if (e.field[kFileSize] > 0 && type == kTypeRegular) {
                r = fs_.truncate(inode, 0);
                if (r == 0) r = fill(inode, e);
                if (r < 0) return r;
            }
            set_owner_and_mode(inode, e);
            return 0;
        }
    }
    Result<Inode*> made = fs_.mknod(parent, name, type | (e.field[kMode] & kPermMask),
                                    make_dev(e.field[kRdevMajor], e.field[kRdevMinor]), root_);
    if (!made.ok()) return fail(made.error(), "cannot make a file");
    inode = *made;
    if (type == kTypeRegular) {
        r = fill(inode, e);
        if (r < 0) return r;
    }
    set_owner_and_mode(inode, e);
    if (linked && !links_.put(key, inode, 0)) return fail(-kENOSPC, "out of space");
    return 0;
}

int Unpacker::add_symlink(Inode* parent, Name name, const Entry& e) {
    uint64_t size = e.field[kFileSize];
    if (size == 0) return fail(-kEINVAL, "empty symlink target");
    if (size >= kPathMax) return fail(-kEINVAL, "symlink target too long");
    const char* target = reinterpret_cast<const char*>(e.data);
    for (uint64_t i = 0; i < size; ++i)
        if (target[i] == '\0') return fail(-kEINVAL, "NUL inside a symlink target");
    int r = remove_in_the_way(parent, name, false);
    if (r < 0) return r;
    Result<Inode*> made = fs_.symlink(parent, name, Name(target, size), root_);
    if (!made.ok()) return fail(made.error(), "cannot make a symlink");
    fs_.chown(*made, e.field[kUid], e.field[kGid]);
    int64_t mtime = int64_t(e.field[kMtime]) * 1000000000;
    fs_.utimens(*made, mtime, mtime);
    return 0;
}

}  // namespace

int unpack(Fs& fs, Inode* dest, const uint8_t* image, size_t len, UnpackError* error) {
    if (!dest->is_dir()) return -kENOTDIR;
    Unpacker unpacker(fs, dest);
    return unpacker.run(image, len, error);
}

}  // namespace utx::minifs

// minifs/file_data.cpp: the page index of a regular file, a radix tree of 64-slot nodes
// (512 bytes) whose height grows with the highest page written, like Linux's page cache.
// Height 0 points straight at the page of index 0, so a small file costs no index at all;
// a hole costs nothing, and a page at 1 GiB costs the page plus 4 nodes (2 KiB).
#include "minifs/internal.h"

namespace utx::minifs::detail {

namespace {

constexpr unsigned kBits = 6;
constexpr uint64_t kSlots = 1u << kBits;
constexpr unsigned kMaxHeight = 10;  // 64^10 pages: past any 63-bit offset

struct Node {
    void* slot[kSlots];
};

// Pages a tree of this height can index.
uint64_t capacity(unsigned height) {
    return height >= kMaxHeight ? ~0ull : 1ull << (kBits * height);
}

unsigned slot_index(uint64_t page, unsigned level) {
    return unsigned(page >> (kBits * (level - 1))) & (kSlots - 1);
}

// Frees the pages of index in [first, end) below *slot (a node of `level`, or a page when
// level is 0, covering pages from `base`), and the nodes left empty. Recursion is bounded by
// the tree height (at most kMaxHeight).
void prune(Fs& fs, FileData& file, void** slot, unsigned level, uint64_t base, uint64_t first,
           uint64_t end) {
    if (*slot == nullptr) return;
    if (level == 0) {
        if (base >= first && base < end) {
            fs.free_data_page(*slot);
            *slot = nullptr;
            --file.pages;
        }
        return;
    }
    auto* node = static_cast<Node*>(*slot);
    uint64_t child_span = 1ull << (kBits * (level - 1));
    bool empty = true;
    for (uint64_t i = 0; i < kSlots; ++i) {
        uint64_t child_base = base + i * child_span;
        if (child_base + child_span > first && child_base < end)
            prune(fs, file, &node->slot[i], level - 1, child_base, first, end);
        if (node->slot[i] != nullptr) empty = false;
    }
    if (empty) {
        fs.free_meta(node, sizeof(Node));
        *slot = nullptr;
    }
}

// Drops the top levels that only their first slot uses, down to height 0 (the page of
// index 0 itself) or an empty tree.
void shrink(Fs& fs, FileData& file) {
    while (file.height > 0) {
        auto* node = static_cast<Node*>(file.root);
        if (node == nullptr) {
            file.height = 0;
            return;
        }
        for (uint64_t i = 1; i < kSlots; ++i)
            if (node->slot[i] != nullptr) return;
        file.root = node->slot[0];
        fs.free_meta(node, sizeof(Node));
        --file.height;
    }
}

}  // namespace

void* file_find_page(const FileData& file, uint64_t index) {
    if (index >= capacity(file.height)) return nullptr;
    void* p = file.root;
    for (unsigned level = file.height; level > 0 && p != nullptr; --level)
        p = static_cast<Node*>(p)->slot[slot_index(index, level)];
    return p;
}

void* file_get_page(Fs& fs, FileData& file, uint64_t index) {
    while (index >= capacity(file.height)) {
        if (file.root != nullptr) {
            auto* node = static_cast<Node*>(fs.alloc_meta(sizeof(Node)));
            if (node == nullptr) {
                shrink(fs, file);
                return nullptr;
            }
            node->slot[0] = file.root;
            file.root = node;
        }
        ++file.height;
    }
    // The slots walked, to free the nodes made on the way when the page cannot be had.
    void** path[kMaxHeight + 1];
    unsigned depth = 0;
    void** slot = &file.root;
    for (unsigned level = file.height;; --level) {
        path[depth++] = slot;
        if (level == 0) break;
        if (*slot == nullptr) {
            *slot = fs.alloc_meta(sizeof(Node));
            if (*slot == nullptr) break;
        }
        slot = &static_cast<Node*>(*slot)->slot[slot_index(index, level)];
    }
    if (*slot == nullptr && depth == file.height + 1u) {
        *slot = fs.alloc_data_page();
        if (*slot != nullptr) ++file.pages;
    }
    if (*slot != nullptr) return *slot;
    // Out of space: path[depth - 1] is the slot that stayed empty; free the nodes above it
    // that now hold nothing, bottom up.
    for (unsigned j = depth - 1; j-- > 0;) {
        auto* node = static_cast<Node*>(*path[j]);
        for (uint64_t i = 0; i < kSlots; ++i)
            if (node->slot[i] != nullptr) {
                shrink(fs, file);
                return nullptr;
            }
        fs.free_meta(node, sizeof(Node));
        *path[j] = nullptr;
    }
    shrink(fs, file);
    return nullptr;
}

void file_free_range(Fs& fs, FileData& file, uint64_t first, uint64_t end) {
    if (first < capacity(file.height) && first < end)
        prune(fs, file, &file.root, file.height, 0, first, end);
    shrink(fs, file);
}

void file_free_from(Fs& fs, FileData& file, uint64_t first) {
    file_free_range(fs, file, first, ~0ull);
}

}  // namespace utx::minifs::detail

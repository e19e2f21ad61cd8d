#include "eh_frame.hpp"

#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>

namespace utx::analyze {

namespace {

class Cursor {
  public:
    Cursor(std::span<const uint8_t> data, size_t pos, size_t end)
        : data_(data), pos_(pos), end_(end) {}
    bool ok() const { return ok_; }
    size_t pos() const { return pos_; }

    template <typename T>
    T fixed() {
        T value{};
        if (end_ - pos_ < sizeof value) {
            ok_ = false;
            pos_ = end_;
            return value;
        }
        std::memcpy(&value, data_.data() + pos_, sizeof value);
        pos_ += sizeof value;
        return value;
    }
    uint64_t uleb() {
        uint64_t value = 0;
        for (unsigned shift = 0; pos_ < end_; shift += 7) {
            const uint8_t byte = data_[pos_++];
            if (shift < 64) value |= uint64_t{byte & 0x7fu} << shift;
            if ((byte & 0x80) == 0) return value;
        }
        ok_ = false;
        return value;
    }
    int64_t sleb() {
        int64_t value = 0;
        unsigned shift = 0;
        while (pos_ < end_) {
            const uint8_t byte = data_[pos_++];
            if (shift < 64) value |= int64_t{byte & 0x7f} << shift;
            shift += 7;
            if ((byte & 0x80) == 0) {
                if (shift < 64 && (byte & 0x40)) value |= -(int64_t{1} << shift);
                return value;
            }
        }
        ok_ = false;
        return value;
    }
    std::string cstring() {
        std::string s;
        while (pos_ < end_ && data_[pos_] != 0) s += static_cast<char>(data_[pos_++]);
        if (pos_ >= end_)
            ok_ = false;
        else
            ++pos_;
        return s;
    }
    // A DW_EH_PE-encoded pointer; `field_addr` is the address of the field for pcrel.
    std::optional<uint64_t> pointer(uint8_t encoding, uint64_t field_addr) {
        if (encoding == 0xff) return std::nullopt;  // DW_EH_PE_omit
        uint64_t value = 0;
        switch (encoding & 0x0f) {
            case 0x00:
                value = fixed<uint64_t>();
                break;
            case 0x01:
                value = uleb();
                break;
            case 0x02:
                value = fixed<uint16_t>();
                break;
            case 0x03:
                value = fixed<uint32_t>();
                break;
            case 0x04:
                value = fixed<uint64_t>();
                break;
            case 0x09:
                value = static_cast<uint64_t>(sleb());
                break;
            case 0x0a:
                value = static_cast<uint64_t>(int64_t{fixed<int16_t>()});
                break;
            case 0x0b:
                value = static_cast<uint64_t>(int64_t{fixed<int32_t>()});
                break;
            case 0x0c:
                value = fixed<uint64_t>();
                break;
            default:
                ok_ = false;
                return std::nullopt;
        }
        switch (encoding & 0x70) {
            case 0x00:
                break;
            case 0x10:
                value += field_addr;
                break;  // pcrel
            default:
                return std::nullopt;  // datarel/textrel/funcrel: not for pc_begin
        }
        return value;
    }

  private:
    std::span<const uint8_t> data_;
    size_t pos_, end_;
    bool ok_ = true;
};

}  // namespace

std::vector<Fde> eh_frame_fdes(std::span<const uint8_t> section, uint64_t section_addr) {
    struct Cie {
        uint8_t fde_encoding = 0;
        uint8_t lsda_encoding = 0xff;  // DW_EH_PE_omit
        bool augmented = false;        // 'z': FDEs carry augmentation data
    };
    std::vector<Fde> fdes;
    std::unordered_map<size_t, Cie> cies;
    size_t pos = 0;
    while (section.size() - pos >= 4) {
        Cursor header(section, pos, section.size());
        uint64_t length = header.fixed<uint32_t>();
        if (length == 0) break;  // terminator
        if (length == 0xffffffff) length = header.fixed<uint64_t>();
        if (!header.ok() || length > section.size() - header.pos()) break;
        const size_t body = header.pos();
        const size_t end = body + length;
        Cursor c(section, body, end);
        const uint32_t id = c.fixed<uint32_t>();
        if (id == 0) {  // CIE
            Cie cie;
            const uint8_t version = c.fixed<uint8_t>();
            const std::string augmentation = c.cstring();
            c.uleb();  // code alignment
            c.sleb();  // data alignment
            if (version == 1)
                c.fixed<uint8_t>();
            else
                c.uleb();  // return register
            if (!augmentation.empty() && augmentation[0] == 'z') {
                cie.augmented = true;
                c.uleb();
                for (size_t i = 1; i < augmentation.size() && c.ok(); ++i) {
                    const char a = augmentation[i];
                    if (a == 'R')
                        cie.fde_encoding = c.fixed<uint8_t>();
                    else if (a == 'L')
                        cie.lsda_encoding = c.fixed<uint8_t>();
                    else if (a == 'P') {
                        const uint8_t enc = c.fixed<uint8_t>();
                        c.pointer(enc & 0x7f, section_addr + c.pos());
                    } else if (a != 'S' && a != 'B')
                        break;
                }
            }
            if (c.ok()) cies[pos] = cie;
        } else {  // FDE: id is the distance back to its CIE
            const size_t id_pos = body;
            const auto cie = id <= id_pos ? cies.find(id_pos - id) : cies.end();
            if (cie != cies.end()) {
                Fde fde;
                const auto start = c.pointer(cie->second.fde_encoding, section_addr + c.pos());
                const bool start_ok = c.ok();
                // The range has the format of the start but is never relative.
                const auto size = c.pointer(cie->second.fde_encoding & 0x0f, 0);
                if (cie->second.augmented && cie->second.lsda_encoding != 0xff) {
                    c.uleb();  // augmentation data length
                    const uint8_t enc = cie->second.lsda_encoding;
                    const auto lsda = c.pointer(enc & 0x7f, section_addr + c.pos());
                    if (c.ok() && lsda && *lsda != 0) {
                        fde.lsda = lsda;
                        fde.lsda_indirect = (enc & 0x80) != 0;
                    } else if (!c.ok() || !lsda) {
                        fde.lsda_unreadable = true;
                    }
                }
                if (start_ok && start && *start != 0) {
                    fde.start = *start;
                    fde.size = c.ok() ? size.value_or(0) : 0;
                    fdes.push_back(fde);
                }
            }
        }
        pos = end;
    }
    return fdes;
}

std::vector<uint64_t> eh_frame_function_starts(std::span<const uint8_t> section,
                                               uint64_t section_addr) {
    std::vector<uint64_t> starts;
    for (const Fde& fde : eh_frame_fdes(section, section_addr)) starts.push_back(fde.start);
    return starts;
}

std::vector<uint64_t> lsda_landing_pads(std::span<const uint8_t> bytes, uint64_t lsda_addr,
                                        uint64_t function_start) {
    std::vector<uint64_t> pads;
    Cursor c(bytes, 0, bytes.size());
    const uint8_t lpstart_encoding = c.fixed<uint8_t>();
    uint64_t lpstart = function_start;
    if (lpstart_encoding != 0xff) {
        const auto base = c.pointer(lpstart_encoding, lsda_addr + c.pos());
        if (!base) return pads;
        lpstart = *base;
    }
    const uint8_t ttype_encoding = c.fixed<uint8_t>();
    if (ttype_encoding != 0xff) c.uleb();  // offset of the type table
    const uint8_t call_site_encoding = c.fixed<uint8_t>();
    const uint64_t table_size = c.uleb();
    if (!c.ok() || table_size > bytes.size() - c.pos()) return pads;
    const size_t table_end = c.pos() + table_size;
    // Call-site fields are offsets from lpstart: read them without any pc-relative base.
    const uint8_t format = call_site_encoding & 0x0f;
    Cursor table(bytes, c.pos(), table_end);
    while (table.ok() && table.pos() < table_end) {
        table.pointer(format, 0);  // start of the region
        table.pointer(format, 0);  // its length
        const auto pad = table.pointer(format, 0);
        table.uleb();  // action
        if (!table.ok() || !pad) break;
        if (*pad != 0) pads.push_back(lpstart + *pad);
    }
    return pads;
}

}  // namespace utx::analyze

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

std::vector<uint64_t> eh_frame_function_starts(std::span<const uint8_t> section,
                                               uint64_t section_addr) {
    std::vector<uint64_t> starts;
    std::unordered_map<size_t, uint8_t> fde_encoding_of_cie;
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
            const uint8_t version = c.fixed<uint8_t>();
            const std::string augmentation = c.cstring();
            c.uleb();  // code alignment
            c.sleb();  // data alignment
            if (version == 1)
                c.fixed<uint8_t>();
            else
                c.uleb();  // return register
            uint8_t fde_encoding = 0;
            if (!augmentation.empty() && augmentation[0] == 'z') {
                c.uleb();
                for (size_t i = 1; i < augmentation.size() && c.ok(); ++i) {
                    const char a = augmentation[i];
                    if (a == 'R')
                        fde_encoding = c.fixed<uint8_t>();
                    else if (a == 'L')
                        c.fixed<uint8_t>();
                    else if (a == 'P') {
                        const uint8_t enc = c.fixed<uint8_t>();
                        c.pointer(enc & 0x7f, section_addr + c.pos());
                    } else if (a != 'S' && a != 'B')
                        break;
                }
            }
            if (c.ok()) fde_encoding_of_cie[pos] = fde_encoding;
        } else {  // FDE: id is the distance back to its CIE
            const size_t id_pos = body;
            if (id <= id_pos) {
                const auto cie = fde_encoding_of_cie.find(id_pos - id);
                if (cie != fde_encoding_of_cie.end()) {
                    const auto start = c.pointer(cie->second, section_addr + c.pos());
                    if (c.ok() && start && *start != 0) starts.push_back(*start);
                }
            }
        }
        pos = end;
    }
    return starts;
}

}  // namespace utx::analyze

// fuzz/json_check.h: is a text one well-formed JSON document (RFC 8259: UTF-8, escaped
// control characters)? For utx-analyze --json, whose strings come from the file analyzed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace utx::fuzz {

class JsonCheck {
  public:
    static bool valid(std::string_view text) {
        JsonCheck c(text);
        c.space();
        if (!c.value(0)) return false;
        c.space();
        return c.at_ == text.size();
    }

  private:
    explicit JsonCheck(std::string_view text) : t_(text) {}

    bool more() const { return at_ < t_.size(); }
    unsigned char peek() const { return more() ? static_cast<unsigned char>(t_[at_]) : 0; }
    bool eat(char c) {
        if (peek() != static_cast<unsigned char>(c)) return false;
        ++at_;
        return true;
    }
    bool word(std::string_view w) {
        if (t_.substr(at_, w.size()) != w) return false;
        at_ += w.size();
        return true;
    }
    void space() {
        while (peek() == ' ' || peek() == '\n' || peek() == '\t' || peek() == '\r') ++at_;
    }

    bool value(int depth) {
        if (depth > 64) return false;
        switch (peek()) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                return word("true");
            case 'f':
                return word("false");
            case 'n':
                return word("null");
            default:
                return number();
        }
    }
    bool object(int depth) {
        eat('{');
        space();
        if (eat('}')) return true;
        do {
            space();
            if (!string()) return false;
            space();
            if (!eat(':')) return false;
            space();
            if (!value(depth + 1)) return false;
            space();
        } while (eat(','));
        return eat('}');
    }
    bool array(int depth) {
        eat('[');
        space();
        if (eat(']')) return true;
        do {
            space();
            if (!value(depth + 1)) return false;
            space();
        } while (eat(','));
        return eat(']');
    }
    bool digits() {
        size_t start = at_;
        while (peek() >= '0' && peek() <= '9') ++at_;
        return at_ > start;
    }
    bool number() {
        eat('-');
        if (!eat('0') && !digits()) return false;
        if (eat('.') && !digits()) return false;
        if (eat('e') || eat('E')) {
            if (!eat('+')) eat('-');
            if (!digits()) return false;
        }
        return true;
    }
    bool string() {
        if (!eat('"')) return false;
        while (more()) {
            unsigned char c = peek();
            if (c == '"') {
                ++at_;
                return true;
            }
            if (c < 0x20) return false;
            if (c == '\\') {
                ++at_;
                unsigned char e = peek();
                ++at_;
                if (e == 'u') {
                    for (int i = 0; i < 4; ++i) {
                        unsigned char h = peek();
                        ++at_;
                        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                              (h >= 'A' && h <= 'F')))
                            return false;
                    }
                } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                           e != 'r' && e != 't') {
                    return false;
                }
                continue;
            }
            if (c < 0x80) {
                ++at_;
                continue;
            }
            if (!utf8()) return false;
        }
        return false;
    }
    // One multi-byte UTF-8 sequence: shortest form, no surrogates, at most U+10FFFF.
    bool utf8() {
        const unsigned char c = peek();
        int n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        ++at_;
        for (int i = 0; i < n; ++i) {
            const unsigned char k = peek();
            if ((k & 0xc0) != 0x80) return false;
            cp = cp << 6 | (k & 0x3f);
            ++at_;
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff) return false;
        return !(cp >= 0xd800 && cp <= 0xdfff);
    }

    std::string_view t_;
    size_t at_ = 0;
};

}  // namespace utx::fuzz

// loader/strprintf.h: `{}` / `{:#x}` formatting into a std::string, the subset of
// std::format the loader needs (g++ 12's libstdc++ has no <format>).
#pragma once
#include <ios>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace utx::loader {
namespace detail {

template <typename T>
void put(std::ostringstream& out, const T& v, bool hex) {
    if constexpr (std::is_integral_v<T>) {
        using Wide = std::conditional_t<std::is_signed_v<T>, long long, unsigned long long>;
        if (hex) out << std::hex << std::showbase << Wide(v) << std::dec << std::noshowbase;
        else out << Wide(v);
    } else {
        out << v;
    }
}

inline void format_rest(std::ostringstream& out, std::string_view fmt) { out << fmt; }

template <typename T, typename... Rest>
void format_rest(std::ostringstream& out, std::string_view fmt, const T& v, const Rest&... rest) {
    size_t open = fmt.find('{');
    if (open == std::string_view::npos) {
        out << fmt;
        return;
    }
    size_t close = fmt.find('}', open);
    out << fmt.substr(0, open);
    put(out, v, fmt.substr(open, close - open + 1) == "{:#x}");
    format_rest(out, fmt.substr(close + 1), rest...);
}

}  // namespace detail

template <typename... Args>
std::string format(std::string_view fmt, const Args&... args) {
    std::ostringstream out;
    detail::format_rest(out, fmt, args...);
    return out.str();
}

}  // namespace utx::loader

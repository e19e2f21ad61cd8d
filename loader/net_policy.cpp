#include "loader/net_policy.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace utx::loader {
namespace {

bool parse_port(const std::string& text, uint16_t& port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value == 0 ||
        value > 65535)
        return false;
    port = uint16_t(value);
    return true;
}

bool is_v4_mapped(const in6_addr& a) {
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(a.s6_addr, prefix, sizeof prefix) == 0;
}

uint32_t mapped_v4(const in6_addr& a) {
    uint32_t v;
    std::memcpy(&v, a.s6_addr + 12, 4);
    return ntohl(v);
}

bool v4_is_local(uint32_t host_order) {
    return host_order == INADDR_ANY || (host_order >> 24) == 127;
}

}  // namespace

std::optional<NetMode> parse_net_mode(const std::string& text) {
    if (text == "none") return NetMode::None;
    if (text == "loopback") return NetMode::Loopback;
    if (text == "host") return NetMode::Host;
    return std::nullopt;
}

bool parse_port_mapping(const std::string& text, PortMapping& out, std::string& error) {
    auto bad = [&](const std::string& why) {
        error = "invalid -p '" + text + "' (" + why + ")";
        return false;
    };
    PortMapping m;
    std::string rest = text, addr;
    const bool bracketed = !rest.empty() && rest[0] == '[';
    if (bracketed) {
        const size_t close = rest.find(']');
        if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
            return bad("expected [IPV6]:HOSTPORT:GUESTPORT");
        addr = rest.substr(1, close - 1);
        rest = rest.substr(close + 2);
    } else {
        const size_t first = rest.find(':'), last = rest.rfind(':');
        if (first == std::string::npos) return bad("expected [ADDR:]HOSTPORT:GUESTPORT");
        if (first != last) {
            addr = rest.substr(0, first);
            rest = rest.substr(first + 1);
        }
    }
    const size_t colon = rest.find(':');
    if (colon == std::string::npos || rest.find(':', colon + 1) != std::string::npos)
        return bad("expected [ADDR:]HOSTPORT:GUESTPORT");
    if (!parse_port(rest.substr(0, colon), m.host_port) ||
        !parse_port(rest.substr(colon + 1), m.guest_port))
        return bad("ports are 1 to 65535");
    if (bracketed || !addr.empty()) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&m.host_address);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&m.host_address);
        if (!bracketed && inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
            m.family = v4->sin_family = AF_INET;
            v4->sin_port = htons(m.host_port);
        } else if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
            m.family = v6->sin6_family = AF_INET6;
            v6->sin6_port = htons(m.host_port);
        } else {
            return bad("'" + addr + "' is not a numeric " +
                       (bracketed ? "IPv6 address" : "IPv4 or IPv6 address"));
        }
    }
    out = m;
    return true;
}

bool address_is_local(const sockaddr_storage& addr, socklen_t len) {
    if (addr.ss_family == AF_INET6) {
        if (len < socklen_t(sizeof(sockaddr_in6) - sizeof(uint32_t))) return false;
        const in6_addr& a = reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a)) return true;
        return is_v4_mapped(a) && v4_is_local(mapped_v4(a));
    }
    if (len < socklen_t(offsetof(sockaddr_in, sin_addr) + sizeof(in_addr))) return false;
    return v4_is_local(ntohl(reinterpret_cast<const sockaddr_in&>(addr).sin_addr.s_addr));
}

bool address_is_wildcard(const sockaddr_storage& addr, socklen_t len) {
    if (addr.ss_family == AF_INET6) {
        if (len < socklen_t(sizeof(sockaddr_in6) - sizeof(uint32_t))) return false;
        const in6_addr& a = reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr;
        return IN6_IS_ADDR_UNSPECIFIED(&a) || (is_v4_mapped(a) && mapped_v4(a) == INADDR_ANY);
    }
    if (len < socklen_t(offsetof(sockaddr_in, sin_addr) + sizeof(in_addr))) return false;
    return reinterpret_cast<const sockaddr_in&>(addr).sin_addr.s_addr == htonl(INADDR_ANY);
}

uint16_t address_port(const sockaddr_storage& addr) {
    if (addr.ss_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
    if (addr.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
    return 0;
}

void set_address_port(sockaddr_storage& addr, uint16_t port) {
    if (addr.ss_family == AF_INET) reinterpret_cast<sockaddr_in&>(addr).sin_port = htons(port);
    if (addr.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6&>(addr).sin6_port = htons(port);
}

sockaddr_storage loopback_address(int family, uint16_t port, socklen_t& len) {
    sockaddr_storage s{};
    if (family == AF_INET6) {
        auto& v6 = reinterpret_cast<sockaddr_in6&>(s);
        v6.sin6_family = AF_INET6;
        v6.sin6_addr = in6addr_loopback;
        v6.sin6_port = htons(port);
        len = sizeof v6;
    } else {
        auto& v4 = reinterpret_cast<sockaddr_in&>(s);
        v4.sin_family = AF_INET;
        v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        v4.sin_port = htons(port);
        len = sizeof v4;
    }
    return s;
}

}  // namespace utx::loader

// loader/net_policy.h: what the guest's sockets may reach on the host (--net) and which
// guest ports are published on the host (-p), with the address rules both apply.
//
//   --net none       socket(AF_INET or AF_INET6) fails with EACCES
//   --net loopback   (default) bind and connect on the host's loopback only: a bind to the
//                    wildcard address binds the loopback address of its family instead
//                    (127.0.0.1, ::1), a bind to any other non-loopback address fails with
//                    EADDRNOTAVAIL, a connect or sendto elsewhere with ENETUNREACH, and a
//                    socket that listens, connects or sends unbound is bound to loopback
//                    first, so that nothing of the guest listens beyond the host itself
//   --net host       any address, as a process of the host
//   -p [ADDR:]HOSTPORT:GUESTPORT   when the guest binds GUESTPORT (of ADDR's family, or of
//                    either family when ADDR is left out), the host socket is bound to
//                    ADDR:HOSTPORT instead (ADDR defaults to 127.0.0.1 for IPv4 and ::1
//                    for IPv6). The guest still sees GUESTPORT in getsockname, on the
//                    listening socket and on the connections it accepts.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace utx::loader {

enum class NetMode { None, Loopback, Host };

struct PortMapping {
    int family = 0;  // AF_INET, AF_INET6, or 0: either (the loopback address of each)
    sockaddr_storage host_address{};  // family != 0: the address to bind (port: host_port)
    uint16_t host_port = 0;
    uint16_t guest_port = 0;
};

struct NetPolicy {
    NetMode mode = NetMode::Loopback;
    std::vector<PortMapping> published;
};

// "none", "loopback", "host"; nullopt for anything else.
std::optional<NetMode> parse_net_mode(const std::string& text);
// -p's "[ADDR:]HOSTPORT:GUESTPORT" (an IPv6 ADDR in brackets: "[::1]:8080:80"); false with a
// one-line message in `error`.
bool parse_port_mapping(const std::string& text, PortMapping& out, std::string& error);

// Whether `addr` (of `len` bytes, as the guest gave it) stays on this host: the loopback
// networks, the unspecified address (which connect takes for the local host) and their
// IPv4-mapped IPv6 forms. Families other than AF_INET6 are read as IPv4, as Linux's
// IPv4 paths read an AF_UNSPEC address.
bool address_is_local(const sockaddr_storage& addr, socklen_t len);
// Whether `addr` is the wildcard (INADDR_ANY, in6addr_any or ::ffff:0.0.0.0).
bool address_is_wildcard(const sockaddr_storage& addr, socklen_t len);
// The port of an AF_INET or AF_INET6 address (host byte order), 0 for other families.
uint16_t address_port(const sockaddr_storage& addr);
void set_address_port(sockaddr_storage& addr, uint16_t port);
// The loopback address of `family` (AF_INET: 127.0.0.1, AF_INET6: ::1) with `port`.
sockaddr_storage loopback_address(int family, uint16_t port, socklen_t& len);

}  // namespace utx::loader

// kernel/net/host_socket.h: AF_INET and AF_INET6 sockets, which are host sockets the VMM
// opens (abi::NetOp). Each request is one non-blocking host call; whether a socket is
// readable or writable is in its HostSocketState word (abi/host_events.h), which the VMM
// keeps current, so that poll, select and epoll look at it without a VM exit, and a
// non-blocking receive on a socket known to be empty fails with EAGAIN without one too.
// A blocking call waits in the guest until the VMM's report wakes it.
#pragma once
#include "kernel/net/socket.h"

namespace utx::kernel {

int64_t host_socket_create(int domain, int type, int protocol, Socket*& out);
// A readiness report came (host_events_take): wakes the waiters of every host socket whose
// state changed since the last report.
void host_sockets_take_reports();
// Set by every poll of a host socket; pollers clear it before a scan, and when it is set
// after one, they wait as net_wait_begin() says (the VMM must wake them).
extern bool g_polled_host_socket;

}  // namespace utx::kernel

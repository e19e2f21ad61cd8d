// kernel/net/unix_socket.h: AF_UNIX sockets inside the guest, stream and datagram:
// socketpair, and names bound in the file system (a socket inode in minifs) or in the
// abstract namespace, for connect, sendto and accept within the process. A connected stream
// is a pair of pipes in the family region (kernel/ipc/pipe.h), so that it goes on working
// across fork (socketpair, then fork; accept, then fork); a datagram socket has a queue of
// messages in this VM, and a listening socket's backlog is this VM's: across processes,
// datagrams and new connections are not shared yet.
#pragma once
#include "kernel/net/socket.h"

namespace utx::kernel {

int64_t unix_socket_create(int type, int protocol, Socket*& out);
// socketpair(AF_UNIX, type): two connected sockets.
int64_t unix_socket_pair(int type, int protocol, Socket*& a, Socket*& b);

}  // namespace utx::kernel

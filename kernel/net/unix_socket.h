// kernel/net/unix_socket.h: AF_UNIX sockets inside the guest, stream and datagram:
// socketpair, and names bound in the file system (a socket inode in minifs) or in the
// abstract namespace, for connect, sendto and accept within the process. A connected stream
// is a pair of pipes (kernel/ipc/pipe.h); a datagram socket has a queue of messages.
#pragma once
#include "kernel/net/socket.h"

namespace utx::kernel {

int64_t unix_socket_create(int type, int protocol, Socket*& out);
// socketpair(AF_UNIX, type): two connected sockets.
int64_t unix_socket_pair(int type, int protocol, Socket*& a, Socket*& b);

}  // namespace utx::kernel

// loader/host_net.h: the guest's AF_INET and AF_INET6 sockets, as non-blocking host sockets
// that the VMM opens under the --net policy (loader/net_policy.h) and names by handles
// (abi::NetOp). An event thread watches them all with one edge-triggered epoll and reports
// what changed in the sockets' HostSocketState words in guest memory (abi/host_events.h);
// when a guest thread waits for one and no vCPU is polling, it asks for an NMI.
//
// Nothing here blocks: a request that would block fails with EAGAIN or EINPROGRESS, and the
// guest waits in its own scheduler for the readiness report. Handles, lengths, options and
// addresses from the guest are checked here; the only host fds the guest can reach are its
// own sockets.
#pragma once
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loader/guest_memory.h"
#include "loader/net_policy.h"
#include "loader/unique_fd.h"

namespace utx::loader {

class HostNet {
  public:
    HostNet(const GuestMemory& mem, NetPolicy policy);
    ~HostNet();
    HostNet(const HostNet&) = delete;
    HostNet& operator=(const HostNet&) = delete;

    // Starts the event thread, which calls `wake` when the guest should get an NMI. The
    // thread blocks the signals utx-run forwards to the guest.
    bool start(std::function<void()> wake, std::string& error);
    void stop();
    // In a process just forked: the event thread stayed in the parent, and the epoll
    // instance is shared with it (its events would go to whichever process waits). A new
    // epoll over the sockets this process inherited, and a thread of its own.
    bool restart_after_fork(std::string& error);

    // A kHcNet request: `a` its arguments, `iov`/`count` its checked segments. `out` gets
    // what goes back in args[0] and args[1]. Returns the result (-errno on failure).
    int64_t handle(const uint64_t (&a)[6], const iovec* iov, uint32_t count, uint64_t (&out)[2]);

    // For --stats: readiness reports (batches) and the NMIs asked for.
    uint64_t batches() const { return batches_.load(); }
    uint64_t wakeups() const { return wakeups_.load(); }
    uint64_t rechecks() const { return rechecks_.load(); }  // NMIs sent by recheck()
    // How soon an untaken batch is looked at again, and the longest interval (before start).
    void set_recheck_ms(int first, int max) {
        recheck_first_ms_ = first;
        recheck_max_ms_ = max;
    }

  private:
    struct Socket {
        UniqueFd fd;
        int domain = 0, type = 0;
        uint32_t tag = 0;         // epoll data: tells a stale event from a reused handle's
        uint32_t generation = 0;  // of its HostSocketState word
        bool bound = false;
        // The guest bound a wildcard address (or nothing) that the VMM bound to loopback:
        // getsockname shows `guest_local` (with the port the socket has) until connected.
        bool local_rewritten = false;
        sockaddr_storage guest_local{};
        socklen_t guest_local_len = 0;
        uint16_t guest_port = 0, host_port = 0;  // -p: host_port shows as guest_port
    };

    Socket* lookup(uint64_t handle);
    int64_t op_socket(uint64_t domain, uint64_t type, uint64_t protocol);
    int64_t op_close(uint64_t handle);
    // Puts a new host socket at `handle`, watched by the event thread → handle or -errno.
    int64_t install(uint32_t handle, UniqueFd fd, int domain, int type);
    int64_t op_bind(Socket& s, const sockaddr_storage& addr, socklen_t len);
    int64_t op_listen(Socket& s, uint64_t backlog);
    int64_t op_accept(Socket& s, const iovec* b1, uint32_t n1, uint64_t& addr_len);
    int64_t op_connect(Socket& s, const sockaddr_storage& addr, socklen_t len);
    int64_t op_send(Socket& s, uint64_t flags, const iovec* b1, uint32_t n1, const iovec* b2,
                    uint32_t n2);
    int64_t op_recv(Socket& s, uint64_t flags, const iovec* b1, uint32_t n1, const iovec* b2,
                    uint32_t n2, uint64_t (&out)[2]);
    int64_t op_getname(Socket& s, bool peer, const iovec* b1, uint32_t n1);
    int64_t op_setopt(Socket& s, uint64_t level, uint64_t name, const iovec* b1, uint32_t n1);
    int64_t op_getopt(Socket& s, uint64_t level, uint64_t name, const iovec* b1, uint32_t n1);
    int64_t op_ioctl(Socket& s, uint64_t request);
    // Binds an unbound socket to loopback (--net loopback), before it listens or sends.
    int64_t bind_loopback_if_unbound(Socket& s);
    int free_handle() const;
    // -p seen from inside: a local address at a published guest port the guest has bound
    // means that socket's host port, and back.
    bool published_in_use(uint16_t host_port) const;
    void to_host_port(sockaddr_storage& addr, socklen_t len) const;
    void to_guest_port(sockaddr_storage& addr, socklen_t len) const;
    // Writes the socket's poll(2) state into its guest word; `edge` bumps its generation.
    void publish(uint32_t handle, bool edge);
    int64_t serve(const uint64_t (&a)[6], const iovec* b1, uint32_t n1, const iovec* b2,
                  uint32_t n2, uint64_t (&out)[2]);
    // Under mutex_: publishes what the host reported for `events`; true when the guest
    // should get an NMI for it.
    bool process(const epoll_event* events, int n);
    // Under mutex_: what the host has reported by now, without waiting.
    bool drain();
    // Under mutex_: whether the guest has not taken the last batch yet.
    bool untaken_batch();
    // Under mutex_: an NMI for a batch still untaken while a thread waits and no vCPU
    // polls. The two sides' store-then-load handshake (process()) needs the guest's
    // barriers, which the QEMU backend's single-vCPU TCG drops: each side may miss the
    // other's store, the NMI is not sent and the waiter would sleep for good. Looking
    // again later bounds that to a delay.
    bool recheck();
    void wake();
    void event_loop();

    const GuestMemory& mem_;
    NetPolicy policy_;
    std::mutex mutex_;  // the table and the guest words, between requests and the event thread
    std::vector<Socket> sockets_;
    uint32_t next_tag_ = 1;
    UniqueFd epoll_;
    UniqueFd stop_fd_;  // an eventfd that ends the event thread
    std::thread thread_;
    std::function<void()> wake_;
    uint64_t seq_ = 0;           // HostEvents::net_seq
    uint64_t last_nmi_seq_ = 0;  // the batch the last NMI announced
    std::atomic<bool> stopping_{false};
    int recheck_first_ms_ = 10, recheck_max_ms_ = 160;
    std::atomic<uint64_t> batches_{0}, wakeups_{0}, rechecks_{0};
};

}  // namespace utx::loader

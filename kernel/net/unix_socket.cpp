#include "kernel/net/unix_socket.h"

#include "kernel/fs/vfs.h"
#include "kernel/ipc/pipe.h"
#include "kernel/ipc/waitfd.h"
#include "kernel/lib/new.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/user_access.h"
#include "kernel/process.h"
#include "minifs/fs.h"
#include "minifs/path.h"

namespace utx::kernel {
namespace {

constexpr int16_t kPollIn = 0x1, kPollOut = 0x4, kPollErr = 0x8, kPollHup = 0x10,
                  kPollRdhup = 0x2000;
constexpr uint32_t kPathOffset = 2;             // offsetof(struct sockaddr_un, sun_path)
constexpr uint32_t kMaxPath = 108;              // sizeof sun_path
constexpr uint64_t kMaxDatagram = 212992 - 32;  // the default SO_SNDBUF, less Linux's overhead
constexpr uint32_t kMaxQueued = 10;             // net.unix.max_dgram_qlen: full past it
constexpr int kSockBuf = 212992;
constexpr int kSoPasscred = 16;
constexpr int64_t kAtFdcwd = -100;
constexpr int kAll = 1 << 30;

struct Datagram {
    Datagram* next;
    SockAddr from;  // len 0: an unnamed sender
    uint64_t len;
    uint8_t data[];
};

class UnixSocket;
UnixSocket* g_unix_sockets;  // all of them: names to look up, peers to forget

// Copies between the socket and the caller's buffers (checked and present, or kernel memory).
uint64_t copy_out(IoBuffer* bufs, size_t count, const uint8_t* src, uint64_t len) {
    UserAccessScope scope;
    uint64_t done = 0;
    for (size_t i = 0; i < count && done < len; ++i) {
        const uint64_t n = bufs[i].len < len - done ? bufs[i].len : len - done;
        memcpy(reinterpret_cast<void*>(bufs[i].addr), src + done, n);
        done += n;
    }
    return done;
}

class UnixSocket final : public Socket {
  public:
    enum class State : uint8_t { Unconnected, Listening, Connected };

    UnixSocket(int t, int p) : Socket(kAfUnix, t, p) {
        local_.len = 0;
        peer_name_.len = 0;
        next_ = g_unix_sockets;
        g_unix_sockets = this;
    }

    static UnixSocket* make(int type, int protocol) {
        void* memory = kzalloc(sizeof(UnixSocket));
        return memory ? new (memory) UnixSocket(type, protocol) : nullptr;
    }

    // Connects two fresh stream sockets with a pipe each way; false when memory is short.
    // The pipes are in the family region (kernel/ipc/pipe.h), so that a connection works
    // across fork: after it each VM has its own copy of the two sockets, and the data, the
    // ends' counts (EOF, EPIPE) and the waiters are the pipes'. Their state is read and
    // changed under the family lock.
    static bool join(UnixSocket* a, UnixSocket* b) {
        if (a->type == kSockStream) {
            Pipe* ab = Pipe::create();
            Pipe* ba = ab ? Pipe::create() : nullptr;
            if (!ba) {
                if (ab) {
                    Pipe::release(ab, false);
                    Pipe::release(ab, true);
                }
                return false;
            }
            a->tx_ = b->rx_ = ab;
            a->rx_ = b->tx_ = ba;
        }
        a->peer_ = b;
        b->peer_ = a;
        a->state_ = b->state_ = State::Connected;
        return true;
    }

    int64_t bind(const SockAddr& addr) override {
        if (addr.len < kPathOffset || addr.family() != kAfUnix) return -EINVAL;
        if (bound_) return -EINVAL;
        SockAddr name = addr;
        if (addr.len == kPathOffset) {
            autobind();
            return 0;
        }
        if (addr.bytes[kPathOffset] == 0) {
            if (find_abstract(name, type)) return -EADDRINUSE;
        } else {
            char path[kMaxPath + 1];
            const uint32_t len = path_of(addr, path);
            name.len = kPathOffset + len + 1;  // as Linux reports a path name back
            const uint32_t mode = minifs::kTypeSocket | (0777 & ~current_process().umask);
            minifs::Inode* created = nullptr;
            const int64_t r = vfs_route(
                kAtFdcwd, path, len,
                [&](minifs::Inode* start, minifs::Name p) -> int64_t {
                    auto made = minifs::mknod_at(vfs(), vfs_context(), start, p, mode, 0);
                    if (!made.ok()) return made.error();
                    created = *made;
                    return 0;
                },
                [](uint32_t, const char*) -> int64_t { return -EOPNOTSUPP; });
            if (r == -EEXIST) return -EADDRINUSE;
            if (r < 0) return r;
            inode_ = created;
            vfs()->ref(inode_);
        }
        local_ = name;
        bound_ = true;
        return 0;
    }

    int64_t listen(int backlog) override {
        if (type != kSockStream) return -EOPNOTSUPP;
        if (!bound_ || state_ == State::Connected) return -EINVAL;
        backlog_max_ = backlog < 0 ? 0 : backlog > 4096 ? 4096 : uint32_t(backlog);
        state_ = State::Listening;
        changed();
        return 0;
    }

    int64_t accept(bool nonblock, Socket*& out, SockAddr* peer) override {
        if (type != kSockStream) return -EOPNOTSUPP;
        if (state_ != State::Listening) return -EINVAL;
        const uint64_t deadline = socket_deadline(rcvtimeo_ns);
        while (!backlog_head_) {
            if (nonblock) return -EAGAIN;
            const int64_t r = thread_wait(wait, deadline);
            if (r == -ETIMEDOUT) return -EAGAIN;
            if (r < 0) return socket_intr_errno(rcvtimeo_ns);
            if (state_ != State::Listening) return -EINVAL;
        }
        UnixSocket* s = backlog_head_;
        backlog_head_ = s->backlog_next_;
        if (!backlog_head_) backlog_tail_ = nullptr;
        --backlog_len_;
        s->backlog_next_ = nullptr;
        s->listener_ = nullptr;
        if (peer) *peer = s->peer_name_;
        out = s;
        changed();  // room in the queue for connectors
        return 0;
    }

    int64_t connect(const SockAddr& addr, bool nonblock) override {
        if (addr.len >= kPathOffset && addr.family() == kAfUnspec && type == kSockDgram) {
            peer_ = nullptr;  // dissolve the association
            state_ = State::Unconnected;
            return 0;
        }
        UnixSocket* target = nullptr;
        if (int64_t r = lookup(addr, target); r < 0) return r;
        if (type == kSockDgram) {
            peer_ = target;
            state_ = State::Connected;
            changed();
            return 0;
        }
        if (state_ == State::Connected) return -EISCONN;
        if (state_ == State::Listening) return -EINVAL;
        if (target->state_ != State::Listening) return -ECONNREFUSED;
        const uint64_t deadline = socket_deadline(sndtimeo_ns);
        while (target->backlog_len_ > target->backlog_max_) {
            if (nonblock) return -EAGAIN;
            const int64_t r = thread_wait(target->wait, deadline);
            if (r == -ETIMEDOUT) return -EAGAIN;
            if (r < 0) return socket_intr_errno(sndtimeo_ns);
            if (int64_t again = lookup(addr, target); again < 0) return again;
            if (target->state_ != State::Listening) return -ECONNREFUSED;
            if (state_ != State::Unconnected) return -EISCONN;
        }
        UnixSocket* server = make(type, protocol);
        if (!server) return -ENOMEM;
        if (!join(this, server)) {
            server->release();
            return -ENOMEM;
        }
        server->local_ = target->local_;
        server->peer_name_ = local_;
        peer_name_ = target->local_;
        server->listener_ = target;
        (target->backlog_tail_ ? target->backlog_tail_->backlog_next_ : target->backlog_head_) =
            server;
        target->backlog_tail_ = server;
        ++target->backlog_len_;
        target->changed();
        changed();
        return 0;
    }

    int64_t send(Message& m, bool nonblock) override {
        return type == kSockStream ? stream_send(m, nonblock) : dgram_send(m, nonblock);
    }

    int64_t recv(Message& m, bool nonblock) override {
        if (m.flags & kMsgOob) return -EOPNOTSUPP;
        return type == kSockStream ? stream_recv(m, nonblock) : dgram_recv(m, nonblock);
    }

    int64_t shutdown(int how) override {
        if (how < kShutRd || how > kShutRdwr) return -EINVAL;
        if (how != kShutWr && !shut_rd_) {
            shut_rd_ = true;
            if (rx_ && holds_rx_) {
                holds_rx_ = false;
                Pipe::release(rx_, false);
            }
        }
        if (how != kShutRd && !shut_wr_) {
            shut_wr_ = true;
            if (tx_ && holds_tx_) {
                holds_tx_ = false;
                Pipe::release(tx_, true);
            }
        }
        changed();
        if (peer_) peer_->changed();
        return 0;
    }

    int64_t name(bool peer, SockAddr& out) override {
        if (!peer) {
            out = local_;  // an accepted socket has its listener's name
            if (local_.len < kPathOffset) {
                out.len = kPathOffset;
                out.bytes[0] = uint8_t(kAfUnix);
                out.bytes[1] = 0;
            }
            return 0;
        }
        if (state_ != State::Connected) return -ENOTCONN;
        if (type == kSockDgram) {
            if (!peer_) return -ENOTCONN;
            return peer_->name(false, out);
        }
        out = peer_name_;
        if (out.len < kPathOffset) {
            out.len = kPathOffset;
            out.bytes[0] = uint8_t(kAfUnix);
            out.bytes[1] = 0;
        }
        return 0;
    }

    int64_t setopt(int level, int name, const uint8_t*, uint32_t len) override {
        if (level != kSolSocket) return -EOPNOTSUPP;
        if (len < sizeof(int)) return -EINVAL;
        switch (name) {
            case kSoSndbuf:
            case kSoRcvbuf:
            case kSoPasscred:
            case 2:   // SO_REUSEADDR
            case 9:   // SO_KEEPALIVE
            case 13:  // SO_LINGER
                return 0;
            default:
                return -ENOPROTOOPT;
        }
    }

    int64_t getopt(int level, int name, uint8_t* value, uint32_t& len) override {
        if (level != kSolSocket) return -EOPNOTSUPP;
        int v;
        switch (name) {
            case kSoError:
                v = error_;
                error_ = 0;
                break;
            case kSoAcceptconn:
                v = state_ == State::Listening;
                break;
            case kSoSndbuf:
            case kSoRcvbuf:
                v = kSockBuf;
                break;
            case kSoPasscred:
                v = 0;
                break;
            case kSoPeercred: {
                struct {
                    int32_t pid;
                    uint32_t uid, gid;
                } cred{-1, ~0u, ~0u};
                if (state_ == State::Connected || state_ == State::Listening) {
                    cred = {current_process().pid, current_process().uid, current_process().gid};
                }
                if (len > sizeof cred) len = sizeof cred;
                memcpy(value, &cred, len);
                return 0;
            }
            default:
                return -ENOPROTOOPT;
        }
        if (len > sizeof v) len = sizeof v;
        memcpy(value, &v, len);
        return 0;
    }

    int16_t poll() override {
        FamilyGuard guard;
        int16_t mask = 0;
        if (error_) mask |= kPollErr;
        const bool rcv_shut = recv_shutdown(), snd_shut = send_shutdown();
        if (rcv_shut && snd_shut) mask |= kPollHup;
        if (rcv_shut) mask |= kPollRdhup | kPollIn;
        if (type == kSockStream) {
            if (state_ == State::Listening ? backlog_head_ != nullptr : rx_ && rx_->count)
                mask |= kPollIn;
            if (state_ == State::Unconnected) mask |= kPollHup;
            if (state_ != State::Listening && (!tx_ || tx_->space())) mask |= kPollOut;
            // A poller that goes on to wait must hear of changes, in this VM or another;
            // even when ready now: an edge-triggered epoll waits for the next change.
            if (rx_) family_register(rx_->waiters);
            if (tx_) family_register(tx_->waiters);
        } else {
            if (queue_head_) mask |= kPollIn;
            // Writable unless the connected peer's queue is full.
            if (!(peer_ && peer_->queue_len_ > kMaxQueued)) mask |= kPollOut;
        }
        return mask;
    }

    uint32_t edge_seq() override {
        return seq_ + (rx_ ? rx_->edge_seq : 0) + (tx_ ? tx_->edge_seq : 0);
    }

    int64_t ioctl(uint64_t cmd, int& value) override {
        FamilyGuard guard;
        if (cmd == kFionread) {
            if (state_ == State::Listening) return -EINVAL;
            value = type == kSockStream ? int(rx_ ? rx_->count : 0)
                                        : int(queue_head_ ? queue_head_->len : 0);
            return 0;
        }
        if (cmd == kSiocoutq) {
            value = type == kSockStream && tx_ ? int(tx_->count) : 0;
            return 0;
        }
        return -ENOTTY;
    }

    void release() override {
        // Connections nobody accepted: their clients see ECONNRESET.
        while (UnixSocket* pending = backlog_head_) {
            backlog_head_ = pending->backlog_next_;
            if (pending->peer_) pending->peer_->error_ = ECONNRESET;
            pending->listener_ = nullptr;
            pending->release();
        }
        if (listener_) listener_->unlink_pending(this);
        if (holds_rx_ && rx_) Pipe::release(rx_, false);
        if (holds_tx_ && tx_) Pipe::release(tx_, true);
        while (queue_head_) {
            Datagram* d = queue_head_;
            queue_head_ = d->next;
            kfree(d);
        }
        for (UnixSocket** p = &g_unix_sockets; *p; p = &(*p)->next_)
            if (*p == this) {
                *p = next_;
                break;
            }
        for (UnixSocket* s = g_unix_sockets; s; s = s->next_)
            if (s->peer_ == this) {
                s->peer_ = nullptr;
                if (s->type == kSockDgram) s->peer_gone_ = true;
                s->changed();
            }
        if (inode_) vfs()->unref(inode_);
        wake_up(wait, kAll);
        poll_notify();
        this->~UnixSocket();
        kfree(this);
    }

    void for_fork(bool undo) override {
        FamilyGuard guard;
        if (holds_rx_ && rx_) rx_->count_end(false, undo ? -1 : 1);
        if (holds_tx_ && tx_) tx_->count_end(true, undo ? -1 : 1);
    }

    void at_exit() override {
        if (holds_rx_ && rx_) Pipe::release(rx_, false);
        if (holds_tx_ && tx_) Pipe::release(tx_, true);
        holds_rx_ = holds_tx_ = false;
    }

  private:
    void changed() {
        ++seq_;
        wake_up(wait, kAll);
        poll_notify();
    }

    bool recv_shutdown() const {
        return shut_rd_ || (type == kSockStream && rx_ && rx_->writers == 0);
    }
    bool send_shutdown() const {
        return shut_wr_ || (type == kSockStream && tx_ && tx_->readers == 0);
    }

    void unlink_pending(UnixSocket* s) {
        UnixSocket* prev = nullptr;
        for (UnixSocket* p = backlog_head_; p; prev = p, p = p->backlog_next_) {
            if (p != s) continue;
            (prev ? prev->backlog_next_ : backlog_head_) = p->backlog_next_;
            if (backlog_tail_ == p) backlog_tail_ = prev;
            --backlog_len_;
            return;
        }
    }

    // An abstract name for an unbound socket (bind with only the family, or autobind).
    void autobind() {
        static uint32_t next = 0;
        for (;;) {
            SockAddr name{};
            name.bytes[0] = uint8_t(kAfUnix);
            const char* hex = "0123456789abcdef";
            const uint32_t n = next++ & 0xfffff;
            for (int i = 0; i < 5; ++i)
                name.bytes[kPathOffset + 1 + i] = uint8_t(hex[n >> (16 - 4 * i) & 15]);
            name.len = kPathOffset + 6;
            if (find_abstract(name, type)) continue;
            local_ = name;
            bound_ = true;
            return;
        }
    }

    // The path of a filesystem name, NUL-terminated; its length.
    static uint32_t path_of(const SockAddr& addr, char* out) {
        uint32_t len = 0;
        const uint32_t max = addr.len - kPathOffset < kMaxPath ? addr.len - kPathOffset : kMaxPath;
        while (len < max && addr.bytes[kPathOffset + len]) {
            out[len] = char(addr.bytes[kPathOffset + len]);
            ++len;
        }
        out[len] = 0;
        return len;
    }

    // Abstract names are per type, as Linux hashes them.
    static UnixSocket* find_abstract(const SockAddr& name, int type) {
        for (UnixSocket* s = g_unix_sockets; s; s = s->next_)
            if (s->bound_ && !s->inode_ && s->type == type && s->local_.len == name.len &&
                memcmp(s->local_.bytes, name.bytes, name.len) == 0)
                return s;
        return nullptr;
    }

    // The socket bound to `addr`, of this one's type.
    int64_t lookup(const SockAddr& addr, UnixSocket*& out) const {
        if (addr.len < kPathOffset || addr.family() != kAfUnix) return -EINVAL;
        if (addr.len == kPathOffset) return -EINVAL;
        UnixSocket* found = nullptr;
        if (addr.bytes[kPathOffset] == 0) {
            found = find_abstract(addr, type);
        } else {
            char path[kMaxPath + 1];
            const uint32_t len = path_of(addr, path);
            minifs::Inode* inode = nullptr;
            const int64_t r = vfs_route(
                kAtFdcwd, path, len,
                [&](minifs::Inode* start, minifs::Name p) -> int64_t {
                    auto got = minifs::resolve(vfs(), vfs_context(), start, p, minifs::kFollowLast);
                    if (!got.ok()) return got.error();
                    inode = *got;
                    return 0;
                },
                [](uint32_t, const char*) -> int64_t { return -ECONNREFUSED; });
            if (r < 0) return r;
            if (inode->type() != minifs::kTypeSocket) return -ECONNREFUSED;
            for (UnixSocket* s = g_unix_sockets; s && !found; s = s->next_)
                if (s->inode_ == inode) found = s;
        }
        if (!found) return -ECONNREFUSED;
        if (found->type != type) return -EPROTOTYPE;
        out = found;
        return 0;
    }

    int64_t stream_send(Message& m, bool nonblock) {
        if (m.addr && m.addr->len) return state_ == State::Connected ? -EISCONN : -EOPNOTSUPP;
        if (state_ != State::Connected) return -ENOTCONN;
        if (error_) {
            const int e = error_;
            error_ = 0;
            return -e;
        }
        const uint64_t deadline = socket_deadline(sndtimeo_ns);
        int64_t total = 0;
        FamilyGuard guard;
        for (size_t i = 0; i < m.count; ++i) {
            for (uint64_t done = 0; done < m.bufs[i].len;) {
                if (send_shutdown()) return total ? total : -EPIPE;
                if (!tx_->space()) {
                    if (nonblock) return total ? total : -EAGAIN;
                    const int64_t r = pipe_wait(*tx_, deadline);
                    if (r == -ETIMEDOUT) return total ? total : -EAGAIN;
                    if (r < 0) return total ? total : socket_intr_errno(sndtimeo_ns);
                    continue;
                }
                size_t n;
                {
                    UserAccessScope scope;
                    n = tx_->write(reinterpret_cast<const uint8_t*>(m.bufs[i].addr + done),
                                   m.bufs[i].len - done);
                }
                done += n;
                total += int64_t(n);
                pipe_changed(*tx_);
            }
        }
        return total;
    }

    int64_t stream_recv(Message& m, bool nonblock) {
        if (state_ != State::Connected) return -EINVAL;
        const uint64_t deadline = socket_deadline(rcvtimeo_ns);
        const uint64_t want = io_length(m.bufs, m.count);
        const bool peek = m.flags & kMsgPeek;
        const bool waitall = (m.flags & kMsgWaitall) && !peek && !nonblock;
        IoBuffer* bufs = m.bufs;
        size_t count = m.count;
        int64_t total = 0;
        if (m.addr) m.addr->len = peer_name_.len > kPathOffset ? peer_name_.len : 0;
        if (m.addr && m.addr->len) *m.addr = peer_name_;
        if (want == 0) return 0;
        FamilyGuard guard;
        for (;;) {
            while (!rx_->count) {
                if (total && !waitall) return total;
                if (error_) {
                    const int e = error_;
                    error_ = 0;
                    return total ? total : -e;
                }
                if (recv_shutdown()) return total;
                if (nonblock) return total ? total : -EAGAIN;
                const int64_t r = pipe_wait(*rx_, deadline);
                if (r == -ETIMEDOUT) return total ? total : -EAGAIN;
                if (r < 0) return total ? total : socket_intr_errno(rcvtimeo_ns);
            }
            uint64_t got = 0;
            {
                UserAccessScope scope;
                for (size_t i = 0; i < count && rx_->count > got; ++i) {
                    auto* dst = reinterpret_cast<uint8_t*>(bufs[i].addr);
                    if (peek) {
                        // Peeking from the start each time: only the first buffer's worth
                        // can be told apart, so peek whole into the buffers in one go.
                        if (i > 0) break;
                        got += rx_->peek(dst, bufs[i].len);
                    } else {
                        got += rx_->read(dst, bufs[i].len);
                    }
                }
            }
            total += int64_t(got);
            if (!peek && got) pipe_changed(*rx_);
            if (!waitall || uint64_t(total) >= want) return total;
            io_advance(bufs, count, got);
        }
    }

    int64_t dgram_send(Message& m, bool nonblock) {
        UnixSocket* target = nullptr;
        if (m.addr && m.addr->len) {
            if (int64_t r = lookup(*m.addr, target); r < 0) return r;
        } else if (peer_) {
            target = peer_;
        } else {
            return peer_gone_ ? -ECONNREFUSED : -ENOTCONN;
        }
        if (shut_wr_) return -EPIPE;
        const uint64_t len = io_length(m.bufs, m.count);
        if (len > kMaxDatagram) return -EMSGSIZE;
        if (target->peer_ && target->peer_ != this) return -EPERM;
        const uint64_t deadline = socket_deadline(sndtimeo_ns);
        while (target->queue_len_ > kMaxQueued) {
            if (nonblock) return -EAGAIN;
            const int64_t r = thread_wait(target->wait, deadline);
            if (r == -ETIMEDOUT) return -EAGAIN;
            if (r < 0) return socket_intr_errno(sndtimeo_ns);
            // The target may be gone meanwhile: look it up again.
            if (m.addr && m.addr->len) {
                if (int64_t again = lookup(*m.addr, target); again < 0) return again;
            } else if (!(target = peer_)) {
                return -ECONNREFUSED;
            }
        }
        auto* d = static_cast<Datagram*>(kmalloc(sizeof(Datagram) + (len ? len : 1)));
        if (!d) return -ENOMEM;
        d->next = nullptr;
        d->from = bound_ ? local_ : SockAddr{};
        if (!bound_) d->from.len = 0;
        d->len = len;
        {
            UserAccessScope scope;
            uint64_t done = 0;
            for (size_t i = 0; i < m.count; ++i) {
                memcpy(d->data + done, reinterpret_cast<const void*>(m.bufs[i].addr),
                       m.bufs[i].len);
                done += m.bufs[i].len;
            }
        }
        (target->queue_tail_ ? target->queue_tail_->next : target->queue_head_) = d;
        target->queue_tail_ = d;
        ++target->queue_len_;
        target->changed();
        return int64_t(len);
    }

    int64_t dgram_recv(Message& m, bool nonblock) {
        const uint64_t deadline = socket_deadline(rcvtimeo_ns);
        while (!queue_head_) {
            if (shut_rd_) return 0;
            if (nonblock) return -EAGAIN;
            const int64_t r = thread_wait(wait, deadline);
            if (r == -ETIMEDOUT) return -EAGAIN;
            if (r < 0) return socket_intr_errno(rcvtimeo_ns);
        }
        Datagram* d = queue_head_;
        const uint64_t copied = copy_out(m.bufs, m.count, d->data, d->len);
        if (copied < d->len) m.out_flags |= kMsgTrunc;
        if (m.addr) *m.addr = d->from;
        const int64_t result = (m.flags & kMsgTrunc) ? int64_t(d->len) : int64_t(copied);
        if (!(m.flags & kMsgPeek)) {
            queue_head_ = d->next;
            if (!queue_head_) queue_tail_ = nullptr;
            --queue_len_;
            kfree(d);
            changed();  // room for senders
        }
        return result;
    }

    State state_ = State::Unconnected;
    bool bound_ = false;
    bool shut_rd_ = false, shut_wr_ = false;
    bool holds_rx_ = true, holds_tx_ = true;  // its ends of rx_ and tx_ are still open
    bool peer_gone_ = false;                  // a connected datagram peer closed
    int error_ = 0;                           // SO_ERROR
    uint32_t seq_ = 0;
    SockAddr local_;                  // its name (len 0: unbound)
    SockAddr peer_name_;              // stream: the peer's name when connected
    minifs::Inode* inode_ = nullptr;  // the socket file it is bound to
    UnixSocket* next_ = nullptr;      // g_unix_sockets
    UnixSocket* peer_ = nullptr;
    Pipe* rx_ = nullptr;
    Pipe* tx_ = nullptr;
    // Listening: connections not accepted yet.
    UnixSocket* backlog_head_ = nullptr;
    UnixSocket* backlog_tail_ = nullptr;
    UnixSocket* backlog_next_ = nullptr;
    UnixSocket* listener_ = nullptr;  // whose backlog it waits in
    uint32_t backlog_len_ = 0, backlog_max_ = 0;
    // Datagrams received.
    Datagram* queue_head_ = nullptr;
    Datagram* queue_tail_ = nullptr;
    uint32_t queue_len_ = 0;
};

}  // namespace

int64_t unix_socket_create(int type, int protocol, Socket*& out) {
    if (type != kSockStream && type != kSockDgram) {
        return type == kSockSeqpacket || type == kSockRaw ? -ESOCKTNOSUPPORT : -EINVAL;
    }
    if (protocol != 0) return -EPROTONOSUPPORT;
    out = UnixSocket::make(type, protocol);
    return out ? 0 : -ENOMEM;
}

int64_t unix_socket_pair(int type, int protocol, Socket*& a, Socket*& b) {
    Socket* first = nullptr;
    if (int64_t r = unix_socket_create(type, protocol, first); r < 0) return r;
    UnixSocket* second = UnixSocket::make(type, protocol);
    if (!second || !UnixSocket::join(static_cast<UnixSocket*>(first), second)) {
        first->release();
        if (second) second->release();
        return -ENOMEM;
    }
    a = first;
    b = second;
    return 0;
}

}  // namespace utx::kernel

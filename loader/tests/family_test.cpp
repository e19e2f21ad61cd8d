// loader/tests/family_test.cpp: the process tree's table: pids, wait, kill, orphans, the
// --pids cap, and that it is shared with processes forked after it was made.
#include "loader/family.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace utx::loader {
namespace {

TEST(Family, PidsStartAtTwoUnderPidOne) {
    Family* f = Family::create(16);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->add(1), 2);
    EXPECT_EQ(f->add(1), 3);
    EXPECT_EQ(f->add(2), 4);
    EXPECT_EQ(f->parent_of(4), 2);
    EXPECT_EQ(f->parent_of(1), 0);
    EXPECT_EQ(f->add(99), -EAGAIN);  // no such parent
}

TEST(Family, TheCapCountsProcessesNotYetReaped) {
    Family* f = Family::create(3);  // pid 1 and two more
    ASSERT_EQ(f->add(1), 2);
    ASSERT_EQ(f->add(1), 3);
    EXPECT_EQ(f->add(1), -EAGAIN);
    f->exited(2, 0, Usage{});
    EXPECT_EQ(f->add(1), -EAGAIN);  // a zombie still counts
    int32_t pid;
    int status;
    bool news;
    Usage usage;
    ASSERT_EQ(f->wait(1, 2, WEXITED, false, pid, status, news, usage), 0);
    EXPECT_EQ(f->add(1), 4);  // pids are not reused at once
}

TEST(Family, WaitSelectsAndReaps) {
    Family* f = Family::create(16);
    const int32_t a = f->add(1), b = f->add(1), other = f->add(a);
    int32_t pid = 0;
    int status = 0;
    bool news = false;
    Usage usage;
    EXPECT_EQ(f->wait(1, -1, WEXITED, false, pid, status, news, usage), 1);  // children, none ended
    EXPECT_EQ(f->wait(1, other, WEXITED, false, pid, status, news, usage), -ECHILD);  // a grandchild
    f->exited(b, 7 << 8, Usage{});
    EXPECT_EQ(f->wait(1, a, WEXITED, false, pid, status, news, usage), 1);
    ASSERT_EQ(f->wait(1, -1, WEXITED, true, pid, status, news, usage), 0);  // WNOWAIT keeps it
    EXPECT_EQ(pid, b);
    EXPECT_EQ(status, 7 << 8);
    EXPECT_TRUE(news);
    ASSERT_EQ(f->wait(1, b, WEXITED, false, pid, status, news, usage), 0);
    EXPECT_FALSE(news);  // told already
    EXPECT_EQ(f->wait(1, b, WEXITED, false, pid, status, news, usage), -ECHILD);
    EXPECT_EQ(f->wait(other, -1, WEXITED, false, pid, status, news, usage), -ECHILD);
}

TEST(Family, ChildEventsAreToldOnce) {
    int code = 0;
    Family* f = Family::create(16);
    const int32_t a = f->add(1), b = f->add(1);
    EXPECT_EQ(f->take_child_events(1, code), 0);
    f->exited(a, 0, Usage{});
    f->exited(b, SIGKILL, Usage{});
    f->exited(b, 0, Usage{});  // recorded once
    EXPECT_EQ(f->take_child_events(1, code), 2);
    EXPECT_EQ(f->take_child_events(1, code), 0);
    int32_t pid;
    int status;
    bool news;
    Usage usage;
    ASSERT_EQ(f->wait(1, b, WEXITED, false, pid, status, news, usage), 0);
    EXPECT_EQ(status, SIGKILL);
    EXPECT_FALSE(news);
}

TEST(Family, OrphansGoToPidOne) {
    Family* f = Family::create(16);
    const int32_t a = f->add(1), grandchild = f->add(a);
    f->exited(a, 0, Usage{});
    EXPECT_EQ(f->parent_of(grandchild), 1);
    f->exited(grandchild, 3 << 8, Usage{});
    int32_t pid;
    int status;
    bool news;
    Usage usage;
    // pid 1 reaps both: its child and the orphan.
    int reaped = 0;
    while (f->wait(1, -1, WEXITED, false, pid, status, news, usage) == 0) ++reaped;
    EXPECT_EQ(reaped, 2);
}

TEST(Family, KillMarksSignalsAndFindsTargets) {
    Family* f = Family::create(16);
    const int32_t a = f->add(1), b = f->add(1);
    bool self = false;
    // No host pids yet: nothing is rung, the signals wait in the table.
    EXPECT_EQ(f->kill(1, a, SIGUSR1, SIGURG, self), 0);
    EXPECT_FALSE(self);
    EXPECT_EQ(f->take_signals(a), 1ULL << (SIGUSR1 - 1));
    EXPECT_EQ(f->take_signals(a), 0u);
    EXPECT_EQ(f->kill(1, 0, SIGTERM, SIGURG, self), 0);  // the caller's group: everyone
    EXPECT_TRUE(self);                                     // the caller sends to itself
    EXPECT_EQ(f->take_signals(1), 0u);
    EXPECT_EQ(f->take_signals(a), 1ULL << (SIGTERM - 1));
    EXPECT_EQ(f->take_signals(b), 1ULL << (SIGTERM - 1));
    EXPECT_EQ(f->kill(a, -1, SIGHUP, SIGURG, self), 0);  // all but pid 1 and the caller
    EXPECT_FALSE(self);
    EXPECT_EQ(f->take_signals(a), 0u);
    EXPECT_EQ(f->take_signals(1), 0u);
    EXPECT_EQ(f->take_signals(b), 1ULL << (SIGHUP - 1));
    EXPECT_EQ(f->kill(1, 77, SIGTERM, SIGURG, self), -ESRCH);
    EXPECT_EQ(f->kill(1, -77, SIGTERM, SIGURG, self), -ESRCH);
    f->exited(b, 0, Usage{});
    EXPECT_EQ(f->kill(1, b, 0, SIGURG, self), 0);  // a zombie exists until reaped
}

TEST(Family, WakeMarksTheTargetsOnly) {
    Family* f = Family::create(16);
    const int32_t a = f->add(1), b = f->add(1), c = f->add(1);
    // Host pids of processes that ignore the doorbell: this test process itself.
    signal(SIGURG, SIG_IGN);
    for (int32_t pid : {a, b, c}) f->set_host_pid(pid, getpid());
    const int32_t two[] = {a, c};
    f->wake(1, two, 2, SIGURG);
    EXPECT_TRUE(f->take_wake(a));
    EXPECT_FALSE(f->take_wake(a));  // taken once
    EXPECT_FALSE(f->take_wake(b));
    EXPECT_TRUE(f->take_wake(c));
    f->wake(b, nullptr, -1, SIGURG);  // everyone but the caller
    EXPECT_TRUE(f->take_wake(1));
    EXPECT_TRUE(f->take_wake(a));
    EXPECT_FALSE(f->take_wake(b));
    EXPECT_TRUE(f->take_wake(c));
    f->exited(c, 0, Usage{});
    f->wake(1, &c, 1, SIGURG);  // a zombie waits for nothing
    EXPECT_FALSE(f->take_wake(c));
    EXPECT_FALSE(f->take_wake(77));
}

TEST(Family, StopsAndContinuesAreReportedOnceWhenAskedFor) {
    Family* f = Family::create(16);
    const int32_t a = f->add(1);
    int32_t pid;
    int status, code;
    bool news;
    Usage usage;
    EXPECT_EQ(f->job_changed(a, SIGTSTP), getpid());  // the parent's host pid, to ring
    EXPECT_EQ(f->wait(1, -1, WEXITED, false, pid, status, news, usage), 1);  // not without WUNTRACED
    EXPECT_EQ(f->take_child_events(1, code), 1);
    EXPECT_EQ(code, CLD_STOPPED);
    ASSERT_EQ(f->wait(1, -1, WEXITED | WUNTRACED, true, pid, status, news, usage), 0);  // WNOWAIT
    EXPECT_TRUE(WIFSTOPPED(status));
    EXPECT_EQ(WSTOPSIG(status), SIGTSTP);
    EXPECT_FALSE(news);  // take_child_events told the parent already
    ASSERT_EQ(f->wait(1, a, WUNTRACED, false, pid, status, news, usage), 0);
    EXPECT_EQ(pid, a);
    EXPECT_EQ(f->wait(1, a, WUNTRACED, false, pid, status, news, usage), 1);  // once
    f->job_changed(a, 0);
    EXPECT_EQ(f->wait(1, a, WUNTRACED, false, pid, status, news, usage), 1);
    ASSERT_EQ(f->wait(1, a, WCONTINUED, false, pid, status, news, usage), 0);
    EXPECT_TRUE(WIFCONTINUED(status));
    EXPECT_TRUE(news);
    EXPECT_EQ(f->take_child_events(1, code), 0);
    f->exited(a, 0, Usage{});
    EXPECT_EQ(f->job_changed(a, SIGSTOP), 0);  // a zombie neither stops nor continues
    ASSERT_EQ(f->wait(1, a, WEXITED | WUNTRACED, false, pid, status, news, usage), 0);
    EXPECT_TRUE(WIFEXITED(status));
}

TEST(Family, TheForegroundGroupMustBeInTheCallersSession) {
    Family* f = Family::create(16);
    const int32_t a = f->add(1), b = f->add(1);
    EXPECT_EQ(f->foreground(), 0);  // the outside shell's group
    ASSERT_EQ(f->set_pgid(a, 0, 0), 0);  // a leads group a, in pid 1's session (0)
    EXPECT_EQ(f->set_foreground(1, a), 0);
    EXPECT_EQ(f->foreground(), a);
    EXPECT_EQ(f->set_foreground(1, 77), -ESRCH);  // no such group
    ASSERT_EQ(f->set_sid(b), b);                   // b's own session
    EXPECT_EQ(f->set_foreground(b, a), -EPERM);   // a's group is in another session
    EXPECT_EQ(f->set_foreground(1, 0), 0);        // back to the outside group
    EXPECT_EQ(f->foreground(), 0);
}

TEST(Family, AReapedChildsTimeIsItsParentsChildrenTime) {
    Family* f = Family::create(16);
    const int32_t a = f->add(1);
    const int32_t grandchild = f->add(a);
    int32_t pid;
    int status;
    bool news;
    Usage usage;
    f->exited(grandchild, 0, Usage{5, 1});
    ASSERT_EQ(f->wait(a, -1, WEXITED, false, pid, status, news, usage), 0);
    EXPECT_EQ(usage.user_us, 5u);
    EXPECT_EQ(f->children_usage(a).user_us, 5u);
    f->exited(a, 0, Usage{100, 20});
    ASSERT_EQ(f->wait(1, a, WEXITED, true, pid, status, news, usage), 0);  // WNOWAIT
    EXPECT_EQ(usage.user_us, 100u);
    EXPECT_EQ(f->children_usage(1).user_us, 0u);  // not reaped yet
    ASSERT_EQ(f->wait(1, a, WEXITED, false, pid, status, news, usage), 0);
    EXPECT_EQ(f->children_usage(1).user_us, 105u);  // its own and its reaped child's
    EXPECT_EQ(f->children_usage(1).system_us, 21u);
}

TEST(Family, GroupsAndSessions) {
    Family* f = Family::create(16);
    // pid 1 starts in a group and a session led from outside: 0.
    EXPECT_EQ(f->pgid_of(1, 0), 0);
    EXPECT_EQ(f->sid_of(1, 0), 0);
    const int32_t a = f->add(1), b = f->add(1), grandchild = f->add(a);
    EXPECT_EQ(f->pgid_of(1, a), 0);                     // inherited
    EXPECT_EQ(f->set_pgid(1, a, 0), 0);                 // the parent moves its child
    EXPECT_EQ(f->pgid_of(1, a), a);
    EXPECT_EQ(f->set_pgid(b, 0, a), 0);                 // joins an existing group
    EXPECT_EQ(f->pgid_of(b, 0), a);
    EXPECT_EQ(f->set_pgid(1, grandchild, 0), -ESRCH);   // not a child of the caller
    EXPECT_EQ(f->set_pgid(1, 77, 0), -ESRCH);
    EXPECT_EQ(f->set_pgid(1, 0, 77), -EPERM);           // no such group
    EXPECT_EQ(f->set_pgid(1, 0, -1), -EINVAL);
    EXPECT_EQ(f->set_sid(a), -EPERM);                   // a group leader
    EXPECT_EQ(f->set_sid(grandchild), grandchild);      // its own session and group
    EXPECT_EQ(f->sid_of(1, grandchild), grandchild);
    EXPECT_EQ(f->pgid_of(1, grandchild), grandchild);
    EXPECT_EQ(f->set_pgid(grandchild, 0, 0), -EPERM);   // a session leader
    EXPECT_EQ(f->set_pgid(a, grandchild, a), -EPERM);   // another session
    EXPECT_EQ(f->sid_of(1, 77), -ESRCH);
    bool self;
    EXPECT_EQ(f->kill(1, -a, SIGTERM, SIGURG, self), 0);  // the group: a and b
    EXPECT_EQ(f->take_signals(a), 1ULL << (SIGTERM - 1));
    EXPECT_EQ(f->take_signals(b), 1ULL << (SIGTERM - 1));
    EXPECT_EQ(f->take_signals(grandchild), 0u);
}

TEST(Family, SharedWithForkedProcesses) {
    Family* f = Family::create(16);
    const int32_t child = f->add(1);
    const pid_t host = fork();
    ASSERT_GE(host, 0);
    if (host == 0) {
        f->set_host_pid(child, getpid());
        f->exited(child, 5 << 8, Usage{});
        _exit(0);
    }
    int st;
    ASSERT_EQ(waitpid(host, &st, 0), host);
    int32_t pid;
    int status;
    bool news;
    Usage usage;
    ASSERT_EQ(f->wait(1, child, WEXITED, false, pid, status, news, usage), 0);
    EXPECT_EQ(status, 5 << 8);
}

TEST(Family, AHostProcessKilledOutrightIsRecorded) {
    Family* f = Family::create(16);
    const int32_t child = f->add(1);
    const pid_t host = fork();
    ASSERT_GE(host, 0);
    if (host == 0) {
        pause();
        _exit(0);
    }
    f->set_host_pid(child, host);
    pid_t hosts[4];
    ASSERT_EQ(f->running_hosts(1, hosts, 4), 1);
    EXPECT_EQ(hosts[0], host);
    bool self;
    // SIGKILL goes to the guest like any signal (its kernel ends the process)...
    ASSERT_EQ(f->kill(1, child, SIGKILL, SIGURG, self), 0);
    EXPECT_EQ(f->take_signals(child), 1ULL << (SIGKILL - 1));
    // ...and a VMM whose guest does not is ended outright, recording nothing itself.
    ::kill(host, SIGKILL);
    int st;
    ASSERT_EQ(waitpid(host, &st, 0), host);
    f->host_exited(host, st, Usage{});
    EXPECT_EQ(f->running_hosts(1, hosts, 4), 0);  // its pid may be anyone's now
    int32_t pid;
    int status;
    bool news;
    Usage usage;
    ASSERT_EQ(f->wait(1, -1, WEXITED, false, pid, status, news, usage), 0);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

}  // namespace
}  // namespace utx::loader

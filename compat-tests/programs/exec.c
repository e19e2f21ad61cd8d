// exec.c: execve and execveat. One run goes through several images of this program:
//   1. errors (ENOENT, EACCES, ENOEXEC, ELOOP, E2BIG, EFAULT, EBADF), then execve from a
//      second thread while the first waits, with a close-on-exec descriptor, handlers, an
//      ignored signal and a blocked one;
//   2. "after": what survived (pid, descriptors, mask, ignored signals) and what did not
//      (the other thread, handlers, close-on-exec), then execve of a "#!" script whose
//      interpreter is this program;
//   3. "script": the argv the script line made, comm, /proc/self/exe, then fexecve;
//   4. "via-fd": the end.
// Covers: execve, execveat.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static char self[4096];
static char script[64], loop_script[64];
static int keep_fd, cloexec_fd;

static void handler(int sig) { (void)sig; }

static void write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(path);
        exit(1);
    }
    close(fd);
    chmod(path, mode);
}

static void *exec_from_thread(void *arg) {
    (void)arg;
    char pid[32], fds[64];
    snprintf(pid, sizeof pid, "%d", getpid());
    snprintf(fds, sizeof fds, "%d,%d", keep_fd, cloexec_fd);
    char *argv[] = {"exec", "after", pid, fds, NULL};
    char *envp[] = {"EXEC_TEST=passed", "SECOND=2", NULL};
    execve(self, argv, envp);
    perror("execve from a thread");
    exit(1);
}

static void stage_errors(void) {
    char *argv[] = {"x", NULL};
    EXPECT_ERRNO("missing file", execve("/nonexistent/program", argv, environ), ENOENT);
    EXPECT_ERRNO("empty path", execve("", argv, environ), ENOENT);
    EXPECT_ERRNO("a directory", execve("/tmp", argv, environ), EACCES);
    write_file("/tmp/exec_plain", "not a program\n", 0644);
    EXPECT_ERRNO("no execute permission", execve("/tmp/exec_plain", argv, environ), EACCES);
    write_file("/tmp/exec_garbage", "garbage, not a program\n", 0755);
    EXPECT_ERRNO("neither ELF nor #!", execve("/tmp/exec_garbage", argv, environ), ENOEXEC);
    write_file("/tmp/exec_short", "\x7f" "ELF\2\1\1", 0755);
    EXPECT_ERRNO("truncated ELF", execve("/tmp/exec_short", argv, environ), ENOEXEC);
    snprintf(loop_script, sizeof loop_script, "/tmp/exec_loop_%d", getpid());
    char text[128];
    snprintf(text, sizeof text, "#!%s\n", loop_script);
    write_file(loop_script, text, 0755);
    EXPECT_ERRNO("a script that interprets itself", execve(loop_script, argv, environ), ELOOP);
    unlink(loop_script);
    static char big[200 * 1024];
    memset(big, 'a', sizeof big - 1);
    char *big_argv[] = {"x", big, NULL};
    EXPECT_ERRNO("an argument over 128 KiB", execve(self, big_argv, environ), E2BIG);
    EXPECT_ERRNO("argv not mapped", execve(self, (char **)unmapped_address, environ), EFAULT);
    char *bad_env[] = {"A=1", (char *)unmapped_address, NULL};
    EXPECT_ERRNO("an environment string not mapped", execve(self, argv, bad_env), EFAULT);
    EXPECT_ERRNO("execveat bad flags", syscall(SYS_execveat, AT_FDCWD, self, argv, environ, 0x4),
                 EINVAL);
    EXPECT_ERRNO("execveat empty path, bad fd",
                 syscall(SYS_execveat, 999, "", argv, environ, AT_EMPTY_PATH), EBADF);
    EXPECT_ERRNO("execveat relative to a file",
                 syscall(SYS_execveat, 0, "x", argv, environ, 0), ENOTDIR);
    unlink("/tmp/exec_plain");
    unlink("/tmp/exec_garbage");
    unlink("/tmp/exec_short");
}

static void stage_first(void) {
    stage_errors();
    keep_fd = open("/dev/null", O_RDONLY);
    cloexec_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGUSR2, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (check_failures) exit(1);
    fflush(stdout);
    pthread_t t;
    pthread_create(&t, NULL, exec_from_thread, NULL);
    pthread_join(t, NULL);  // never returns: the thread's execve ends this one
    printf("the first thread came back\n");
    exit(1);
}

static void stage_after(int argc, char **argv) {
    expect("argc 4", argc == 4);
    expect("argv[0] as given", strcmp(argv[0], "exec") == 0);
    expect("same pid", atoi(argv[2]) == getpid());
    expect("the thread became the leader", syscall(SYS_gettid) == getpid());
    expect("the environment is the new one",
           getenv("EXEC_TEST") && strcmp(getenv("EXEC_TEST"), "passed") == 0 &&
               getenv("SECOND") && !getenv("PATH"));
    int keep, cloexec;
    sscanf(argv[3], "%d,%d", &keep, &cloexec);
    expect("a descriptor without close-on-exec stays", fcntl(keep, F_GETFD) == 0);
    expect("a close-on-exec descriptor is closed", fcntl(cloexec, F_GETFD) == -1 && errno == EBADF);
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    expect("a handled signal is back to SIG_DFL", sa.sa_handler == SIG_DFL);
    sigaction(SIGUSR2, NULL, &sa);
    expect("an ignored signal stays ignored", sa.sa_handler == SIG_IGN);
    sigset_t set;
    sigprocmask(SIG_BLOCK, NULL, &set);
    expect("the signal mask stays", sigismember(&set, SIGINT) == 1);
    char name[17] = {0};
    prctl(PR_GET_NAME, name);
    expect("comm is the file's name", strcmp(name, "exec") == 0);
    stack_t ss;
    sigaltstack(NULL, &ss);
    expect("no alternate signal stack", ss.ss_flags == SS_DISABLE);

    snprintf(script, sizeof script, "/tmp/exec_script_%d", getpid());
    char text[4200];
    snprintf(text, sizeof text, "#!%s  script-arg  \necho not for a shell\n", self);
    write_file(script, text, 0755);
    char *next[] = {"ignored", "x1", "x2", NULL};
    char *envp[] = {"EXEC_TEST=script", NULL};
    if (check_failures) exit(1);
    fflush(stdout);
    execve(script, next, envp);
    perror("execve of a script");
    exit(1);
}

static void stage_script(int argc, char **argv) {
    expect("script: argc 5", argc == 5);
    expect("script: argv[0] is the interpreter", strcmp(argv[0], self) == 0);
    expect("script: argv[2] is the script", strncmp(argv[2], "/tmp/exec_script_", 17) == 0);
    expect("script: then the arguments after argv[0]",
           strcmp(argv[3], "x1") == 0 && strcmp(argv[4], "x2") == 0);
    char name[17] = {0};
    prctl(PR_GET_NAME, name);
    expect("script: comm is the script's name", strncmp(name, "exec_script_", 12) == 0);
    char exe[4096] = {0};
    expect("script: /proc/self/exe is the interpreter",
           readlink("/proc/self/exe", exe, sizeof exe - 1) > 0 && strcmp(exe, self) == 0);
    unlink(argv[2]);
    int fd = open(self, O_RDONLY | O_CLOEXEC);
    char *next[] = {"exec", "via-fd", NULL};
    char *envp[] = {NULL};
    if (check_failures) exit(1);
    fflush(stdout);
    syscall(SYS_execveat, fd, "", next, envp, AT_EMPTY_PATH);
    perror("fexecve");
    exit(1);
}

int main(int argc, char **argv) {
    if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) {
        perror("/proc/self/exe");
        return 1;
    }
    if (argc >= 2 && strcmp(argv[1], "after") == 0) stage_after(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "script-arg") == 0) stage_script(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "via-fd") == 0) {
        expect("execveat with AT_EMPTY_PATH", getenv("EXEC_TEST") == NULL);
        return check_failures != 0;
    } else {
        stage_first();
    }
    return 1;
}

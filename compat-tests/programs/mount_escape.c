// covers: open, stat, lstat, readlink, symlink, truncate, chmod, utimensat, linkat, mkdir, rename, access
// Attempts to leave a directory through symlinks and ".." from inside it: natively the
// program runs chrooted into the directory ("chroot DIR"), under utx the directory is a host
// mount ("plain DIR"). The host files next to the directory must stay out of reach: every
// attempt gives the errno Linux gives inside a chroot. The directory holds rel -> ../secret,
// abs -> the secret's absolute host path, and sub/deep -> many ../ then that path.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    if (strcmp(argv[1], "chroot") == 0) {
        if (chroot(argv[2]) != 0 || chdir("/") != 0) {
            perror("chroot");
            return 2;
        }
    } else if (chdir(argv[2]) != 0) {
        perror("chdir");
        return 2;
    }
    struct stat st;
    char buf[256];
    EXPECT_ERRNO("open a relative symlink out", open("rel", O_RDONLY), ENOENT);
    EXPECT_ERRNO("open an absolute symlink out", open("abs", O_RDONLY), ENOENT);
    EXPECT_ERRNO("open a deep relative symlink out", open("sub/deep", O_RDONLY), ENOENT);
    EXPECT_ERRNO("open through sub/.. and a symlink", open("sub/../rel", O_RDONLY), ENOENT);
    EXPECT_ERRNO("stat follows nothing out", stat("abs", &st), ENOENT);
    expect("lstat sees the symlink itself", lstat("abs", &st) == 0 && S_ISLNK(st.st_mode));
    expect("readlink shows its target", readlink("rel", buf, sizeof buf) == 9 && memcmp(buf, "../secret", 9) == 0);
    expect("symlink made inside, pointing out", symlink("../../secret", "made") == 0);
    EXPECT_ERRNO("open it", open("made", O_RDONLY), ENOENT);
    expect("an absolute one with ..", symlink("/../..//../secret", "made2") == 0);
    EXPECT_ERRNO("open that", open("made2", O_RDONLY), ENOENT);
    EXPECT_ERRNO("truncate through a symlink out", truncate("abs", 0), ENOENT);
    EXPECT_ERRNO("chmod through a symlink out", chmod("rel", 0777), ENOENT);
    EXPECT_ERRNO("utimensat through a symlink out", utimensat(AT_FDCWD, "abs", NULL, 0), ENOENT);
    EXPECT_ERRNO("link what a symlink out names", linkat(AT_FDCWD, "abs", AT_FDCWD, "hl", AT_SYMLINK_FOLLOW), ENOENT);
    EXPECT_ERRNO("opendir through a symlink out", open("sub/deep/..", O_RDONLY | O_DIRECTORY), ENOENT);
    // Creating through a dangling symlink that climbs out lands inside, as in a chroot.
    expect("a symlink to ../created", symlink("../created", "out") == 0);
    int fd = open("out", O_CREAT | O_WRONLY, 0600);
    expect("O_CREAT through it", fd >= 0 && write(fd, "in", 2) == 2);
    close(fd);
    expect("the file is inside", stat("created", &st) == 0 && st.st_size == 2);
    EXPECT_ERRNO("mkdir does not follow a last symlink", mkdir("out", 0700), EEXIST);
    expect("rename a symlink inside", rename("sub/deep", "sub/deep2") == 0);
    expect("the secret is still unreachable", access("../secret", F_OK) != 0);
    return check_exit_status();
}

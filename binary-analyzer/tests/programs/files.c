// File workload for the recall test: open/read/write/stat/lseek/getdents/rename/unlink.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
    const char* dir = argc > 1 ? argv[1] : "/tmp";
    char path[4096], moved[4096];
    snprintf(path, sizeof path, "%s/recall-%d", dir, (int)getpid());
    snprintf(moved, sizeof moved, "%s.moved", path);
    FILE* f = fopen(path, "w");
    if (!f) return 1;
    fprintf(f, "hello %d\n", 42);
    fclose(f);
    int fd = open(path, O_RDWR);
    char buf[64] = {0};
    read(fd, buf, sizeof buf - 1);
    lseek(fd, 0, SEEK_END);
    write(fd, "x\n", 2);
    struct stat st;
    fstat(fd, &st);
    close(fd);
    stat(path, &st);
    rename(path, moved);
    DIR* d = opendir(dir);
    int entries = 0;
    while (d && readdir(d)) ++entries;
    if (d) closedir(d);
    unlink(moved);
    char* cwd = getcwd(NULL, 0);
    printf("%s %ld %d %s\n", buf, (long)st.st_size, entries > 0, cwd ? "cwd" : "");
    free(cwd);
    return 0;
}

// covers: uname
// Only the deterministic parts of uname(2): the system name and the machine.
#include <sys/utsname.h>

#include "check.h"

int main(void) {
    struct utsname u;
    if (uname(&u) != 0) {
        perror("uname");
        return 1;
    }
    printf("sysname=%s\n", u.sysname);
    printf("machine=%s\n", u.machine);
    expect("release is not empty", u.release[0] != '\0');
    expect("nodename is terminated", memchr(u.nodename, '\0', sizeof u.nodename) != NULL);
    return check_exit_status();
}

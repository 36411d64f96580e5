/* The reference: the least a privilege-dropping launcher can do.
 * setgroups, setresgid, setresuid with fixed ids given as numbers, then
 * execve. No name lookup, no verification. Built static with musl. */
#define _GNU_SOURCE
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) return 125;
    uid_t uid = (uid_t)strtoul(argv[1], NULL, 10);
    gid_t gid = (gid_t)strtoul(argv[2], NULL, 10);
    if (setgroups(1, &gid) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)) return 125;
    extern char **environ;
    execve(argv[3], argv + 3, environ);
    return 127;
}

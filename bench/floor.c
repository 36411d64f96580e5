/* floor.c: the feature-equivalent C floor for runas's default path.
 *
 *   floor USER CMD [ARG]...     does what   runas -u USER -- CMD [ARG]...
 *
 * bench/minimal-launcher.c is the least any launcher can do (fixed ids,
 * no lookup, no proof). This file is the least a launcher can do that
 * keeps *runas's* guarantees: it makes the same decisions, the same checks
 * and the same kinds of system calls as the static (musl) build of runas
 * on its default path, and nothing more, as cheaply as C allows. It exists
 * so that runas's speed can be compared with a real floor, and it must
 * stay feature-equivalent with that path: when the path changes, this file
 * changes with it, and both must give the same ids, groups, capabilities,
 * environment and exit status for the same account files.
 *
 * What it does, in runas's order (source files are runas's):
 *  1. facts.rs, newgrp.rs: getresuid, getresgid, getgroups, capget; real
 *     and effective ids must agree (no set-ID install); a root caller not
 *     in secure-execution mode reads the securebits (SECBIT_NOROOT with a
 *     file capability is refused); newgrp mode (AT_SECURE, non-root
 *     caller) is not the default path and is refused.
 *  2. spec.rs: USER is an id when all ASCII digits (0..4294967294), else a
 *     name (UTF-8; no sign+digits, 0x-hex, white space, control, leading
 *     '-', ':', ',', '/').
 *  3. db.rs, nsswitch.rs, files.rs, plan.rs: an nscd socket would make
 *     runas ask nscd for what the files lack: refused here.
 *     /etc/nsswitch.conf is read as glibc reads it (the last `initgroups`
 *     line, else the last `group` line; only the lines of databases glibc
 *     knows are parsed, and a bad block on one fails the run, as glibc
 *     then fails its lookups): a service other than files,
 *     compat and systemd is refused (as is any before files or compat),
 *     and with systemd, a userdb drop-in
 *     giving the user a group (USER:*.membership in systemd's five
 *     directories). /etc/passwd and
 *     /etc/group are each read once (one read, sized by fstat) and parsed
 *     by glibc nss_files' rules, strictly: a line that glibc might read as
 *     the entry asked for, or as listing the user, must be canonical or
 *     the run fails. The group list is the primary gid plus every group
 *     listing the user, sorted, deduplicated, at most 65536. A uid without
 *     a passwd entry fails (there is no primary group). HOME, USER,
 *     LOGNAME, SHELL come from the entry (HOME=/ unless absolute,
 *     SHELL=/bin/sh if empty). systemd's LISTEN_PID/LISTEN_FDS, when they
 *     name this process, must name open descriptors.
 *  4. transition.rs check_privilege: CAP_SETUID/CAP_SETGID where needed.
 *  5. terminal.rs: a controlling terminal? (/dev/tty; ENXIO is "none").
 *     With one and a less privileged target, the TIOCSTI defence: in
 *     place (TIOCNOTTY, proven by TIOCGPGRP failing with ENOTTY). Where
 *     runas would fork into a new session (it leads its session, or the
 *     terminal is unreachable) the floor refuses instead.
 *  6. transition.rs: setgroups, setresgid, setresuid (each skipped when
 *     the kernel already holds the value; plain system calls, not musl's
 *     all-threads wrappers), a new session keyring of the target's own
 *     (KEYCTL_JOIN_SESSION_KEYRING), PR_CAP_AMBIENT_CLEAR_ALL, capset
 *     (nothing for a non-root target; root keeps effective and permitted).
 *  7. verify.rs: getresuid, getresgid, getgroups equal the plan;
 *     setfsuid(-1), setfsgid(-1) equal it; capget equals the planned sets;
 *     the session keyring is the one joined, and the target's;
 *     after dropping root's ids, setresuid and setresgid back to the old
 *     ones must fail with EPERM, and the ids are read and compared again.
 *  8. exec.rs: the inherited environment, one entry per name (the first),
 *     HOME USER LOGNAME SHELL replaced; an execvp-style PATH search in that
 *     environment (default /usr/local/bin:/usr/bin:/bin) as the target.
 * Failures print "floor: <reason>" and exit 125; exec failures 126/127.
 *
 * Left out, because nothing on this path depends on them: runas's reads
 * of getppid, getpid and getpgrp and of the ambient set (for options this
 * path does not have), its close() of the account files (close-on-exec
 * here), its EOF probe read, the second getgroups of each count-then-read
 * (here one call with room for one more gid proves count and list), and
 * its explanations of a failed switch from /proc/self (the exit status is
 * the same). Refused where runas would do more than this path: USER:GROUP,
 * an nscd socket, newgrp mode, a new session for the terminal defence.
 *
 * Build: musl-gcc -O2 -static -Wall -Wextra -o floor bench/floor.c
 * Static PIE: musl-gcc's specs turn -static-pie into a dynamically linked
 * PIE (Scrt1.o, /lib/ld-musl-x86_64.so.1), and Debian's musl has no
 * rcrt1.o, so link by hand against the musl Rust links runas with (M is
 * $(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-musl/lib/self-contained;
 * bench/run does this):
 *   musl-gcc -O2 -fPIE -c bench/floor.c -o floor.o
 *   gcc -static-pie -nostdlib -o floor $M/rcrt1.o $M/crti.o \
 *     $(gcc -print-file-name=crtbeginS.o) floor.o -L$M -lc \
 *     $(gcc -print-file-name=libgcc.a) $(gcc -print-file-name=crtendS.o) $M/crtn.o
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#define CAP_SETGID 6
#define CAP_SETUID 7
#define CAP_SYS_ADMIN 21
#define HAS(mask, cap) (((mask) >> (cap)) & 1)
#define MAX_ID 4294967294u
#define UNSET 4294967295u
#define NGROUPS_KERNEL 65536
#define KEYCTL_GET_KEYRING_ID 0
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_DESCRIBE 6
#define KEY_SPEC_SESSION_KEYRING (-3)

typedef uint32_t u32;
typedef uint64_t u64;
extern char **environ;

/* ---- messages ---- */

/* "floor: " and the pieces up to a null pointer, in one write; then exit. */
static _Noreturn void fail(int code, const char *s, ...) {
    char buf[4096] = "floor: ";
    size_t n = 7;
    va_list ap;
    va_start(ap, s);
    for (; s; s = va_arg(ap, const char *))
        for (const char *p = s; *p && n < sizeof buf - 1; p++) buf[n++] = *p;
    va_end(ap);
    buf[n++] = '\n';
    if (write(2, buf, n) < 0) { /* nowhere else to say it */ }
    _exit(code);
}
#define die(...) fail(125, __VA_ARGS__, (char *)0)

static const char *num(u64 v) {
    static char ring[4][24];
    static int k;
    char *e = ring[k++ & 3] + 23, *p = e;
    *p = 0;
    do *--p = '0' + v % 10; while (v /= 10);
    return p;
}

static const char *err(void) { return strerror(errno); }

/* ---- memory: a bump arena, anonymous mappings past it; never freed ---- */

static void *grab(size_t size) {
    static char arena[1 << 16] __attribute__((aligned(16)));
    static size_t used;
    size = (size + 15) & ~(size_t)15;
    if (size <= sizeof arena - used) return arena + (used += size) - size;
    void *p = mmap(0, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) die("mmap: ", err());
    return p;
}

/* ---- small parsers ---- */

/* isspace(3) in the C locale. */
static int cspace(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* One scalar of strict UTF-8 (as Rust's str), advancing *pp; -1 if invalid. */
static long utf8(const unsigned char **pp, const unsigned char *end) {
    const unsigned char *p = *pp;
    u32 c = *p++, min, n;
    if (c < 0x80) return *pp = p, (long)c;
    if (c >= 0xc2 && c <= 0xdf) n = 1, c &= 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 2, c &= 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 3, c &= 0x07, min = 0x10000;
    else return -1;
    if ((size_t)(end - p) < n) return -1;
    while (n--) {
        if ((*p & 0xc0) != 0x80) return -1;
        c = c << 6 | (*p++ & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return -1;
    return *pp = p, (long)c;
}

static int valid_utf8(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e)
        if (utf8(&p, e) < 0) return 0;
    return 1;
}

/* Rust's char::is_whitespace and char::is_control. */
static int uspace(long c) {
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}
static int ucontrol(long c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

static int all_digits(const char *s, size_t n) {
    if (!n) return 0;
    while (n--)
        if (*s < '0' || *s++ > '9') return 0;
    return 1;
}

/* files.rs canonical_id: plain decimal, no leading zero, 0..MAX_ID. */
static int canonical_id(const char *f, size_t n, u32 *id) {
    if (n == 0 || n > 10 || !all_digits(f, n) || (n > 1 && f[0] == '0')) return 0;
    u64 v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (u64)(f[i] - '0');
    if (v > MAX_ID) return 0;
    return *id = (u32)v, 1;
}

/* files.rs could_be: might strtoul (or musl) read this id field as `id`? */
static int could_be(const char *f, size_t n, u32 id) {
    size_t i = 0, d;
    while (i < n && cspace((unsigned char)f[i])) i++;
    if (i < n && f[i] == '-') return 1;
    if (i < n && f[i] == '+') i++;
    for (d = 0; i + d < n && f[i + d] >= '0' && f[i + d] <= '9'; d++) {}
    if (d == 0) return id == 0;
    if (d > 10) return 1;
    u64 v = 0;
    for (size_t k = 0; k < d; k++) v = v * 10 + (u64)(f[i + k] - '0');
    return (u32)v == id || (v > UINT32_MAX ? UINT32_MAX : v) == id;
}

/* ---- the account files (files.rs) ---- */

typedef struct { const char *p; size_t n; } str;

/* Errors that make nsswitch.conf "no file" for glibc (db.rs memberships). */
static int no_file(int e) {
    return e == ENOENT || e == ENOTDIR || e == EACCES || e == EISDIR || e == ELOOP || e == EPERM;
}

/* A file's text; "" where it does not exist (any of no_file's errors for
 * an optional one). */
static const char *read_file(const char *path, size_t *len, int optional) {
    long fd = syscall(SYS_open, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || (optional && no_file(errno))) return *len = 0, "";
        die("reading ", path, ": ", err());
    }
    struct stat st;
    if (fstat((int)fd, &st)) die("reading ", path, ": ", err());
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = grab(cap);
    for (;;) { /* one read, unless the file is not the size fstat said */
        ssize_t r = read((int)fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && optional && no_file(errno)) return *len = 0, "";
        if (r < 0) die("reading ", path, ": ", err());
        if (r == 0 || (n += (size_t)r) == (size_t)st.st_size) break;
        if (n == cap) {
            char *more = grab(cap *= 2);
            buf = memcpy(more, buf, n);
        }
    } /* the descriptor is close-on-exec: no close needed */
    return *len = n, buf;
}

/* ---- nsswitch.conf and userdb (nsswitch.rs; db.rs static_memberships) ---- */

static int nss_space(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* The services of one database line (nss_action_parse): their count, the
 * names in out[] (pointers into the text, lengths in lens[]), or -1 where
 * glibc's parser fails (an unknown status or action in brackets). */
#define MAX_SERVICES 16
static int nss_services(const char *p, const char *e, str *out) {
    static const char *const status[] = {"SUCCESS", "UNAVAIL", "NOTFOUND", "TRYAGAIN"};
    static const char *const action[] = {"RETURN", "CONTINUE", "MERGE"};
    int n = 0;
    for (;;) {
        while (p < e && nss_space(*p)) p++;
        const char *name = p;
        while (p < e && !nss_space(*p) && *p != '[') p++;
        if (p == name) return n;
        if (n < MAX_SERVICES) out[n] = (str){name, (size_t)(p - name)};
        n++;
        while (p < e && nss_space(*p)) p++;
        if (p == e || *p != '[') continue;
        for (p++;;) {
            const char *w;
            size_t k, len;
            while (p < e && nss_space(*p)) p++;
            if (p < e && *p == '!') p++;
            for (w = p; p < e && !nss_space(*p) && *p != '=' && *p != ']'; p++) {}
            len = (size_t)(p - w);
            for (k = 0; k < 4 && !(strlen(status[k]) == len && !strncasecmp(status[k], w, len)); k++) {}
            if (k == 4) return -1;
            while (p < e && nss_space(*p)) p++;
            if (p == e || *p++ != '=') return -1;
            while (p < e && nss_space(*p)) p++;
            for (w = p; p < e && !nss_space(*p) && *p != '=' && *p != ']'; p++) {}
            len = (size_t)(p - w);
            for (k = 0; k < 3 && !(strlen(action[k]) == len && !strncasecmp(action[k], w, len)); k++) {}
            if (k == 3) return -1;
            while (p < e && nss_space(*p)) p++;
            if (p < e && *p == ']') { p++; break; }
        }
    }
}

/* The databases glibc 2.36 knows (nsswitch.rs DATABASES): only their lines
 * are parsed. */
static int nss_known(const char *name, size_t n) {
    static const char *const known[] = {
        "aliases", "ethers", "group", "group_compat", "gshadow", "hosts", "initgroups",
        "netgroup", "networks", "passwd", "passwd_compat", "protocols", "publickey",
        "rpc", "services", "shadow", "shadow_compat"};
    for (size_t k = 0; k < sizeof known / sizeof *known; k++)
        if (strlen(known[k]) == n && !memcmp(known[k], name, n)) return 1;
    return 0;
}

/* The services glibc's getgrouplist asks (membership_services): the last
 * `initgroups` line, else the last `group` line; -1 for neither (glibc's
 * default: the files), -2 for a file glibc cannot parse (it then fails
 * its lookups). */
static int membership_services(const char *text, size_t len, str *out) {
    static str init[MAX_SERVICES], grp[MAX_SERVICES];
    int ninit = -1, ngrp = -1;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break; /* glibc never parses a last line without its newline */
        const char *e = nl + 1, *name, *name_end;
        for (; p < e && nss_space(*p); p++) {}
        for (name = p; p < e && !nss_space(*p) && *p != ':'; p++) {}
        name_end = p;
        if (name_end == name || name_end == e) { p = e; continue; }
        while (p < e && (nss_space(*p) || *p == ':')) p++;
        size_t n = (size_t)(name_end - name);
        int is_init = n == 10 && !memcmp(name, "initgroups", 10), is_group = n == 5 && !memcmp(name, "group", 5);
        if (is_init || is_group) {
            int k = nss_services(p, e, is_init ? init : grp);
            if (k < 0) return -2;
            *(is_init ? &ninit : &ngrp) = k;
        } else if (nss_known(name, n) && nss_services(p, e, (str[MAX_SERVICES]){0}) < 0) {
            return -2;
        }
        p = e;
    }
    int n = ninit >= 0 ? ninit : ngrp;
    if (n > MAX_SERVICES) die("nsswitch.conf names more services for group memberships than the floor keeps");
    if (n > 0) memcpy(out, ninit >= 0 ? init : grp, (size_t)n * sizeof *out);
    return n;
}

static int is(str s, const char *word) { return s.n == strlen(word) && !memcmp(s.p, word, s.n); }

/* The static build reads /etc/group alone: refused where glibc would ask
 * another service; with `systemd`, no userdb drop-in may give the user a
 * group (USER:GROUP.membership in systemd's five directories). */
static void memberships_from_files(const char *nsswitch, size_t len, str user) {
    str services[MAX_SERVICES];
    int n = membership_services(nsswitch, len, services), systemd = 0;
    if (n == -2) die("nsswitch.conf has a line glibc cannot parse");
    if (n < 0) return;
    if (n == 0) die("nsswitch.conf names no service for group memberships");
    if (!is(services[0], "files") && !is(services[0], "compat"))
        die("nsswitch.conf asks another service for group memberships before the files");
    for (int i = 0; i < n; i++) {
        if (is(services[i], "systemd")) systemd = 1;
        else if (!is(services[i], "files") && !is(services[i], "compat"))
            die("nsswitch.conf asks another service for group memberships");
    }
    if (!systemd) return;
    static const char *const dirs[] = {"/etc/userdb", "/run/userdb", "/run/host/userdb",
                                       "/usr/local/lib/userdb", "/usr/lib/userdb"};
    for (size_t d = 0; d < 5; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir) continue;
        for (struct dirent *ent; (ent = readdir(dir));) {
            size_t n = strlen(ent->d_name);
            if (n >= user.n + 12 && !memcmp(ent->d_name, user.p, user.n) && ent->d_name[user.n] == ':' &&
                !memcmp(ent->d_name + n - 11, ".membership", 11))
                die("a userdb drop-in gives the user a group: ", dirs[d], "/", ent->d_name);
        }
        closedir(dir);
    }
}

/* Where the line holding p starts and ends (without its newline). */
static const char *line_start(const char *text, const char *p) {
    while (p > text && p[-1] != '\n') p--;
    return p;
}
static const char *line_end(const char *p, const char *end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

static _Noreturn void malformed(const char *file, const char *text, const char *line,
                                const char *why, const char *what) {
    u64 number = 1;
    for (const char *p = text; (p = memchr(p, '\n', (size_t)(line - p))); p++) number++;
    die(what, ": line ", num(number), " of ", file, " is malformed: ", why,
        "; correct or remove it");
}

/* What makes a line unusable for the entry it would be (common_checks). */
static const char *common_checks(const char *r, size_t n) {
    if (memchr(r, 0, n)) return "it contains a NUL byte (the file is corrupt)";
    if (memchr(r, '\r', n)) return "it contains a carriage return (DOS line endings?)";
    if (n && cspace((unsigned char)r[0])) return "it starts with white space";
    if (n && r[0] == '#') return "it is commented out, but glibc's getgrouplist still reads it";
    if (n && (r[0] == '+' || r[0] == '-'))
        return "it is a NIS compat line, which the files backend does not use";
    return 0;
}

/* Split a line into up to `max` ':' fields, the last one the rest of it. */
static size_t fields(const char *r, size_t n, str *f, size_t max) {
    size_t k = 0;
    const char *e = r + n;
    while (k + 1 < max) {
        const char *c = memchr(r, ':', (size_t)(e - r));
        if (!c) break;
        f[k++] = (str){r, (size_t)(c - r)};
        r = c + 1;
    }
    f[k++] = (str){r, (size_t)(e - r)};
    return k;
}

typedef struct { str name, home, shell; u32 uid, gid; } passwd;

static const char *passwd_entry(const char *r, size_t n, passwd *pw) {
    const char *why = common_checks(r, n);
    if (why) return why;
    str f[7];
    if (fields(r, n, f, 7) < 7) return "it has fewer than 7 fields";
    if (!f[0].n) return "its name is empty";
    if (!canonical_id(f[2].p, f[2].n, &pw->uid))
        return "its uid is not a plain decimal number from 0 to 4294967294";
    if (!canonical_id(f[3].p, f[3].n, &pw->gid))
        return "its gid is not a plain decimal number from 0 to 4294967294";
    pw->name = f[0], pw->home = f[5], pw->shell = f[6];
    return 0;
}

typedef struct { str members; u32 gid; } group;

static const char *group_entry(const char *r, size_t n, group *g) {
    const char *why = common_checks(r, n);
    if (why) return why;
    str f[4];
    if (fields(r, n, f, 4) < 4) return "it has fewer than 4 fields";
    if (!f[0].n) return "its name is empty";
    for (size_t i = 0; i < f[3].n; i++)
        if (cspace((unsigned char)f[3].p[i])) return "its member list contains white space";
    if (!canonical_id(f[2].p, f[2].n, &g->gid))
        return "its gid is not a plain decimal number from 0 to 4294967294";
    g->members = f[3];
    return 0;
}

/* memmem as runas's default path does it (sys/accounts.rs): in a file of an
 * ordinary system's size and for a short needle, the first byte found by
 * memchr and the rest compared, where musl's two-way search first builds a
 * 2 KiB table on the stack at every call (about 6,000 instructions a search
 * of bench/budget's files, and a page of stack); beyond, the C library's. */
static const char *find(const char *h, size_t hn, const char *n, size_t nn) {
    if (hn > 64 * 1024 || nn > 64 || !nn) return memmem(h, hn, n, nn);
    for (const char *end = h + hn, *p = h; nn <= (size_t)(end - p) &&
         (p = memchr(p, n[0], (size_t)(end - p) - nn + 1)); p++)
        if (!memcmp(p + 1, n + 1, nn - 1)) return p;
    return 0;
}

/* getpwnam (files.rs by_name): the first line whose first field, once cut
 * at a NUL and stripped of leading white space, is the name; it must be
 * canonical. Only lines where the name occurs are looked at. */
static int user_by_name(const char *text, size_t len, const char *name, passwd *pw) {
    size_t n = strlen(name);
    const char *end = text + len, *q = text;
    if (name[0] == '+' || name[0] == '-' || name[0] == '#') return 0; /* never an entry */
    while ((q = find(q, (size_t)(end - q), name, n))) {
        const char *e = q + n, *s = q;
        while (s > text && s[-1] != '\n' && cspace((unsigned char)s[-1])) s--;
        if ((s == text || s[-1] == '\n') && (e == end || *e == ':' || *e == '\n' || !*e)) {
            const char *why = passwd_entry(s, (size_t)(line_end(e, end) - s), pw);
            if (why) malformed("/etc/passwd", text, s, why, "user");
            return 1;
        }
        q++;
    }
    return 0;
}

/* getpwuid (files.rs by_id): every line is parsed; a line that is not
 * canonical but whose uid field some reader might take for `uid` fails. */
static int user_by_uid(const char *text, size_t len, u32 uid, passwd *pw) {
    const char *end = text + len;
    for (const char *s = text, *e; s < end; s = e + 1) {
        e = line_end(s, end);
        const char *ve = memchr(s, 0, (size_t)(e - s)), *v = s;
        if (!ve) ve = e;
        while (v < ve && cspace((unsigned char)*v)) v++;
        if (v == ve || *v == '#' || *v == '+' || *v == '-') continue;
        const char *why = passwd_entry(s, (size_t)(e - s), pw);
        if (!why) {
            if (pw->uid == uid) return 1;
            continue;
        }
        str f[4]; /* the uid field as glibc's lookups see the line */
        if (fields(v, (size_t)(ve - v), f, 4) >= 3 && could_be(f[2].p, f[2].n, uid))
            malformed("/etc/passwd", text, s, why, "uid");
    }
    return 0;
}

static u32 groups[NGROUPS_KERNEL + 1];

static int by_gid(const void *a, const void *b) {
    u32 x = *(const u32 *)a, y = *(const u32 *)b;
    return (x > y) - (x < y);
}

/* Sort and deduplicate (already sorted: one pass). */
static size_t normalize(u32 *g, size_t n) {
    size_t i, k;
    for (i = 1; i < n && g[i - 1] < g[i]; i++) {}
    if (i >= n) return n;
    qsort(g, n, sizeof *g, by_gid);
    for (i = k = 1; i < n; i++)
        if (g[i] != g[k - 1]) g[k++] = g[i];
    return n ? k : 0;
}

/* Whether a comma-separated member list names the user (empty items do not). */
static int lists(str members, str user) {
    for (const char *m = members.p, *end = m + members.n, *x; m <= end; m = x + 1) {
        if (!(x = memchr(m, ',', (size_t)(end - m)))) x = end;
        if ((size_t)(x - m) == user.n && !memcmp(m, user.p, user.n)) return 1;
    }
    return 0;
}

static int separator(int c) { return c == ',' || c == ':' || c == 0 || cspace(c); }

/* getgrouplist over the files (files.rs group_list): the primary gid, then
 * every group that lists the user; a line that might list the user (the
 * user as a token after its third ':', as glibc reads raw lines) must be
 * canonical. Only lines where the name occurs are looked at. */
static size_t group_list(const char *text, size_t len, str user, u32 primary) {
    const char *end = text + len, *q = text;
    size_t n = 0;
    groups[n++] = primary;
    for (size_t i = 0; i < user.n; i++)
        if (separator((unsigned char)user.p[i])) return n; /* never a token */
    while ((q = find(q, (size_t)(end - q), user.p, user.n))) {
        const char *s = line_start(text, q), *e = q + user.n, *c = s;
        int colons = 0;
        while (c < q && colons < 3)
            if (*c++ == ':') colons++;
        if (colons < 3 || !separator((unsigned char)q[-1]) ||
            (e < end && !separator((unsigned char)*e))) {
            q++;
            continue;
        }
        e = line_end(e, end);
        group g;
        const char *why = group_entry(s, (size_t)(e - s), &g);
        if (why) malformed("/etc/group", text, s, why, "the user's groups");
        if (g.gid != primary && lists(g.members, user)) { /* glibc leaves the primary out */
            if (n == NGROUPS_KERNEL + 1 && (n = normalize(groups, n)) == NGROUPS_KERNEL + 1)
                die("the supplementary list has more groups than the kernel's limit of 65536");
            groups[n++] = g.gid;
        }
        q = e;
    }
    n = normalize(groups, n);
    if (n > NGROUPS_KERNEL)
        die("the supplementary list has ", num(n), " groups, more than the kernel's limit of 65536");
    return n;
}

/* ---- the process ---- */

typedef struct { u32 r, e, s; } ids;
typedef struct { u64 eff, prm, inh; } caps;

static ids get_uids(void) {
    ids i = {UNSET, UNSET, UNSET};
    if (getresuid(&i.r, &i.e, &i.s)) die("getresuid: ", err());
    return i;
}
static ids get_gids(void) {
    ids i = {UNSET, UNSET, UNSET};
    if (getresgid(&i.r, &i.e, &i.s)) die("getresgid: ", err());
    return i;
}

static caps get_caps(void) {
    struct { u32 version; int pid; } h = {0x20080522, 0}; /* _LINUX_CAPABILITY_VERSION_3 */
    struct { u32 eff, prm, inh; } d[2];
    memset(d, 0xff, sizeof d); /* a capget that writes nothing reads as "all" */
    if (syscall(SYS_capget, &h, d)) die("capget: ", err());
    return (caps){d[0].eff | (u64)d[1].eff << 32, d[0].prm | (u64)d[1].prm << 32,
                  d[0].inh | (u64)d[1].inh << 32};
}

static long set_caps(caps c) {
    struct { u32 version; int pid; } h = {0x20080522, 0};
    struct { u32 eff, prm, inh; } d[2] = {{(u32)c.eff, (u32)c.prm, (u32)c.inh},
                                           {(u32)(c.eff >> 32), (u32)(c.prm >> 32),
                                            (u32)(c.inh >> 32)}};
    return syscall(SYS_capset, &h, d);
}

static int all(ids i, u32 id) { return i.r == id && i.e == id && i.s == id; }

static void check_ids(const char *kind, ids i, u32 want) {
    if (!all(i, want))
        die("the ", kind, " is ", num(i.r), ",", num(i.e), ",", num(i.s), ", expected ",
            num(want));
}

/* getgroups into room for `room` gids, prefilled with (gid_t)-1; -1 with
 * errno EINVAL when the kernel holds more. */
static long read_groups(u32 *g, size_t room) {
    for (size_t i = 0; i < room; i++) g[i] = UNSET;
    return getgroups((int)room, g);
}

static int same_groups(const u32 *a, size_t na, const u32 *b, size_t nb) {
    return na == nb && !memcmp(a, b, na * sizeof *a);
}

/* The caller's list (facts.rs): count, then the list. */
static size_t caller_groups(u32 **out) {
    for (int tries = 0; tries < 4; tries++) {
        long count = getgroups(0, 0);
        if (count < 0) die("getgroups: ", err());
        *out = grab((size_t)count * sizeof **out);
        long got = count ? read_groups(*out, (size_t)count) : 0;
        if (got >= 0) return normalize(*out, (size_t)got);
        if (errno != EINVAL) die("getgroups: ", err());
    }
    die("getgroups: ", strerror(EINVAL));
}

/* verify.rs check_credentials: one getgroups with room for one more than
 * planned proves both the count and the list. */
static void check_credentials(u32 uid, u32 gid, const u32 *plan, size_t n) {
    static u32 now[NGROUPS_KERNEL + 1];
    check_ids("uid", get_uids(), uid);
    check_ids("gid", get_gids(), gid);
    long got = read_groups(now, n + 1);
    if (got < 0 && errno != EINVAL) die("getgroups: ", err());
    if (got < 0 || !same_groups(now, normalize(now, (size_t)got), plan, n))
        die("the supplementary groups are not the ", num(n), " planned");
}

/* ---- the terminal (terminal.rs) ---- */

/* A small file's text (read_to_string), or NULL. */
static const char *small_file(const char *path, char *buf, size_t size, size_t *len) {
    long fd = syscall(SYS_open, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = 0, r;
    while ((r = read((int)fd, buf + n, size - (size_t)n)) > 0) n += r;
    close((int)fd);
    if (r < 0 || !valid_utf8(buf, (size_t)n)) return 0;
    return *len = (size_t)n, buf;
}

/* Whether the bounding set (root's capabilities after execve) lacks some
 * capability the caller holds: the lowers_privilege test for uid 0. */
static int root_loses_caps(caps before) {
    long bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    if (bits < 0) die("prctl(PR_GET_SECUREBITS): ", err());
    u64 kept = 0;
    if (!(bits & 1)) /* SECBIT_NOROOT: none */
        for (int cap = 0; cap < 64; cap++) {
            long has = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
            if (has < 0 && errno == EINVAL) break;
            if (has < 0) die("prctl(PR_CAPBSET_READ): ", err());
            if (has) kept |= (u64)1 << cap;
        }
    return (before.prm & ~kept) != 0;
}

/* Whether no process without CAP_SYS_ADMIN can push input to a terminal. */
static int injection_impossible(int fd) {
    char buf[64];
    size_t n;
    const char *t = small_file("/proc/sys/dev/tty/legacy_tiocsti", buf, sizeof buf, &n);
    while (t && n && cspace((unsigned char)t[n - 1])) n--;
    while (t && n && cspace((unsigned char)*t)) t++, n--;
    if (!t || n != 1 || *t != '0') return 0;
    struct stat st;
    int console = 1;
    if (fd >= 0 && !fstat(fd, &st)) {
        unsigned ma = major(st.st_rdev), mi = minor(st.st_rdev);
        console = (ma == 4 && mi < 64) || (ma == 5 && mi == 1);
    }
    if (!console) return 1;
    struct utsname u;
    if (uname(&u)) return 0;
    u64 part[2] = {0, 0}; /* major.minor: digit runs split at any other byte */
    const char *p = u.release;
    for (int k = 0; k < 2; k++, p += !!*p) {
        for (; *p >= '0' && *p <= '9'; p++)
            if (part[k] <= UINT32_MAX) part[k] = part[k] * 10 + (u64)(*p - '0');
        if (part[k] > UINT32_MAX) part[k] = 0; /* does not parse as u32: 0 */
    }
    return part[0] > 6 || (part[0] == 6 && part[1] >= 7);
}

/* decide + detach: nothing without a controlling terminal (the usual
 * case: one open, ENXIO). */
static void terminal_defence(ids ubefore, u32 uid, caps before) {
    int fd = (int)syscall(SYS_open, "/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC), opened = fd >= 0;
    int reachable = opened;
    pid_t pg;
    if (!opened) {
        if (errno == ENXIO) return;
        for (fd = 0; fd <= 2 && !reachable; fd++)
            if (!ioctl(fd, TIOCGPGRP, &pg)) reachable = 1;
        fd--;
        if (!reachable) { /* tty_nr: the 5th field after the command's ')' */
            static const char ws[] = " \t\n\v\f\r";
            char buf[1024];
            size_t n, len = 0;
            const char *p = small_file("/proc/self/stat", buf, sizeof buf - 1, &n);
            if (p) buf[n] = 0, p = strrchr(buf, ')');
            for (int f = 0; p && f < 5; f++) { /* state ppid pgrp session tty_nr */
                p += f ? len : 1;
                p += strspn(p, ws);
                if (!(len = strcspn(p, ws))) p = 0;
            }
            if (p && len == 1 && *p == '0') return; /* no controlling terminal */
            fd = -1;
        }
    }
    int lowers = !all(ubefore, uid) || (uid ? before.prm != 0 : root_loses_caps(before));
    if (!lowers || injection_impossible(fd)) {
        if (opened) close(fd);
        return;
    }
    if (fd < 0) die("a controlling terminal that cannot be reached: runas would start a new "
                    "session (a fork), which the floor does not do");
    if (getsid(0) == getpid()) {
        if (getpid() != 1 && !HAS(before.eff, CAP_SYS_ADMIN))
            die("floor leads its session, which has a controlling terminal, and cannot revoke "
                "that terminal after the command (no CAP_SYS_ADMIN)");
        die("floor leads its session, which has a controlling terminal: runas would start a new "
            "session (a fork), which the floor does not do");
    }
    if (ioctl(fd, TIOCNOTTY)) die("ioctl(TIOCNOTTY) on the controlling terminal: ", err());
    if (!ioctl(fd, TIOCGPGRP, &pg) || errno != ENOTTY)
        die("the controlling terminal is still attached after TIOCNOTTY");
}

/* ---- the exec (exec.rs) ---- */

static size_t name_len(const char *entry) { return strcspn(entry, "="); }

static char *concat(const char *a, str b) {
    size_t n = strlen(a);
    char *s = grab(n + b.n + 1);
    memcpy(s, a, n), memcpy(s + n, b.p, b.n), s[n + b.n] = 0;
    return s;
}

static _Noreturn void run_command(char **argv, str name, str home, str shell) {
    size_t count = 0, n = 0;
    while (environ && environ[count]) count++;
    char **env = grab((count + 5) * sizeof *env);
    /* Each kept entry's name length, found once (as exec.rs keeps each
     * name): finding it again at every comparison made this loop quadratic
     * in the bytes of the environment, not only in its entries. */
    size_t *lens = grab((count + 1) * sizeof *lens);
    static const char *const ours[] = {"HOME", "USER", "LOGNAME", "SHELL"};
    static const size_t our_lens[] = {4, 4, 7, 5};
    for (size_t i = 0; i < count; i++) {
        const char *e = environ[i];
        size_t len = name_len(e), k;
        for (k = 0; k < 4 && !(our_lens[k] == len && !memcmp(ours[k], e, len)); k++) {}
        if (k < 4) continue; /* replaced below */
        for (k = 0; k < n && !(lens[k] == len && !memcmp(env[k], e, len)); k++) {}
        if (k == n) lens[n] = len, env[n++] = (char *)e; /* the first of a name only */
    }
    if (home.n == 0 || home.p[0] != '/') home = (str){"/", 1};
    if (shell.n == 0) shell = (str){"/bin/sh", 7};
    env[n++] = concat("HOME=", home);
    env[n++] = concat("USER=", name);
    env[n++] = concat("LOGNAME=", name);
    env[n++] = concat("SHELL=", shell);
    env[n] = 0;

    const char *prog = argv[0], *path = "/usr/local/bin:/usr/bin:/bin";
    for (size_t i = 0; i < n; i++)
        if (!strncmp(env[i], "PATH=", 5)) { path = env[i] + 5; break; }
    if (strchr(prog, '/')) path = 0;
    size_t plen = strlen(prog);
    char *cand = grab((path ? strlen(path) : 0) + plen + 2);
    int denied = 0, failure = ENOENT;
    const char *unsearchable = 0;
    for (const char *dir = path;;) {
        const char *try = prog;
        if (path) {
            size_t dl = strcspn(dir, ":"); /* an empty element is the current directory */
            memcpy(cand, dir, dl);
            if (dl && dir[dl - 1] != '/') cand[dl++] = '/';
            memcpy(cand + dl, prog, plen + 1);
            try = cand;
        }
        execve(try, argv, env);
        int e = errno;
        if (e == EACCES) {
            struct stat st;
            if (!lstat(try, &st)) denied = 1;
            else if (!unsearchable) unsearchable = try;
        } else if (e != ENOENT && e != ENOTDIR && e != ESTALE && e != ENODEV && e != ETIMEDOUT) {
            failure = e;
            break;
        }
        if (!path || !(dir = strchr(dir, ':'))) break;
        dir++;
    }
    if (denied && failure == ENOENT) failure = EACCES;
    if (failure == ENOENT && unsearchable)
        fail(127, prog, ": not found in the directories of PATH the target may search", (char *)0);
    fail(failure == ENOENT ? 127 : 126, prog, ": ", strerror(failure), (char *)0);
}

/* ---- the run ---- */

/* systemd's socket activation (process.rs systemd_sockets), checked before
 * any descriptor of ours is open: 0 fine, 1 LISTEN_FDS is not a count,
 * else the first descriptor it names that is not open. */
static u64 systemd_sockets(void) {
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    u64 p = 0, count = 0;
    if (!pid || !all_digits(pid, strlen(pid)) || !fds || !valid_utf8(fds, strlen(fds))) return 0;
    for (; *pid && p <= INT32_MAX; pid++) p = p * 10 + (u64)(*pid - '0');
    if (p != (u64)getpid()) return 0; /* another process's */
    for (const char *c = fds; *c && count <= UINT32_MAX; c++) count = count * 10 + (u64)(*c - '0');
    if (!all_digits(fds, strlen(fds)) || count > UINT32_MAX) return 1;
    for (u64 fd = 3; fd < 3 + count; fd++)
        if (fd > INT32_MAX || fcntl((int)fd, F_GETFD) < 0) return fd;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) die("usage: floor USER CMD [ARG]...");

    /* 1. The process as it is (facts.rs), and the install (newgrp.rs). */
    ids ub = get_uids(), gb = get_gids();
    u32 *before;
    size_t nbefore = caller_groups(&before);
    caps cb = get_caps();
    u64 listen = systemd_sockets(); /* reported with the plan, as runas does */
    int secure = getauxval(AT_SECURE) != 0;
    if (ub.r != ub.e) die("real uid ", num(ub.r), " and effective uid ", num(ub.e), " differ");
    if (gb.r != gb.e) die("real gid ", num(gb.r), " and effective gid ", num(gb.e), " differ");
    if (!secure && ub.r == 0) {
        long bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
        if (bits < 0) die("prctl(PR_GET_SECUREBITS): ", err());
        if (bits & 1) { /* SECBIT_NOROOT: a file capability would have been gained */
            long has = getxattr("/proc/self/exe", "security.capability", 0, 0);
            if (has >= 0 || (errno != ENODATA && errno != EOPNOTSUPP && cb.prm))
                die("file capabilities, started by uid 0 with SECBIT_NOROOT: refusing");
        }
    }
    if (secure && ub.r == ub.e && ub.r != 0) die("newgrp mode is not the default path");

    /* 2. USER (spec.rs). */
    const char *user = argv[1];
    size_t ulen = strlen(user);
    u32 uid = 0;
    int numeric = all_digits(user, ulen);
    if (!ulen) die("invalid user '': it is empty");
    if (numeric) {
        u64 v = 0;
        for (const char *p = user; *p && v <= MAX_ID; p++) v = v * 10 + (u64)(*p - '0');
        if (v > MAX_ID) die("invalid user ", user, ": ids go from 0 to 4294967294");
        uid = (u32)v;
    } else {
        const unsigned char *p = (const unsigned char *)user, *e = p + ulen;
        if (!valid_utf8(user, ulen)) die("invalid user: it is not valid UTF-8");
        if ((*p == '-' || *p == '+') && (ulen == 1 || all_digits(user + 1, ulen - 1)))
            die("invalid user ", user, ": ids are plain decimal numbers, without a sign");
        if (*p == '0' && (p[1] == 'x' || p[1] == 'X') && ulen > 2 &&
            strspn(user + 2, "0123456789abcdefABCDEF") == ulen - 2)
            die("invalid user ", user, ": hexadecimal is not accepted");
        for (long c; p < e;)
            if (uspace(c = utf8(&p, e)) || ucontrol(c))
                die("invalid user: it contains white space or a control character");
        if (user[0] == '-') die("invalid user ", user, ": names cannot start with '-'");
        if (strpbrk(user, ":,/")) die("invalid user ", user, ": names cannot contain ':', ',' or '/'");
    }

    /* 3. The plan (plan.rs, userdb.rs, files.rs). */
    struct stat st;
    if (!stat("/var/run/nscd/socket", &st))
        die("an nscd socket: runas would ask nscd for what the files lack; the floor does not");
    size_t plen, glen;
    const char *ptext = read_file("/etc/passwd", &plen, 0);
    passwd pw;
    if (numeric) {
        if (!user_by_uid(ptext, plen, uid, &pw))
            die("uid ", user, " has no passwd entry, so no primary group: give one");
        if (!valid_utf8(pw.name.p, pw.name.n))
            die("uid ", user, ": ", strerror(EILSEQ));
    } else if (!user_by_name(ptext, plen, user, &pw)) {
        die("no such user: ", user);
    }
    uid = pw.uid;
    size_t nlen;
    const char *ntext = read_file("/etc/nsswitch.conf", &nlen, 1);
    memberships_from_files(ntext, nlen, pw.name);
    const char *gtext = read_file("/etc/group", &glen, 0);
    size_t ngroups = group_list(gtext, glen, pw.name, pw.gid);
    if (listen == 1)
        die("LISTEN_FDS=", getenv("LISTEN_FDS"),
            " (with LISTEN_PID naming this process) is not a number of descriptors");
    if (listen > 1) die("LISTEN_FDS names descriptor ", num(listen), ", which is not open");

    /* 4. Privilege for every change, before the first (transition.rs). */
    int set_groups = !same_groups(before, nbefore, groups, ngroups);
    int set_gid = !all(gb, pw.gid), set_uid = !all(ub, uid);
    if (set_uid && ub.r != uid && ub.e != uid && ub.s != uid && !HAS(cb.eff, CAP_SETUID))
        die("switching to uid ", num(uid), " needs CAP_SETUID");
    if (set_gid && gb.r != pw.gid && gb.e != pw.gid && gb.s != pw.gid && !HAS(cb.eff, CAP_SETGID))
        die("switching to gid ", num(pw.gid), " needs CAP_SETGID");
    if (set_groups && !HAS(cb.eff, CAP_SETGID))
        die("changing the supplementary groups needs CAP_SETGID");

    /* 5. The TIOCSTI defence (terminal.rs). */
    terminal_defence(ub, uid, cb);

    /* 6. The switch (transition.rs): plain system calls, one thread. */
    caps want = uid ? (caps){0, 0, 0} : (caps){cb.eff, cb.prm, 0};
    if (set_groups && syscall(SYS_setgroups, ngroups, groups))
        die("setgroups(", num(ngroups), " groups): ", err());
    if (set_gid && syscall(SYS_setresgid, pw.gid, pw.gid, pw.gid))
        die("setresgid(", num(pw.gid), "): ", err());
    if (set_uid && syscall(SYS_setresuid, uid, uid, uid)) die("setresuid(", num(uid), "): ", err());
    /* The target's own session keyring (transition.rs join_session_keyring). */
    long keyring = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0);
    if (keyring < 0) die("keyctl(KEYCTL_JOIN_SESSION_KEYRING): ", err());
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
        die("prctl(PR_CAP_AMBIENT_CLEAR_ALL): ", err());
    if (set_caps(want)) die("capset: ", err());

    /* 7. The proof (verify.rs). */
    check_credentials(uid, pw.gid, groups, ngroups);
    u32 fsuid = (u32)setfsuid(UNSET), fsgid = (u32)setfsgid(UNSET);
    if (fsuid != uid || fsgid != pw.gid)
        die("the filesystem ids are ", num(fsuid), ":", num(fsgid), ", expected ", num(uid), ":",
            num(pw.gid));
    caps now = get_caps();
    if (uid == 0) want.eff = now.eff, want.prm = now.prm;
    if (now.prm != want.prm || now.eff != want.eff || now.inh != want.inh)
        die("the capability sets are not the planned ones");
    if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) != keyring)
        die("the session keyring is not the new one");
    char desc[256];
    long dn = syscall(SYS_keyctl, KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING, desc, sizeof desc);
    if (dn < 0) die("keyctl(KEYCTL_DESCRIBE): ", err());
    const char *owner = memchr(desc, ';', (size_t)dn < sizeof desc ? (size_t)dn : sizeof desc);
    u64 ko = 0;
    if (owner) for (owner++; *owner >= '0' && *owner <= '9' && ko <= UINT32_MAX; owner++) ko = ko * 10 + (u64)(*owner - '0');
    if (!owner || *owner != ';' || ko != uid) die("the session keyring is not the target's");
    int regain_uid = HAS(cb.eff, CAP_SETUID) && uid && ub.e != uid;
    int regain_gid = HAS(cb.eff, CAP_SETUID) && uid && gb.e != pw.gid;
    if (regain_uid && (!syscall(SYS_setresuid, ub.e, ub.e, ub.e) || errno != EPERM))
        die("switching back to uid ", num(ub.e), " was not refused with EPERM");
    if (regain_gid && (!syscall(SYS_setresgid, gb.e, gb.e, gb.e) || errno != EPERM))
        die("switching back to gid ", num(gb.e), " was not refused with EPERM");
    if (regain_uid || regain_gid) check_credentials(uid, pw.gid, groups, ngroups);

    /* 8. The command (exec.rs). */
    run_command(argv + 2, pw.name, pw.home, pw.shell);
}

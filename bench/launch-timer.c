/* Interleaved launch timer.
 *
 *   launch-timer ROUNDS NAME=CMD [NAME=CMD ...]     (CMD: words split on spaces)
 *
 * Each round runs every command once, in a fresh random order, with
 * vfork+execve and stdout/stderr to /dev/null, and records the wall time
 * from just before vfork to wait4's return, the child's minor page faults
 * and its peak RSS. Prints per command: median, p10, p90 (microseconds),
 * max RSS (KiB), failures, the median of minor faults, and the paired
 * overhead: the median over rounds of (this command's time - the first
 * command's time in the same round), which cancels what a round's state
 * adds to both, where a difference of two medians does not.
 * Interleaving makes drift (CPU frequency, cache, other load) hit every
 * command alike, which sequential batches do not. Before timing, every
 * command's program is read whole into the page cache (posix_fadvise
 * WILLNEED, then a read), so that no command pays for disk reads or
 * partly cached files that another does not; then WARMUP untimed rounds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_WORDS 32
#define WARMUP 20

/* Bring a program's whole file into the page cache. */
static void cache_whole(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    static char buf[1 << 16];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: launch-timer ROUNDS NAME=CMD...\n");
        return 2;
    }
    long rounds = strtol(argv[1], NULL, 10);
    int n = argc - 2;
    if (n > MAX_CMDS) return 2;
    char *names[MAX_CMDS];
    char *words[MAX_CMDS][MAX_WORDS + 1];
    for (int i = 0; i < n; i++) {
        char *spec = strdup(argv[i + 2]);
        char *eq = strchr(spec, '=');
        if (!eq) return 2;
        *eq = 0;
        names[i] = spec;
        int w = 0;
        for (char *tok = strtok(eq + 1, " "); tok && w < MAX_WORDS; tok = strtok(NULL, " ")) words[i][w++] = tok;
        words[i][w] = NULL;
    }
    double *times = calloc((size_t)(rounds * n), sizeof(double));
    long *faults = calloc((size_t)(rounds * n), sizeof(long));
    long maxrss[MAX_CMDS] = {0};
    int failures[MAX_CMDS] = {0};
    int order[MAX_CMDS];
    int devnull = open("/dev/null", O_WRONLY);
    extern char **environ;
    srand(12345);
    for (int i = 0; i < n; i++) cache_whole(words[i][0]);
    for (long r = -WARMUP; r < rounds; r++) {
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rand() % (i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int k = 0; k < n; k++) {
            int i = order[k];
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            pid_t pid = vfork();
            if (pid == 0) {
                dup2(devnull, 1);
                dup2(devnull, 2);
                execve(words[i][0], words[i], environ);
                _exit(127);
            }
            int status;
            struct rusage usage;
            wait4(pid, &status, 0, &usage);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (r < 0) continue; /* warm-up */
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures[i]++;
            if (usage.ru_maxrss > maxrss[i]) maxrss[i] = usage.ru_maxrss;
            times[i * rounds + r] = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
            faults[i * rounds + r] = usage.ru_minflt;
        }
    }
    double *paired = calloc((size_t)n, sizeof(double));
    double *diff = calloc((size_t)rounds, sizeof(double));
    for (int i = 0; i < n; i++) {
        for (long r = 0; r < rounds; r++) diff[r] = times[i * rounds + r] - times[r];
        qsort(diff, (size_t)rounds, sizeof(double), cmp_double);
        paired[i] = diff[rounds / 2];
    }
    printf("%-16s %10s %10s %10s %10s %8s %8s %10s\n", "command", "median_us", "p10_us", "p90_us", "maxrss_kb", "failed",
           "minflt", "paired_us");
    for (int i = 0; i < n; i++) {
        double *t = times + i * rounds;
        long *f = faults + i * rounds;
        qsort(t, (size_t)rounds, sizeof(double), cmp_double);
        qsort(f, (size_t)rounds, sizeof(long), cmp_long);
        printf("%-16s %10.1f %10.1f %10.1f %10ld %8d %8ld %10.1f\n", names[i], t[rounds / 2], t[rounds / 10],
               t[rounds * 9 / 10], maxrss[i], failures[i], f[rounds / 2], paired[i]);
    }
    return 0;
}

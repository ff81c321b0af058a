/* Stands in for the delegate to time it from inside: runs the program named by BENCH_DELEGATE (the real bridge)
 * with our stdin, stdout, stderr, argv and environment, waits for it, and appends to BENCH_TIMING_FILE the
 * CLOCK_MONOTONIC times (ns) at which it started it and reaped it. The bench subtracts that window from a plugin's
 * wall time: what is left is the plugin's own time, free of the bridge's large run-to-run variance. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv, char **envp)
{
    (void)argc;
    const char *delegate = getenv("BENCH_DELEGATE");
    const char *timing = getenv("BENCH_TIMING_FILE");
    if (delegate == NULL || timing == NULL) {
        fputs("timing-delegate: BENCH_DELEGATE and BENCH_TIMING_FILE must be set\n", stderr);
        return 2;
    }
    long long start = now();
    pid_t pid = fork();
    if (pid == 0) {
        argv[0] = (char *)delegate;
        execve(delegate, argv, envp);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        return 2;
    }
    long long end = now();
    FILE *f = fopen(timing, "a");
    if (f != NULL) {
        fprintf(f, "%lld %lld\n", start, end);
        fclose(f);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

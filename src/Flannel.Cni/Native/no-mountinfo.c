/* Linked into the AOT plugin with -Wl,--wrap=fopen64, which sends the .NET runtime's own fopen64 calls (its C code is
 * the only caller) here. At start-up the runtime reads /proc/self/mountinfo twice (the GC's and the runtime's cgroup
 * code) to find the cgroup hierarchy, then /proc/self/cgroup and the memory and CPU limit files: ~0.1 ms of a ~2 ms
 * plugin run here, more on a node whose mount table lists every pod's volumes. The plugin needs neither limit: its
 * heap is capped by GCHeapHardLimit and it runs on one thread. A mount table that cannot be opened is the runtime's
 * own case of "no cgroups" (as without /proc), so that is what it gets; every other file opens as usual. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

FILE *__real_fopen64(const char *path, const char *mode);

FILE *__wrap_fopen64(const char *path, const char *mode)
{
    if (strcmp(path, "/proc/self/mountinfo") == 0) {
        errno = ENOENT;
        return NULL;
    }
    return __real_fopen64(path, mode);
}

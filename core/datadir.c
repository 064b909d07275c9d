#include "datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SEQ_SOURCE_DIR
#define SEQ_SOURCE_DIR "."
#endif
/* the data directory relative to the binary's own directory; CMake derives it
 * from the install layout so `cmake --install --prefix P` works for any P
 * without rebuilding */
#ifndef SEQ_DATA_REL
#define SEQ_DATA_REL "../share/seqbench"
#endif

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* the directory of the running binary, from /proc/self/exe (Linux) */
static int exe_dir(char *buf, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = 0;
    return snprintf(buf, cap, "%s", exe) < (int)cap ? 0 : -1;
}

const char *data_path(const char *rel, char *buf, size_t cap)
{
    const char *env = getenv("SEQBENCH_DATA_DIR");
    if (env && *env) {
        snprintf(buf, cap, "%s/%s", env, rel);
        return buf;
    }
    char dir[PATH_MAX];
    if (!exe_dir(dir, sizeof dir)) {
        snprintf(buf, cap, "%s/" SEQ_DATA_REL "/%s", dir, rel);
        if (exists(buf)) return buf;
    }
    if (exists(rel)) {
        snprintf(buf, cap, "%s", rel);
        return buf;
    }
    snprintf(buf, cap, "%s/%s", SEQ_SOURCE_DIR, rel);
    return buf;
}

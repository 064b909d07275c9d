#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t mem_available(void)
{
    size_t avail = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) { avail = (size_t)kb * 1024; break; }
        fclose(f);
    }
    if (!avail) {
        long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        avail = (pages > 0 && page > 0) ? (size_t)pages * (size_t)page : (size_t)1 << 32;
    }
    const char *lim = getenv("SEQ_MEM_LIMIT");
    if (lim && *lim) {
        unsigned long long l = strtoull(lim, NULL, 10);
        if (l && l < avail) avail = (size_t)l;
    }
    return avail;
}

const char *mem_human(double bytes, char *buf, size_t cap)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (bytes >= 1024 && u < 6) { bytes /= 1024; u++; }
    snprintf(buf, cap, u ? "%.2f %s" : "%.0f %s", bytes, unit[u]);
    return buf;
}

int mem_check(double bytes, const char *what, Err *e)
{
    size_t avail = mem_available();
    if (bytes > (double)avail) {
        char need[32], have[32];
        return err_set(e, "%s would need %s but only %s of memory is available", what,
                       mem_human(bytes, need, sizeof need), mem_human((double)avail, have, sizeof have));
    }
    return 0;
}

void *mem_alloc(size_t n, size_t size, const char *what, Err *e)
{
    size_t bytes;
    if (size_mul(n, size, &bytes)) {
        err_set(e, "%s: size %zu x %zu bytes overflows", what, n, size);
        return NULL;
    }
    if (mem_check((double)bytes, what, e)) return NULL;
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) {
        char need[32];
        err_set(e, "%s: cannot allocate %s", what, mem_human((double)bytes, need, sizeof need));
    }
    return p;
}

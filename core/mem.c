#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t limit_set; /* --mem-limit; 0: none */

void mem_set_limit(size_t bytes) { limit_set = bytes; }

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
    /* a limit above what is free would let a run swap the machine */
    if (limit_set && limit_set < avail) avail = limit_set;
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

int mem_parse_size(const char *s, size_t *out, Err *e)
{
    char *end;
    double v = strtod(s, &end);
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if ((*end == 'i' || *end == 'I') && mult > 1) end++; /* "8GiB" as well as "8G" */
    if ((*end == 'b' || *end == 'B') && end > s) end++;
    if (end == s || *end || !(v > 0) || v * mult < 1 || v * mult > 1e18)
        return err_set(e, "memory size \"%s\" is not a positive size like 500M, 8G or 1048576", s);
    *out = (size_t)(v * mult);
    return 0;
}

#include "bench_machine.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "core/mem.h"
#include "core/sysinfo.h"
#include "core/threads.h"

/* Whether /proc/cpuinfo's first "flags" line lists `flag` as a whole word:
 * OpenBLAS picks its kernels by these, so two machines' timings differ by them. */
static int cpu_has(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[8192];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5)) continue;
        size_t n = strlen(flag);
        for (char *p = strstr(line, flag); p; p = strstr(p + 1, flag))
            if ((p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) found = 1;
        break;
    }
    fclose(f);
    return found;
}

static double mem_total(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) break;
    fclose(f);
    return (double)kb * 1024;
}

cJSON *bench_machine_json(void)
{
    cJSON *o = cJSON_CreateObject();
    char cpu[256];
    sysinfo_cpu_model(cpu, sizeof cpu);
    cJSON_AddStringToObject(o, "cpu", cpu);
    cJSON_AddNumberToObject(o, "logical_cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddNumberToObject(o, "cores_usable", threads_cores());
    cJSON_AddBoolToObject(o, "avx2", cpu_has("avx2"));
    cJSON_AddBoolToObject(o, "avx512f", cpu_has("avx512f"));
    cJSON_AddNumberToObject(o, "mem_total_bytes", mem_total());
    cJSON_AddNumberToObject(o, "mem_available_bytes", (double)mem_available());
    cJSON_AddStringToObject(o, "openblas_core", openblas_get_corename());
    cJSON_AddStringToObject(o, "openblas_config", openblas_get_config());
    cJSON_AddStringToObject(o, "blas_threading", threads_blas_kind());
    cJSON_AddNumberToObject(o, "threads", threads_count());
    return o;
}

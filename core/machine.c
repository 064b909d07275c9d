#include "machine.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "roofline.h"
#include "sysinfo.h"
#include "threads.h"

/* Whether /proc/cpuinfo's flags list `flag` (what the OS exposes, which is
 * what counts inside a VM). */
static int cpu_flag(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[8192];
    int found = 0;
    size_t n = strlen(flag);
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5)) continue;
        for (char *p = strstr(line, flag); p && !found; p = strstr(p + 1, flag))
            found = p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n');
        break;
    }
    fclose(f);
    return found;
}

static double mem_total_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    double kb = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %lf kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb * 1024;
}

/* "0.3.21" out of openblas_get_config()'s "OpenBLAS 0.3.21 DYNAMIC_ARCH ..." */
static void openblas_version(char *buf, size_t cap)
{
    const char *cfg = openblas_get_config();
    snprintf(buf, cap, "unknown");
    if (cfg && !strncmp(cfg, "OpenBLAS ", 9)) snprintf(buf, cap, "%.*s", (int)strcspn(cfg + 9, " "), cfg + 9);
}

/* OpenBLAS's AVX-512 kernel families: on a CPU with AVX-512, any other was chosen for it */
static int openblas_core_avx512(const char *core)
{
    static const char *const names[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (core && !strcmp(core, names[i])) return 1;
    return 0;
}

int machine_blas_held_back(char *why, size_t cap)
{
    const char *forced = getenv("OPENBLAS_CORETYPE"), *core = openblas_get_corename();
    if (!forced || !*forced || !cpu_flag("avx512f") || openblas_core_avx512(core)) return 0;
    snprintf(why, cap, "OPENBLAS_CORETYPE=%s holds OpenBLAS to its %s kernels on a CPU with AVX-512: its sgemm, "
             "and so prefill and training, run below what this machine allows", forced, core ? core : "?");
    return 1;
}

cJSON *machine_json(void)
{
    cJSON *o = cJSON_CreateObject();
    char cpu[256], ver[32];
    sysinfo_cpu_model(cpu, sizeof cpu);
    openblas_version(ver, sizeof ver);
    cJSON_AddStringToObject(o, "cpu", cpu);
    cJSON_AddNumberToObject(o, "cores", threads_cores());
    cJSON_AddNumberToObject(o, "threads", threads_count());
    cJSON_AddBoolToObject(o, "avx2", cpu_flag("avx2"));
    cJSON_AddBoolToObject(o, "avx512f", cpu_flag("avx512f"));
    cJSON_AddStringToObject(o, "vector_kernels", cpu_vector_isa()); /* SEQBENCH_CPU may hold AVX-512 back */
    cJSON_AddNumberToObject(o, "memory_bytes", mem_total_bytes());
    cJSON_AddNumberToObject(o, "llc_bytes", roofline_llc_bytes());
    cJSON_AddStringToObject(o, "openblas_core", openblas_get_corename());
    const char *forced = getenv("OPENBLAS_CORETYPE");
    cJSON_AddStringToObject(o, "openblas_coretype_env", forced ? forced : "");
    char why[256];
    cJSON_AddBoolToObject(o, "openblas_held_back", machine_blas_held_back(why, sizeof why));
    cJSON_AddStringToObject(o, "openblas_version", ver);
    cJSON_AddStringToObject(o, "openblas_config", openblas_get_config());
    cJSON_AddStringToObject(o, "blas_threading", threads_blas_kind());
    const char *wait = getenv("OMP_WAIT_POLICY");
    cJSON_AddStringToObject(o, "omp_wait_policy", wait ? wait : "");
    double load;
    if (getloadavg(&load, 1) == 1) cJSON_AddNumberToObject(o, "load_average_1m", load);
    return o;
}

void machine_summary(char *buf, size_t cap)
{
    char cpu[256], ver[32];
    sysinfo_cpu_model(cpu, sizeof cpu);
    openblas_version(ver, sizeof ver);
    snprintf(buf, cap, "%s, %d threads of %d cores, %s kernels, OpenBLAS %s (%s kernels)", cpu, threads_count(),
             threads_cores(), cpu_vector_isa(), ver, openblas_get_corename());
}

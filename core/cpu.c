#include "cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static int cpu_probe_v4(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

static const char *cpu_env(void)
{
    const char *v = getenv("SEQBENCH_CPU");
    return v && *v ? v : "auto";
}

const char *cpu_env_problem(void)
{
    const char *v = cpu_env();
    if (!strcmp(v, "auto") || !strcmp(v, "avx2")) return NULL;
    if (!strcmp(v, "avx512")) return cpu_probe_v4() ? NULL : "this CPU lacks AVX-512 (F, BW, CD, DQ and VL)";
    return "not auto, avx2 or avx512";
}

/* The answer is a fact of the CPU and of the environment at start: worked
 * out on the first call (a race between threads writes the same value). */
int cpu_has_x86_64_v4(void)
{
    static atomic_int known = -1;
    int v = atomic_load_explicit(&known, memory_order_relaxed);
    if (v < 0) {
        v = cpu_probe_v4() && strcmp(cpu_env(), "avx2") != 0;
        atomic_store_explicit(&known, v, memory_order_relaxed);
    }
    return v;
}

const char *cpu_vector_isa(void)
{
#if CPU_DISPATCH
    if (cpu_has_x86_64_v4()) return "avx512";
#endif
#if defined(__AVX512F__)
    return "avx512"; /* the build's own target (SEQ_MARCH) */
#elif defined(__AVX2__)
    return "avx2";
#else
    return "sse2";
#endif
}

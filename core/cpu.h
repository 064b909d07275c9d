/* Which vector code this CPU can run, asked at run time: the kernels with
 * an AVX-512 copy (attention heads, the scans, the decode gemm) compile it
 * with target("arch=x86-64-v4") beside the portable build, and call it only
 * where this says the CPU has every extension that level implies. */
#ifndef SEQ_CPU_H
#define SEQ_CPU_H

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
static inline int cpu_has_x86_64_v4(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}
#else
static inline int cpu_has_x86_64_v4(void) { return 0; }
#endif

#endif

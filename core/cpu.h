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

/* A kernel with an AVX-512 copy is written once, as NAME_any, a CPU_BODY
 * (always inlined, so each copy compiles its loops for its own target);
 * CPU_DISPATCH_VOID(NAME, (parameters), (arguments)) then makes NAME_v4,
 * built for x86-64-v4, and NAME, which calls it where the CPU has that
 * level and NAME_any elsewhere. Other compilers get NAME = NAME_any. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CPU_DISPATCH 1
#define CPU_BODY static inline __attribute__((always_inline))
#define CPU_V4 __attribute__((target("arch=x86-64-v4")))
#define CPU_DISPATCH_VOID(name, params, args)                                                                      \
    CPU_V4 static void name##_v4 params { name##_any args; }                                                       \
    static inline void name params                                                                                 \
    {                                                                                                              \
        if (cpu_has_x86_64_v4())                                                                                   \
            name##_v4 args;                                                                                        \
        else                                                                                                       \
            name##_any args;                                                                                       \
    }
#else
#define CPU_DISPATCH 0
#define CPU_BODY static inline
#define CPU_V4
#define CPU_DISPATCH_VOID(name, params, args)                                                                      \
    static inline void name params { name##_any args; }
#endif

#endif

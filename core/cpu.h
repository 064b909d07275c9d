/* Which vector code this CPU can run, asked at run time: the kernels with
 * an AVX-512 copy (attention heads, the scans, the decode gemm) compile it
 * with target("arch=x86-64-v4") beside the portable build, and call it only
 * where this says the CPU has every extension that level implies. */
#ifndef SEQ_CPU_H
#define SEQ_CPU_H

/* 1 if the kernels' AVX-512 copies may run: the CPU has every extension
 * of x86-64-v4 and the environment does not hold them back. SEQBENCH_CPU=
 * avx2 keeps an AVX-512 CPU on the AVX2 copies, so one machine can measure
 * what a Zen 3 runs (as OPENBLAS_CORETYPE does for OpenBLAS's kernels);
 * SEQBENCH_CPU=avx512 insists on the AVX-512 copies. Read once, then a
 * load per call (core/cpu.c). */
int cpu_has_x86_64_v4(void);

/* "avx512", "avx2" (or "sse2" for a build below x86-64-v3): the copies
 * the kernels run, for the machine record of results */
const char *cpu_vector_isa(void);

/* Why SEQBENCH_CPU cannot be honoured (an unknown value, or avx512 on a
 * CPU without it), or NULL: main checks it before any work. */
const char *cpu_env_problem(void);

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

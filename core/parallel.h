/* Thin wrappers so code compiles with or without OpenMP and can size
 * per-thread scratch up front. */
#ifndef SEQ_PARALLEL_H
#define SEQ_PARALLEL_H

/* Work below which a loop stays on the calling thread, in multiply-adds
 * (loops of heavier elements, an exp each, divide it by their weight).
 * seqbench's threads wait passively (core/threads.h), and waking one for a
 * parallel region cost ~40 us on the project's 2-core machines, the time of
 * ~4 million multiply-adds of a vector kernel: at the old thresholds
 * (~30,000) a small Transformer decoded at half its one-thread speed on two. */
#define PAR_MIN_WORK ((double)(1 << 22))

#ifdef _OPENMP
#include <omp.h>
static inline int par_max_threads(void) { return omp_get_max_threads(); }
static inline int par_thread_id(void) { return omp_get_thread_num(); }
#else
static inline int par_max_threads(void) { return 1; }
static inline int par_thread_id(void) { return 0; }
#endif

#endif

/* Thin wrappers so code compiles with or without OpenMP and can size
 * per-thread scratch up front. */
#ifndef SEQ_PARALLEL_H
#define SEQ_PARALLEL_H

#ifdef _OPENMP
#include <omp.h>
static inline int par_max_threads(void) { return omp_get_max_threads(); }
static inline int par_thread_id(void) { return omp_get_thread_num(); }
#else
static inline int par_max_threads(void) { return 1; }
static inline int par_thread_id(void) { return 0; }
#endif

#endif

/* One threading policy for the whole program.
 *
 * seqbench links the OpenMP build of OpenBLAS, so BLAS calls and seqbench's
 * own `omp parallel` loops share one pool of OpenMP threads. With the
 * pthreads build, OpenBLAS keeps its own threads spinning after each call
 * while the OpenMP threads spin on our loops, and two pools fighting over two
 * cores cost several times the runtime. Inside an `omp parallel` region the
 * OpenMP OpenBLAS runs single-threaded, which is what per-head loops want.
 *
 * threads_init(n) sets both to n (0 = number of cores, or OMP_NUM_THREADS). */
#ifndef SEQ_THREADS_H
#define SEQ_THREADS_H

int threads_init(int n);          /* returns the thread count in force */
int threads_count(void);
int threads_cores(void);          /* CPUs this process may run on (affinity mask) */
const char *threads_blas_kind(void); /* "openmp", "pthreads" or "serial" */

#endif

/* One threading policy for the whole program.
 *
 * seqbench links the OpenMP build of OpenBLAS, so BLAS calls and seqbench's
 * own `omp parallel` loops share one pool of OpenMP threads. With the
 * pthreads build, OpenBLAS keeps its own threads spinning after each call
 * while the OpenMP threads spin on our loops, and two pools fighting over two
 * cores cost several times the runtime. Inside an `omp parallel` region the
 * OpenMP OpenBLAS runs single-threaded, which is what per-head loops want.
 *
 * threads_init(n) sets both to n (0 = number of cores, or OMP_NUM_THREADS).
 *
 * Waits: libgomp's default has a thread that finished its share spin for
 * a while before it sleeps. With another process on one of two cores, the
 * spinning and the descheduled partner it waits for made the training steps
 * of 2-layer d_model 64 models 2.6x (Mamba) and 5.8x (Transformer) slower;
 * with passive waits (sleep at once, woken by the kernel) 1.4x and 1.7x.
 * libgomp reads the policy from the environment once, before main, so
 * threads_passive_waits re-executes the program with OMP_WAIT_POLICY=PASSIVE
 * when the caller set no policy of their own. Work too small to pay for a
 * wake-up (PAR_MIN_WORK, core/parallel.h) does not go parallel at all. */
#ifndef SEQ_THREADS_H
#define SEQ_THREADS_H

/* Call first in main: returns only if the policy is already the caller's
 * (OMP_WAIT_POLICY or GOMP_SPINCOUNT set), under valgrind (an exec would
 * leave its control), or if the exec failed. */
void threads_passive_waits(char **argv);
int threads_init(int n);          /* returns the thread count in force */
int threads_count(void);
int threads_cores(void);          /* CPUs this process may run on (affinity mask) */
const char *threads_blas_kind(void); /* "openmp", "pthreads" or "serial" */

#endif

/* What a benchmark ran on, for its result JSON: the figures of two machines
 * are only comparable beside their descriptions (CPU, ISA, OpenBLAS's kernel
 * choice, threads) and their rooflines. */
#ifndef SEQ_MACHINE_H
#define SEQ_MACHINE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* {"cpu", "cores", "threads", "avx2", "avx512f", "memory_bytes", "llc_bytes", "openblas_core",
 *  "openblas_coretype_env", "openblas_held_back", "openblas_config", "openblas_version", "blas_threading",
 *  "omp_wait_policy", "load_average_1m"} */
cJSON *machine_json(void);
/* 1, with the reason in why, when the environment (OPENBLAS_CORETYPE) keeps
 * OpenBLAS on kernels narrower than the CPU runs: its sgemm is then no
 * measure of the machine, and the user should know their GEMMs are slowed. */
int machine_blas_held_back(char *why, size_t cap);
/* "AMD EPYC ... | 2 threads | avx2 | OpenBLAS 0.3.21 Zen": one line for a table's heading. */
void machine_summary(char *buf, size_t cap);

#endif

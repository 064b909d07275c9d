/* The "machine" block of the kernel and memory benchmarks' results: what
 * the figures depend on beyond the code (CPU and its vector ISA, cores,
 * memory, the OpenBLAS kernel set, threads). */
#ifndef SEQ_BENCH_MACHINE_H
#define SEQ_BENCH_MACHINE_H

#include <cjson/cJSON.h>

/* {"cpu", "logical_cpus", "cores_usable", "avx2", "avx512f", "mem_total_bytes", "mem_available_bytes",
 *  "openblas_core", "openblas_config", "blas_threading", "threads"} */
cJSON *bench_machine_json(void);

#endif

#include "roofline.h"

#include <cblas.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "cpu.h"
#include "jsonio.h"
#include "mem.h"
#include "threads.h"
#include "timer.h"

#define MIB (1024.0 * 1024.0)

static volatile double roofline_sink; /* the sums go somewhere, so they are computed */

void roofline_defaults(RooflineOpts *o) { *o = (RooflineOpts){.gemm_n = 2048, .array_mib = 0, .passes = 5}; }

double roofline_llc_bytes(void)
{
    double best = 0;
    for (int i = 0; i < 16; i++) {
        char path[128], buf[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(buf, sizeof buf, f)) {
            char *end;
            double v = strtod(buf, &end);
            if (*end == 'K') v *= 1024;
            else if (*end == 'M') v *= MIB;
            if (v > best) best = v;
        }
        fclose(f);
    }
    return best;
}

/* Far larger than the cache, so every pass streams from memory; 64 MiB at
 * least in case sysfs hides the cache (some VMs). */
static double array_bytes(const RooflineOpts *o)
{
    if (o->array_mib > 0) return o->array_mib * MIB;
    double b = 4 * roofline_llc_bytes();
    return b < 64 * MIB ? 64 * MIB : b;
}

int roofline_check(const RooflineOpts *o, Err *e)
{
    if (o->gemm_n < 1 || o->passes < 1) return err_set(e, "roofline: gemm size %d and passes %d must be >= 1", o->gemm_n, o->passes);
    double gemm = 3.0 * o->gemm_n * o->gemm_n * sizeof(float), arrays = 3 * array_bytes(o);
    return mem_check(gemm > arrays ? gemm : arrays, "roofline arrays", e);
}

static double measure_sgemm(int n, int passes)
{
    size_t nn = (size_t)n * n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 7) * 0.01f;
        b[i] = (float)(i % 5) * 0.01f;
        c[i] = 0;
    }
    double best = 1e30;
    for (int p = -1; p < passes; p++) { /* p = -1: warm-up (thread pool, page faults) */
        double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double t = now_seconds() - t0;
        if (p >= 0 && t < best) best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * (double)n * n / best / 1e9;
}

/* The machine's own compute peak: every thread runs independent chains of
 * fused multiply-adds on registers, the widest vectors the CPU has, with no
 * memory traffic, so it measures the FMA units and clock, not a library.
 * (OpenBLAS's sgemm is held to AVX2 kernels on an AVX-512 CPU when
 * OPENBLAS_CORETYPE says Haswell: then the sgemm is not what the machine
 * allows, and a bound taken from it reads above 100%.) Twelve chains cover
 * the latency of two FMA units of four cycles each. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
#define FMA_CHAINS 12
__attribute__((target("arch=x86-64-v4"))) static float fma_chains_v4(long iters)
{
    __m512 a[FMA_CHAINS], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < FMA_CHAINS; j++) a[j] = _mm512_set1_ps((float)j);
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
        for (int j = 0; j < FMA_CHAINS; j++) a[j] = _mm512_fmadd_ps(a[j], m, c);
    float s = 0;
    for (int j = 0; j < FMA_CHAINS; j++) s += _mm512_reduce_add_ps(a[j]);
    return s;
}

__attribute__((target("arch=x86-64-v3"))) static float fma_chains_v3(long iters)
{
    __m256 a[FMA_CHAINS], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < FMA_CHAINS; j++) a[j] = _mm256_set1_ps((float)j);
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
        for (int j = 0; j < FMA_CHAINS; j++) a[j] = _mm256_fmadd_ps(a[j], m, c);
    float s = 0, t[8];
    for (int j = 0; j < FMA_CHAINS; j++) {
        _mm256_storeu_ps(t, a[j]);
        for (int l = 0; l < 8; l++) s += t[l];
    }
    return s;
}

/* GFLOP/s of every thread's chains at once, best of passes; 0 on a CPU
 * without FMA (the sgemm is the bound there). The copies are chosen as the
 * kernels' are: the whole x86-64-v4 level (cpu.h, so SEQBENCH_CPU=avx2
 * measures what a Zen 3 allows), else AVX2 with FMA. */
static double measure_fma(int passes)
{
    int lanes = cpu_has_x86_64_v4()                                                  ? 16
                : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 8
                                                                                    : 0;
    if (!lanes) return 0;
    long iters = 1 << 16;
    double best = 0;
    for (int p = -1; p < passes; p++) { /* p = -1: sizes the passes to about 20 ms each */
        double t0 = now_seconds(), sum = 0;
        int nt = 1;
#pragma omp parallel reduction(+ : sum)
        {
#pragma omp single
            nt = omp_get_num_threads();
            sum += lanes == 16 ? fma_chains_v4(iters) : fma_chains_v3(iters);
        }
        double t = now_seconds() - t0;
        roofline_sink += sum;
        double gflops = 2.0 * FMA_CHAINS * lanes * (double)iters * nt / t / 1e9;
        if (p < 0) iters = (long)(iters * 0.02 / t) + 1;
        else if (gflops > best) best = gflops;
    }
    return best;
}
#else
static double measure_fma(int passes)
{
    (void)passes;
    return 0;
}
#endif

/* a = b + s c over n floats, every thread on its own static block */
static void triad(float *restrict a, const float *restrict b, const float *restrict c, float s, long n)
{
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

/* Sum of n floats (n a multiple of 32) in four independent 8-wide vector
 * accumulators, so neither the adds' latency nor scalar code caps the rate
 * below the memory's. */
typedef float v8f __attribute__((vector_size(32)));

static double read_sum_range(const float *a, long lo, long hi)
{
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, x0, x1, x2, x3;
    for (long i = lo; i < hi; i += 32) {
        memcpy(&x0, a + i, sizeof x0);
        memcpy(&x1, a + i + 8, sizeof x1);
        memcpy(&x2, a + i + 16, sizeof x2);
        memcpy(&x3, a + i + 24, sizeof x3);
        s0 += x0, s1 += x1, s2 += x2, s3 += x3;
    }
    v8f t = s0 + s1 + s2 + s3;
    double total = 0;
    for (int j = 0; j < 8; j++) total += t[j];
    return total;
}

static double read_sum(const float *a, long n)
{
    double total = 0;
#pragma omp parallel reduction(+ : total)
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        long blocks = n / 32, lo = blocks * id / nt * 32, hi = blocks * (id + 1) / nt * 32;
        total += read_sum_range(a, lo, hi);
    }
    return total;
}

/* The same, `reps` times over one range per thread inside one parallel
 * region: waking the pool per pass would cost more than an in-cache pass. */
static double read_sum_reps(const float *a, long n, int reps)
{
    double total = 0;
#pragma omp parallel reduction(+ : total)
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        long blocks = n / 32, lo = blocks * id / nt * 32, hi = blocks * (id + 1) / nt * 32;
        for (int k = 0; k < reps; k++) {
            total += read_sum_range(a, lo, hi);
            __asm__ volatile("" ::: "memory"); /* each pass reads again: the sum is not computed once and reused */
        }
    }
    return total;
}

static int measure_bandwidth(const RooflineOpts *o, Roofline *r, Err *e)
{
    long n = (long)(array_bytes(o) / sizeof(float));
    n -= n % 32;
    float *a = mem_alloc((size_t)n, sizeof *a, "roofline triad array a", e);
    float *b = a ? mem_alloc((size_t)n, sizeof *b, "roofline triad array b", e) : NULL;
    float *c = b ? mem_alloc((size_t)n, sizeof *c, "roofline triad array c", e) : NULL;
    if (!c) {
        free(a), free(b);
        return -1;
    }
    /* first touch by the threads that stream them (the pages' NUMA node) */
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        a[i] = 0;
        b[i] = 1;
        c[i] = 2;
    }
    double best_triad = 1e30, best_read = 1e30, sink = 0;
    for (int p = -1; p < o->passes; p++) {
        double t0 = now_seconds();
        triad(a, b, c, 0.5f, n);
        double t1 = now_seconds();
        sink += read_sum(p & 1 ? a : b, n); /* alternate, so no pass reads what the last left in cache */
        double t2 = now_seconds();
        if (p >= 0) {
            best_triad = t1 - t0 < best_triad ? t1 - t0 : best_triad;
            best_read = t2 - t1 < best_read ? t2 - t1 : best_read;
        }
    }
    /* the last-level cache: a quarter of it, read over and over (a small
     * model's weights live there, and DRAM's figure would not bound them) */
    long nc = (long)(r->llc_bytes > 0 ? r->llc_bytes / 4 / sizeof(float) : 1 << 20);
    nc -= nc % 32;
    nc = nc > n ? n : nc;
    /* a GiB a pass: long enough that waking a sleeping thread on a busy
     * core (OMP_WAIT_POLICY=PASSIVE; milliseconds) does not count */
    int reps = (int)(1024 * MIB / (nc * sizeof(float))) + 1;
    double best_llc = 1e30;
    for (int p = -1; p < o->passes; p++) {
        double t0 = now_seconds();
        sink += read_sum_reps(b, nc, reps);
        double t = now_seconds() - t0;
        if (p >= 0 && t < best_llc) best_llc = t;
    }
    r->llc_read_gbs = (double)reps * nc * sizeof(float) / best_llc / 1e9;
    r->llc_test_bytes = (double)nc * sizeof(float);
    r->array_bytes = (double)n * sizeof(float);
    r->triad_gbs = 3.0 * r->array_bytes / best_triad / 1e9;
    r->read_gbs = r->array_bytes / best_read / 1e9;
    roofline_sink = sink;
    free(a), free(b), free(c);
    return 0;
}

int roofline_measure(const RooflineOpts *o, Roofline *r, Err *e)
{
    if (roofline_check(o, e)) return -1;
    memset(r, 0, sizeof *r);
    double t0 = now_seconds();
    r->threads = threads_count();
    r->gemm_n = o->gemm_n;
    r->passes = o->passes;
    r->llc_bytes = roofline_llc_bytes();
    r->sgemm_gflops = measure_sgemm(o->gemm_n, o->passes);
    if (!(r->sgemm_gflops > 0)) return err_set(e, "roofline: out of memory for a %d x %d sgemm", o->gemm_n, o->gemm_n);
    r->fma_gflops = measure_fma(o->passes);
    r->compute_gflops = r->fma_gflops > r->sgemm_gflops ? r->fma_gflops : r->sgemm_gflops;
    if (measure_bandwidth(o, r, e)) return -1;
    r->bandwidth_gbs = r->triad_gbs;
    r->seconds = now_seconds() - t0;
    return 0;
}

cJSON *roofline_json(const Roofline *r, const char *source)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddNumberToObject(o, "sgemm_gflops", r->sgemm_gflops);
    cJSON_AddNumberToObject(o, "sgemm_n", r->gemm_n);
    cJSON_AddNumberToObject(o, "fma_gflops", r->fma_gflops);
    cJSON_AddNumberToObject(o, "compute_gflops", r->compute_gflops);
    cJSON_AddNumberToObject(o, "bandwidth_gbs", r->bandwidth_gbs);
    cJSON_AddStringToObject(o, "bandwidth_kernel", "triad");
    cJSON_AddNumberToObject(o, "triad_gbs", r->triad_gbs);
    cJSON_AddNumberToObject(o, "read_gbs", r->read_gbs);
    cJSON_AddNumberToObject(o, "llc_read_gbs", r->llc_read_gbs);
    cJSON_AddNumberToObject(o, "llc_test_bytes", r->llc_test_bytes);
    cJSON_AddNumberToObject(o, "array_bytes", r->array_bytes);
    cJSON_AddNumberToObject(o, "llc_bytes", r->llc_bytes);
    cJSON_AddNumberToObject(o, "passes", r->passes);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    cJSON_AddStringToObject(o, "source", source);
    return o;
}

int roofline_read_file(const char *path, Roofline *r, Err *e)
{
    cJSON *root = json_read_file(path, e);
    if (!root) return -1;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "roofline");
    memset(r, 0, sizeof *r);
    int rc = -1;
    if (!cJSON_IsObject(o)) {
        err_set(e, "--roofline %s: no \"roofline\" object (write one with seqbench bench roofline --out FILE)", path);
    } else if (!json_get_double(o, "sgemm_gflops", 1, &r->sgemm_gflops, path, e) &&
               !json_get_double(o, "bandwidth_gbs", 1, &r->bandwidth_gbs, path, e) &&
               !json_get_double(o, "triad_gbs", 0, &r->triad_gbs, path, e) &&
               !json_get_double(o, "read_gbs", 0, &r->read_gbs, path, e) &&
               !json_get_double(o, "llc_read_gbs", 0, &r->llc_read_gbs, path, e) &&
               !json_get_double(o, "llc_test_bytes", 0, &r->llc_test_bytes, path, e) &&
               !json_get_int32(o, "threads", 0, 1, 1 << 20, &r->threads, path, e) &&
               !json_get_int32(o, "sgemm_n", 0, 1, 1 << 20, &r->gemm_n, path, e) &&
               !json_get_int32(o, "passes", 0, 1, 1 << 20, &r->passes, path, e) &&
               !json_get_double(o, "array_bytes", 0, &r->array_bytes, path, e) &&
               !json_get_double(o, "llc_bytes", 0, &r->llc_bytes, path, e) &&
               !json_get_double(o, "fma_gflops", 0, &r->fma_gflops, path, e) &&
               !json_get_double(o, "compute_gflops", 0, &r->compute_gflops, path, e)) {
        if (!(r->compute_gflops > 0)) r->compute_gflops = r->sgemm_gflops; /* a file from before the FMA peak */
        if (!(r->sgemm_gflops > 0) || !(r->bandwidth_gbs > 0))
            err_set(e, "--roofline %s: sgemm_gflops %g and bandwidth_gbs %g must be > 0", path, r->sgemm_gflops,
                    r->bandwidth_gbs);
        else rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

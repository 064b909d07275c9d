#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonio.h"
#include "core/machine.h"
#include "core/mem.h"
#include "core/results.h"
#include "core/threads.h"
#include "models/describe.h"
#include "models/hf.h"

int bench_check_run(const BenchRun *r, Err *e)
{
    if (*r->out && results_check_file("--out", r->out, e)) return -1; /* before building or measuring anything */
    Roofline rf;
    if (*r->roofline_file && roofline_read_file(r->roofline_file, &rf, e)) return -1;
    threads_init(r->threads);
    return 0;
}

int bench_spec_layout(const BenchModelSpec *s, Model *m, Err *e)
{
    if (model_layout(m, &s->cfg, e)) return err_prefix(e, s->name);
    return 0;
}

int bench_spec_build(const BenchModelSpec *s, uint64_t seed, Model *m, Err *e)
{
    if (*s->checkpoint) {
        if (hf_load(m, s->checkpoint, e)) return -1;
    } else {
        if (model_create(m, &s->cfg, e)) return err_prefix(e, s->name);
        model_init_weights(m, seed);
    }
    if (s->bf16 && model_to_bf16(m, e)) {
        model_free(m);
        return err_prefix(e, s->name);
    }
    return 0;
}

int bench_check_specs(const BenchModelSpec *specs, int n, int (*check)(const Model *m, const void *arg, Err *e),
                       const void *arg, Err *e)
{
    for (int i = 0; i < n; i++) {
        Model lay;
        if (bench_spec_layout(&specs[i], &lay, e)) return -1;
        char what[128];
        snprintf(what, sizeof what, "%.63s: weights", specs[i].name);
        /* --dtype bf16 keeps the fp32 parameters (rounded) beside the bf16 copy */
        int rc = mem_check((double)lay.n_params * (sizeof(real) + (specs[i].bf16 ? sizeof(uint16_t) : 0)), what, e);
        if (!rc && check(&lay, arg, e)) rc = err_prefix(e, specs[i].name);
        model_free(&lay);
        if (rc) return -1;
    }
    return 0;
}

void bench_warn_busy(void)
{
    /* another process on the cores skews every figure: the result records the load; say so */
    double load = -1;
    if (getloadavg(&load, 1) == 1 && load > 0.5)
        fprintf(stderr, "bench: warning: load average %.2f before starting; other processes will skew the timings\n",
                load);
    char why[256];
    if (machine_blas_held_back(why, sizeof why))
        fprintf(stderr, "bench: warning: %s (the compute bounds are seqbench's own FMA peak)\n", why);
}

int bench_roofline(const BenchRun *r, Roofline *rf, cJSON *res, Err *e)
{
    bench_warn_busy(); /* every check has passed: the work starts here */
    if (*r->roofline_file) {
        if (roofline_read_file(r->roofline_file, rf, e)) return -1;
        if (rf->threads && rf->threads != threads_count())
            fprintf(stderr, "bench: warning: --roofline %s was measured with %d threads, this run uses %d\n",
                    r->roofline_file, rf->threads, threads_count());
    } else {
        RooflineOpts o;
        roofline_defaults(&o);
        fprintf(stderr, "bench: measuring the roofline (sgemm %d, bandwidth arrays of 4 x the L3)\n", o.gemm_n);
        if (roofline_measure(&o, rf, e)) return -1;
    }
    char mach[512];
    machine_summary(mach, sizeof mach);
    printf("machine: %s\n", mach);
    printf("roofline%s: FMA peak %.1f GFLOP/s (sgemm %.1f), bandwidth %.1f GB/s (triad; read-only %.1f; in the LLC "
           "%.1f)\n",
           *r->roofline_file ? " (from --roofline)" : "", rf->fma_gflops, rf->sgemm_gflops, rf->bandwidth_gbs,
           rf->read_gbs, rf->llc_read_gbs);
    fflush(stdout);
    cJSON_AddItemToObject(res, "roofline", roofline_json(rf, *r->roofline_file ? r->roofline_file : "measured"));
    return 0;
}

int bench_write(cJSON *res, const BenchRun *r, Err *e)
{
    results_finish(res);
    if (*r->out) {
        if (json_write_file(r->out, res, e)) return -1;
        fprintf(stderr, "wrote %s\n", r->out);
    }
    return 0;
}

cJSON *bench_model_points(cJSON *models, const char *name, const Model *m)
{
    cJSON *mo = cJSON_CreateObject();
    cJSON_AddItemToArray(models, mo);
    cJSON_AddStringToObject(mo, "name", name);
    cJSON_AddItemToObject(mo, "model", model_describe(m));
    return cJSON_AddArrayToObject(mo, "points");
}

void bench_add_bound(cJSON *o, const BenchBound *b, double achieved)
{
    cJSON_AddNumberToObject(o, "roofline_bound_tokens_per_s", b->tokens_per_s);
    cJSON_AddStringToObject(o, "roofline_bound", b->kind);
    cJSON_AddNumberToObject(o, "roofline_fraction", achieved / b->tokens_per_s);
    cJSON_AddNumberToObject(o, "compute_bound_tokens_per_s", b->compute_tokens_per_s);
    if (b->bytes_per_step > 0) {
        cJSON_AddNumberToObject(o, "memory_bound_tokens_per_s", b->memory_tokens_per_s);
        cJSON_AddNumberToObject(o, "bytes_per_step", b->bytes_per_step);
        cJSON_AddNumberToObject(o, "bound_bandwidth_gbs", b->bandwidth_gbs);
        cJSON_AddStringToObject(o, "bound_memory_level", b->from_llc ? "llc" : "dram");
    }
}

const char *bench_rate(double v, char *buf, size_t cap)
{
    if (v >= 1e6) snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4) snprintf(buf, cap, "%.1fK", v / 1e3);
    else snprintf(buf, cap, "%.1f", v);
    return buf;
}

cJSON *bench_decode_json(const BenchDecode *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "batch", r->B);
    cJSON_AddNumberToObject(o, "context", r->ctx);
    cJSON_AddNumberToObject(o, "steps", r->steps);
    cJSON_AddNumberToObject(o, "repeats", r->repeats);
    cJSON_AddNumberToObject(o, "seconds_median", r->sec.median);
    cJSON_AddNumberToObject(o, "seconds_min", r->sec.min);
    cJSON_AddNumberToObject(o, "tokens_per_s_median", r->tokens_per_s);
    cJSON_AddNumberToObject(o, "tokens_per_s_best", r->tokens_per_s_best);
    cJSON_AddNumberToObject(o, "latency_s_median", r->latency_median);
    cJSON_AddNumberToObject(o, "latency_s_p90", r->latency_p90);
    cJSON_AddNumberToObject(o, "state_bytes", r->state_bytes);
    cJSON_AddNumberToObject(o, "flops_per_token", r->flops_per_token);
    cJSON_AddNumberToObject(o, "gflops_per_s_median", r->gflops);
    cJSON_AddNumberToObject(o, "context_fill_seconds", r->prefill_s);
    return o;
}

cJSON *bench_pass_json(const BenchPass *r, const BenchBound *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "batch", r->B);
    cJSON_AddNumberToObject(o, "length", r->T);
    cJSON_AddNumberToObject(o, "repeats", r->repeats);
    cJSON_AddNumberToObject(o, "seconds_median", r->sec.median);
    cJSON_AddNumberToObject(o, "seconds_min", r->sec.min);
    cJSON_AddNumberToObject(o, "tokens_per_s_median", r->tokens_per_s);
    cJSON_AddNumberToObject(o, "tokens_per_s_best", r->tokens_per_s_best);
    cJSON_AddNumberToObject(o, "flops_per_token", r->flops_per_token);
    cJSON_AddNumberToObject(o, "gflops_per_s_median", r->gflops);
    cJSON_AddNumberToObject(o, "activation_bytes", r->act_bytes);
    bench_add_bound(o, b, r->tokens_per_s);
    return o;
}

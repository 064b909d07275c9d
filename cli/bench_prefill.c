/* seqbench bench prefill: tokens/s of the parallel forward (model_forward in
 * the inference arena, batch 1) against sequence length, for each model,
 * beside the compute bound peak sgemm / FLOPs per token. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/bench_common.h"
#include "cli/bench_suite.h"
#include "core/results.h"
#include "models/describe.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/progress.h"

#define ALL_ARCHS "transformer,transformer-local,mamba,mamba2,mamba-lti,hawk,griffin,jamba,mamba2-hybrid"

int bench_prefill_main(int argc, char **argv)
{
    BenchRun run;
    BenchModels bm;
    char lengths_s[256] = "128,512,2048";
    Option opts[BENCH_MAX_OPTIONS];
    int n = bench_models_options(&bm, ALL_ARCHS, opts);
    n += bench_run_options(&run, 3, opts + n);
    opts[n++] = (Option)OPT_S("lengths", lengths_s, "sequence lengths, batch 1");
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 3, "bench prefill",
                           "[--archs A,B | --arch A | --pattern P | --paper NAME | --model DIR] [sizes] [options]", &e);
    if (rc < 0) die_err(&e);
    if (rc) return 0;
    int lengths[BENCH_MAX_LIST], n_len = bench_parse_list(lengths_s, lengths, 1, 1 << 22, "--lengths");
    bench_check_run(&run);
    BenchModelSpec specs[BENCH_MAX_MODELS];
    int n_specs = bench_models_resolve(&bm, opts, n, specs);
    for (int i = 0; i < n_specs; i++) { /* every shape fits, before anything is built or timed */
        Model lay;
        bench_model_layout(&specs[i], &lay);
        char what[128];
        snprintf(what, sizeof what, "%.63s: weights", specs[i].name);
        if (mem_check((double)lay.n_params * sizeof(real), what, &e)) die_err(&e);
        for (int j = 0; j < n_len; j++)
            if (bench_check_pass(&lay, 1, lengths[j], 0, &e)) die("%s: %s", specs[i].name, e.msg);
        model_free(&lay);
    }
    if (run.dry) return bench_dry_done("bench prefill");
    cJSON *res = bench_result("bench prefill", argc, argv, opts, n);
    Roofline rf;
    bench_roofline(&run, &rf, res);
    cJSON *models = cJSON_AddArrayToObject(res, "models");
    printf("\n%-18s %8s %11s %10s %9s %11s %9s\n", "model", "length", "tokens/s", "ms/run", "GFLOP/s", "bound tok/s",
           "fraction");
    Progress pr;
    progress_start(&pr, "bench prefill", (long)n_specs * n_len);
    pr.unit = "point";
    for (int i = 0; i < n_specs; i++) {
        Model m;
        bench_model_build(&bm, &specs[i], run.seed, &m);
        cJSON *mo = cJSON_CreateObject();
        cJSON_AddStringToObject(mo, "name", specs[i].name);
        cJSON_AddItemToObject(mo, "model", model_describe(&m));
        cJSON *pts = cJSON_AddArrayToObject(mo, "points");
        for (int j = 0; j < n_len; j++) {
            BenchPass r;
            if (bench_prefill(&m, lengths[j], run.repeats, run.seed, &r, &e)) die("%s: %s", specs[i].name, e.msg);
            BenchBound b;
            bench_bound_compute(r.flops_per_token, &rf, &b);
            char t[32], bt[32];
            if (pr.tty) fprintf(stderr, "\r\033[K");
            printf("%-18s %8d %11s %10.3f %9.2f %11s %9.3f\n", specs[i].name, r.T,
                   bench_rate(r.tokens_per_s, t, sizeof t), 1e3 * r.sec.median, r.gflops,
                   bench_rate(b.tokens_per_s, bt, sizeof bt), r.tokens_per_s / b.tokens_per_s);
            fflush(stdout);
            cJSON *o = bench_pass_json(&r, &b);
            cJSON_AddItemToArray(pts, o);
            char extra[96];
            snprintf(extra, sizeof extra, "%.40s length %d", specs[i].name, lengths[j]);
            progress_update(&pr, (long)i * n_len + j + 1, extra);
        }
        cJSON_AddItemToArray(models, mo);
        model_free(&m);
    }
    progress_finish(&pr);
    bench_write(res, &run);
    cJSON_Delete(res);
    return 0;
}

/* seqbench bench kernels: time against sequence length of each
 * sequence-mixing kernel, forward and forward + backward, at one width, and
 * the log-log slope of that time (issue 17). The claim it checks is the
 * papers' cost argument: the scans are linear in T (slope ~1), attention
 * quadratic (slope -> 2 once its T x T part outweighs the projections).
 *
 * Kernels run through the sublayer interface (models/sublayer.h), one
 * sublayer alone: the Mamba-2 and RG-LRU scans are private to their files,
 * and a sublayer is what a model pays per layer. The Mamba-1 scan is also
 * timed bare (selective_scan.h's scan_forward / scan_backward), so the scan
 * can be told apart from the projections around it.
 *
 * Forward is the inference forward (nothing kept for backward, as prefill
 * and eval run it); forward + backward is a training forward, which saves
 * what backward reads (attention: a log-sum-exp per query, B·H·T reals), then backward. */
#include "bench/kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/harness.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/timer.h"
/* the one reach past models/model.h: the Mamba-1 scan timed bare, without its sublayer */
#include "models/layers/selective_scan.h"
#include "models/model_args.h"

#define MAX_LENGTHS BENCH_MAX_LIST
#define KERNEL_VOCAB 16 /* the embedding is never used: only the sublayer runs */

typedef struct {
    const char *name, *what;
    const char *pattern, *mamba; /* the one sublayer */
    int bare;                    /* selective_scan.h's scan alone, without the sublayer around it */
} KernelDef;

static const KernelDef KERNELS[] = {
    {"selective_scan", "Mamba-1 selective scan alone (selective_scan.h scan_forward/scan_backward, E = expand x d_model)",
     "M", "mamba1", 1},
    {"mamba1", "Mamba-1 mixer M: in/out projections, causal conv, selective scan", "M", "mamba1", 0},
    {"mamba2", "Mamba-2 mixer M: projections, conv, SSD recurrence (state checkpoints every 16 tokens), gated norm", "M", "mamba2", 0},
    {"rglru", "RG-LRU recurrent block R (Hawk/Griffin): gates, conv, linear recurrence", "R", "mamba1", 0},
    {"attention", "global causal attention * (MHA, RoPE), tiled with an online softmax (training keeps a log-sum-exp per query)", "*", "mamba1", 0},
};
_Static_assert(sizeof KERNELS / sizeof *KERNELS == BENCH_N_KERNELS, "bench/kernels.h counts the kernels");
#define N_KERNELS BENCH_N_KERNELS

enum { PASS_FWD, PASS_FWD_BWD, N_PASSES };
static const char *PASS_KEY[N_PASSES] = {"forward", "forward_backward"};
static const char *PASS_SHORT[N_PASSES] = {"fwd", "fwd+bwd"};

typedef struct {
    int T, oom;
    double bytes;        /* what the cell allocates (or would have) */
    double best, median; /* seconds per run */
} Cell;

int bench_kernels_select(const char *list, int *use, Err *e)
{
    for (int k = 0; k < N_KERNELS; k++) use[k] = !strcmp(list, "all");
    if (!strcmp(list, "all")) return 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < N_KERNELS && strcmp(KERNELS[k].name, tok)) k++;
        if (k == N_KERNELS) {
            char known[256] = "";
            for (int j = 0; j < N_KERNELS; j++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", j ? ", " : "", KERNELS[j].name);
            return err_set(e, "bench kernels: --kernels: unknown kernel \"%s\" (known: %s, or all)", tok, known);
        }
        use[k] = 1;
    }
    int any = 0;
    for (int k = 0; k < N_KERNELS; k++) any |= use[k];
    if (!any) return err_set(e, "bench kernels: --kernels \"%s\" names no kernel", list);
    return 0;
}

/* One sublayer of the kernel's family at the benchmark's width. A width the
 * family cannot take (heads not dividing d_model, a Mamba-2 inner width not a
 * multiple of its head dim) fails here, before anything is timed. */
static int kernel_model(const KernelDef *k, const BenchKernels *a, Model *m, Err *e)
{
    ModelArgs ma;
    model_args_defaults(&ma);
    snprintf(ma.pattern, sizeof ma.pattern, "%s", k->pattern);
    snprintf(ma.mamba, sizeof ma.mamba, "%s", k->mamba);
    ma.layers = 1;
    ma.d_model = a->d_model;
    ma.d_state = a->d_state;
    ma.heads = a->heads;
    ma.vocab = KERNEL_VOCAB;
    ModelCfg cfg;
    if (model_args_to_cfg(&ma, KERNEL_VOCAB, &cfg, e) || model_create(m, &cfg, e)) {
        err_prefix(e, k->name);
        return err_prefix(e, "bench kernels");
    }
    model_init_weights(m, a->seed);
    return 0;
}

static void fill_normal(real *p, size_t n, Rng *r, double scale)
{
    for (size_t i = 0; i < n; i++) p[i] = (real)(scale * rng_normal(r));
}

static void fill_uniform(real *p, size_t n, Rng *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) p[i] = (real)(lo + (hi - lo) * rng_uniform(r));
}

/* ---- the sublayer through its SubOps ---- */

typedef struct {
    Sub s;
    int B, T, backward;
    real *x, *y, *dy, *dx, *acts, *scratch;
} SubRun;

static void sub_run(SubRun *r)
{
    r->s.ops->forward(&r->s, r->x, r->y, r->B, r->T, r->acts, r->scratch);
    if (r->backward) r->s.ops->backward(&r->s, r->x, r->dy, r->dx, r->B, r->T, r->acts, r->scratch);
}

/* Reals one cell of the sublayer needs: inputs and outputs, its acts (the
 * inference size for forward alone) and its scratch, sized as the model's
 * arena sizes them (per sequence, times B). */
static double sub_reals(const Model *m, int B, int T, int backward)
{
    const SubOps *ops = m->layers[0].sub.ops;
    const ModelCfg *c = &m->cfg;
    double acts = !backward && ops->infer_act_size ? (double)ops->infer_act_size(c, 1, T)
                                                     : (double)ops->act_size(c, 1, T);
    double io = (backward ? 4.0 : 2.0) * T * c->d_model;
    return (acts + (double)ops->scratch_size(c, 1, T) + io) * B + 64;
}

/* ---- the bare Mamba-1 scan ---- */

typedef struct {
    int B, T, E, N, backward;
    real *u, *dt, *Bm, *Cm, *A, *D, *y, *h, *hs, *dy, *du, *ddt, *dB, *dC, *dA, *dD, *dh;
} ScanRun;

/* Per sequence: u, Δ, y, dy, du, dΔ [T,E]; B, C, dB, dC [T,N]; h, dh, dA [E,N];
 * dD [E]; and for backward the saved states [T,E,N]. A and D [E,N], [E] shared. */
static double scan_reals(int B, int T, int E, int N, int backward)
{
    double TE = (double)T * E, TN = (double)T * N, EN = (double)E * N;
    double per = backward ? 6 * TE + 4 * TN + 3 * EN + E + TE * N : 3 * TE + 2 * TN + EN;
    return per * B + EN + E + 64;
}

static void scan_run(ScanRun *r)
{
    int T = r->T, E = r->E, N = r->N;
    size_t TE = (size_t)T * E, TN = (size_t)T * N, EN = (size_t)E * N;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < r->B; b++) {
        ScanIn s = {T, E, N, r->u + b * TE, (size_t)E, r->dt + b * TE, (size_t)E,
                    r->Bm + b * TN, r->Cm + b * TN, (size_t)N, 0, r->A, r->D};
        real *h = r->h + b * EN;
        memset(h, 0, sizeof(real) * EN);
        scan_forward(&s, r->y + b * TE, (size_t)E, r->backward ? r->hs + b * TE * N : NULL, h);
        if (!r->backward) continue;
        ScanGrad g = {r->du + b * TE, (size_t)E, r->ddt + b * TE, r->dB + b * TN, r->dC + b * TN,
                      r->dA + b * EN, r->dD + (size_t)b * E};
        scan_backward(&s, r->dy + b * TE, (size_t)E, r->hs + b * TE * N, r->dh + b * EN, &g);
    }
}

/* Carves the one buffer into the scan's arrays, in scan_reals' order, and fills the inputs. */
static void scan_setup(ScanRun *r, real *buf, Rng *rng)
{
    size_t B = (size_t)r->B, TE = (size_t)r->T * r->E, TN = (size_t)r->T * r->N, EN = (size_t)r->E * r->N;
    real *p = buf;
#define TAKE(field, n) (r->field = p, p += (n))
    TAKE(u, B * TE); TAKE(dt, B * TE); TAKE(y, B * TE); TAKE(Bm, B * TN); TAKE(Cm, B * TN); TAKE(h, B * EN);
    TAKE(A, EN); TAKE(D, (size_t)r->E);
    if (r->backward) {
        TAKE(dy, B * TE); TAKE(du, B * TE); TAKE(ddt, B * TE); TAKE(dB, B * TN); TAKE(dC, B * TN);
        TAKE(dA, B * EN); TAKE(dh, B * EN); TAKE(dD, B * r->E); TAKE(hs, B * TE * r->N);
    }
#undef TAKE
    /* values in the ranges a trained Mamba sees: Δ = softplus(·) small, A = -exp(A_log) from -1 to -N */
    fill_normal(r->u, B * TE, rng, 1);
    fill_uniform(r->dt, B * TE, rng, 0.001, 0.1);
    fill_normal(r->Bm, B * TN, rng, 1);
    fill_normal(r->Cm, B * TN, rng, 1);
    for (size_t i = 0; i < EN; i++) r->A[i] = -(real)(1 + i % r->N);
    fill_uniform(r->D, (size_t)r->E, rng, 0.5, 1.5);
    if (r->backward) fill_normal(r->dy, B * TE, rng, 1);
}

/* ---- timing ---- */

/* One warm-up run (page faults of fresh buffers, the thread pool waking),
 * then `repeats` timed runs: best and median, as bench/bench.h does. */
static void time_runs(void (*run)(void *), void *arg, int repeats, Cell *c)
{
    double sec[BENCH_MAX_REPEATS];
    run(arg);
    for (int i = 0; i < repeats; i++) {
        double t0 = now_seconds();
        run(arg);
        sec[i] = now_seconds() - t0;
    }
    c->best = sec[0];
    for (int i = 1; i < repeats; i++) c->best = sec[i] < c->best ? sec[i] : c->best;
    c->median = bench_median(sec, repeats);
}

static void sub_run_v(void *p) { sub_run(p); }
static void scan_run_v(void *p) { scan_run(p); }

/* Times one (kernel, length, pass); a cell whose memory is not there is
 * marked oom, nothing allocated. */
static void run_cell(const KernelDef *k, Model *m, const BenchKernels *a, int T, int pass, Cell *c)
{
    int B = a->batch, backward = pass == PASS_FWD_BWD;
    int E = cfg_d_inner(&m->cfg), N = m->cfg.d_state;
    double reals = k->bare ? scan_reals(B, T, E, N, backward) : sub_reals(m, B, T, backward);
    *c = (Cell){.T = T, .bytes = reals * sizeof(real)};
    char what[128];
    snprintf(what, sizeof what, "%s %s batch %d x length %d", k->name, PASS_SHORT[pass], B, T);
    Err e = {{0}};
    real *buf = NULL;
    if (mem_check(c->bytes, what, &e) || !(buf = mem_alloc((size_t)reals, sizeof(real), what, &e))) {
        c->oom = 1;
        return;
    }
    Rng rng = rng_fork(a->seed, 1 + (uint64_t)T);
    if (k->bare) {
        ScanRun r = {.B = B, .T = T, .E = E, .N = N, .backward = backward};
        scan_setup(&r, buf, &rng);
        time_runs(scan_run_v, &r, a->repeats, c);
    } else {
        const ModelCfg *cfg = &m->cfg;
        size_t MD = (size_t)B * T * cfg->d_model;
        SubRun r = {.s = m->layers[0].sub, .B = B, .T = T, .backward = backward};
        r.s.inference = !backward;
        r.x = buf;
        r.y = r.x + MD;
        r.dy = backward ? r.y + MD : NULL;
        r.dx = backward ? r.dy + MD : NULL;
        r.acts = r.y + (backward ? 3 : 1) * MD;
        const SubOps *ops = r.s.ops;
        r.scratch = r.acts + B * (!backward && ops->infer_act_size ? ops->infer_act_size(cfg, 1, T)
                                                                   : ops->act_size(cfg, 1, T));
        fill_normal(r.x, MD, &rng, 1);
        if (backward) fill_normal(r.dy, MD, &rng, 1);
        time_runs(sub_run_v, &r, a->repeats, c);
    }
    free(buf);
}

/* ---- results ---- */

typedef struct {
    double all, long_half, all_median; /* NAN when undefined */
    int long_from;                     /* first length of the long half */
} Slopes;

/* Over the cells that ran: every length, and the longest half of them (at
 * least two), where attention's T² part has taken over. Fitted to the best
 * run (the least disturbed by other work on the machine); the median's slope
 * beside it shows how much noise there was. */
static Slopes fit_slopes(const Cell *cells, int n)
{
    double len[MAX_LENGTHS], best[MAX_LENGTHS], med[MAX_LENGTHS];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!cells[i].oom) {
            len[m] = cells[i].T;
            best[m] = cells[i].best;
            med[m++] = cells[i].median;
        }
    Slopes s = {NAN, NAN, NAN, 0};
    s.all = bench_loglog_slope(len, best, m);
    s.all_median = bench_loglog_slope(len, med, m);
    int half = m / 2 > 2 ? (m + 1) / 2 : 2, from = m - half > 0 ? m - half : 0;
    s.long_half = bench_loglog_slope(len + from, best + from, m - from);
    s.long_from = m ? (int)len[from] : 0;
    return s;
}

static void add_number_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static cJSON *pass_json(const Cell *cells, int n, int B, const Slopes *s)
{
    cJSON *o = cJSON_CreateObject(), *pts = cJSON_AddArrayToObject(o, "points");
    for (int i = 0; i < n; i++) {
        const Cell *c = &cells[i];
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "length", c->T);
        cJSON_AddStringToObject(p, "status", c->oom ? "oom" : "ok");
        if (c->oom) {
            cJSON_AddNumberToObject(p, "bytes_needed", c->bytes);
            cJSON_AddNumberToObject(p, "mem_limit", (double)mem_available());
        } else {
            cJSON_AddNumberToObject(p, "seconds_best", c->best);
            cJSON_AddNumberToObject(p, "seconds_median", c->median);
            cJSON_AddNumberToObject(p, "tokens_per_s_best", (double)B * c->T / c->best);
            cJSON_AddNumberToObject(p, "bytes", c->bytes);
        }
        cJSON_AddItemToArray(pts, p);
    }
    add_number_or_null(o, "slope", s->all);
    add_number_or_null(o, "slope_long_half", s->long_half);
    cJSON_AddNumberToObject(o, "long_half_from_length", s->long_from);
    add_number_or_null(o, "slope_median", s->all_median);
    return o;
}

static void print_cell(const KernelDef *k, int pass, int B, const Cell *c)
{
    char b[32];
    if (c->oom)
        printf("%-15s %-8s %8d  OOM: needs %s, limit %s\n", k->name, PASS_SHORT[pass], c->T, mem_human(c->bytes, b, sizeof b),
               mem_human((double)mem_available(), (char[32]){0}, 32));
    else
        printf("%-15s %-8s %8d %12.3f %12.3f %12.0f %10.1f %10s\n", k->name, PASS_SHORT[pass], c->T, 1e3 * c->best,
               1e3 * c->median, (double)B * c->T / c->best, 1e9 * c->best / ((double)B * c->T),
               mem_human(c->bytes, b, sizeof b));
    fflush(stdout);
}

static void print_slope(double v)
{
    if (isfinite(v)) printf(" %10.3f", v);
    else printf(" %10s", "-");
}

/* Each chosen kernel's one-sublayer model, with gradients (backward adds into them). */
static int build_models(const BenchKernels *a, Model *models, Err *e)
{
    for (int k = 0; k < N_KERNELS; k++) {
        if (!a->use[k]) continue;
        if (kernel_model(&KERNELS[k], a, &models[k], e)) return -1;
        if (model_alloc_grads(&models[k], e)) return err_prefix(e, "bench kernels");
    }
    return 0;
}

static void free_models(const BenchKernels *a, Model *models)
{
    for (int k = 0; k < N_KERNELS; k++)
        if (a->use[k]) model_free(&models[k]);
}

int bench_kernels_check(const BenchKernels *a, Err *e)
{
    Model models[N_KERNELS];
    memset(models, 0, sizeof models);
    int rc = build_models(a, models, e);
    free_models(a, models); /* model_free takes a model that failed or was never built */
    return rc;
}

static void print_slopes(const BenchKernels *a, Cell cells[][N_PASSES][MAX_LENGTHS])
{
    printf("\nlog-log slope of time against length (least squares on the best runs; ~1 linear, ~2 quadratic)\n");
    printf("%-15s %10s %10s %10s %10s\n", "kernel", "fwd all", "fwd long", "f+b all", "f+b long");
    for (int k = 0; k < N_KERNELS; k++) {
        if (!a->use[k]) continue;
        printf("%-15s", KERNELS[k].name);
        for (int p = 0; p < N_PASSES; p++) {
            Slopes s = fit_slopes(cells[k][p], a->lengths.n);
            print_slope(s.all);
            print_slope(s.long_half);
        }
        printf("\n");
    }
    printf("(long: the longest half of the lengths that ran, at least two)\n");
}

static cJSON *kernel_json(const KernelDef *k, const Model *m, const BenchKernels *a, Cell cells[][MAX_LENGTHS])
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "what", k->what);
    cJSON_AddStringToObject(o, "pattern", m->cfg.pattern);
    ParamCounts pc;
    model_param_counts(m, &pc);
    if (!k->bare)
        cJSON_AddNumberToObject(o, "sublayer_params", (double)pc.by_symbol[(unsigned char)m->cfg.pattern[0]]);
    else { /* the scan's own sizes instead */
        cJSON_AddNumberToObject(o, "d_inner", cfg_d_inner(&m->cfg));
        cJSON_AddNumberToObject(o, "d_state", m->cfg.d_state);
    }
    for (int p = 0; p < N_PASSES; p++) {
        Slopes s = fit_slopes(cells[p], a->lengths.n);
        cJSON_AddItemToObject(o, PASS_KEY[p], pass_json(cells[p], a->lengths.n, a->batch, &s));
    }
    return o;
}

int bench_kernels_run(const BenchKernels *a, cJSON *res, Err *e)
{
    static Model models[N_KERNELS]; /* each Sub points at its model's cfg: they stay put */
    if (build_models(a, models, e)) {
        free_models(a, models);
        return -1;
    }
    bench_warn_busy();
    printf("seqbench bench kernels: d_model %d, d_state %d, %d heads, batch %d, %d threads; best and median of %d "
           "runs after a warm-up\n", a->d_model, a->d_state, a->heads, a->batch, threads_count(), a->repeats);
    printf("%-15s %-8s %8s %12s %12s %12s %10s %10s\n", "kernel", "pass", "length", "best ms", "median ms",
           "tokens/s", "ns/token", "memory");
    cJSON *kj = cJSON_AddObjectToObject(cJSON_AddObjectToObject(res, "metrics"), "kernels");
    static Cell cells[N_KERNELS][N_PASSES][MAX_LENGTHS];
    int total = 0, done = 0;
    for (int k = 0; k < N_KERNELS; k++) total += a->use[k] * N_PASSES * a->lengths.n;
    double t_start = now_seconds();
    for (int k = 0; k < N_KERNELS; k++) {
        if (!a->use[k]) continue;
        for (int p = 0; p < N_PASSES; p++)
            for (int i = 0; i < a->lengths.n; i++) {
                /* progress: the cells vary by orders of magnitude in cost, so a count and the time so far */
                fprintf(stderr, "bench kernels: [%d/%d, %.0f s] %s %s length %d\n", ++done, total,
                        now_seconds() - t_start, KERNELS[k].name, PASS_SHORT[p], a->lengths.v[i]);
                run_cell(&KERNELS[k], &models[k], a, a->lengths.v[i], p, &cells[k][p][i]);
                print_cell(&KERNELS[k], p, a->batch, &cells[k][p][i]);
            }
        cJSON_AddItemToObject(kj, KERNELS[k].name, kernel_json(&KERNELS[k], &models[k], a, cells[k]));
    }
    print_slopes(a, cells);
    free_models(a, models);
    return 0;
}

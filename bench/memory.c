/* seqbench bench memory: what a decode keeps per sequence as the context
 * grows (issue 17; Jamba Table 1, Griffin's bounded cache, Mamba's constant
 * state).
 *
 * Analytic: each sublayer's state_size (models/sublayer.h), split into the
 * KV cache of attention layers (`*` grows with the context, `L` stops at
 * window + 1 slots) and the recurrent state (conv windows, SSM and LRU
 * states), for the small presets and every shipped configs/paper/ model.
 *
 * Measured, for the small presets: one decoder sized for the longest context
 * steps token by token, and at each context on the way the growth of the
 * process's resident memory over a baseline is read (resident_bytes). The
 * baseline is taken with the weights resident and the thread pool started,
 * just before the decoder is made, after the free heap pages were handed
 * back; the decoder's buffers are then untouched zero pages, so a page
 * counts only once the decode writes it. The growth is the state reached so
 * far plus the step's scratch and logits, to the page. The decode frees
 * nothing on the way, so this current growth is also its peak: no VmHWM
 * is needed (its counter is not exact, see resident_bytes). */
#include "bench/memory.h"

#include <dirent.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/threads.h"
#include "models/describe.h"
#include "models/hf.h"
#include "models/model_args.h"

#define MAX_LIST BENCH_MAX_LIST
#define MAX_PAPER 128

/* ---- /proc/self ---- */

/* The "key: N kB" line of a /proc file, in bytes; -1 if absent. */
static double proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    double v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            unsigned long long kb;
            if (sscanf(line + n + 1, "%llu", &kb) == 1) v = (double)kb * 1024;
            break;
        }
    fclose(f);
    return v;
}

/* Resident bytes of this process, counted exactly: smaps_rollup walks the
 * page tables, where status's VmRSS/VmHWM come from per-CPU counters that
 * recent kernels let drift by a hundred pages or more, more than a small
 * model's whole state. VmRSS where smaps_rollup is missing (Linux < 4.14). */
static double resident_bytes(const char **source)
{
    double v = proc_kb("/proc/self/smaps_rollup", "Rss");
    *source = "smaps_rollup Rss";
    if (v < 0) {
        v = proc_kb("/proc/self/status", "VmRSS");
        *source = "status VmRSS";
    }
    return v;
}

/* ---- analytic ---- */

/* the state at fp32, as seqbench allocates it */
static StateBytes state_split(const ModelCfg *c, int B, int ctx) { return model_state_split(c, B, ctx, sizeof(real)); }

static cJSON *analytic_json(const ModelCfg *c, int B, int ctx)
{
    StateBytes s = state_split(c, B, ctx);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "context", ctx);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", s.kv);
    cJSON_AddNumberToObject(o, "recurrent_state_bytes", s.rec);
    cJSON_AddNumberToObject(o, "state_bytes", s.kv + s.rec);
    /* the papers quote 16-bit caches (Jamba Table 1) */
    cJSON_AddNumberToObject(o, "state_bytes_16bit", (s.kv + s.rec) / 2);
    return o;
}

/* ---- the small presets, measured ---- */

/* "bench memory: ARCH: what went wrong" */
static int decode_error(Err *e, const char *arch)
{
    char what[80];
    snprintf(what, sizeof what, "bench memory: %.50s", arch);
    return err_prefix(e, what);
}

/* A small preset at --d-model with its default depth; errors name the arch. */
static int preset_cfg(const char *arch, const BenchMemory *a, ModelCfg *cfg, Err *e)
{
    ModelArgs ma;
    model_args_defaults(&ma);
    if (strlen(arch) >= sizeof ma.arch) return err_set(e, "bench memory: --archs: unknown architecture \"%s\"", arch);
    strcpy(ma.arch, arch);
    ma.d_model = a->d_model;
    ma.vocab = a->vocab;
    if (model_args_to_cfg(&ma, a->vocab, cfg, e)) {
        char what[80];
        snprintf(what, sizeof what, "bench memory: --archs %.40s", arch);
        return err_prefix(e, what);
    }
    return 0;
}

static int build_preset(const char *arch, const BenchMemory *a, Model *m, Err *e)
{
    ModelCfg cfg;
    if (preset_cfg(arch, a, &cfg, e)) return -1;
    if (model_create(m, &cfg, e)) return decode_error(e, arch);
    model_init_weights(m, a->seed);
    return 0;
}

/* Steps one decoder to the longest context that fits, reading the resident
 * growth at each context of the list (ascending) on the way; measured[i] < 0
 * for the contexts beyond what fits. */
static int measure_decode(Model *m, const BenchMemory *a, const BenchList *contexts, const char *arch,
                          double *measured, const char **source, Err *e)
{
    int B = a->batch;
    Decoder d;
    int *tok = calloc((size_t)B, sizeof *tok);
    if (!tok) return err_set(e, "bench memory: out of memory");
    Rng r = rng_fork(a->seed, 2);
    for (int i = 0; i < contexts->n; i++) measured[i] = -1;
    /* a warm-up decode first: OpenMP starts its threads (their stacks are
     * resident from then on) and the first step's lazy work is done */
    if (decoder_create(&d, m, B, 2, e) || decoder_step(&d, tok, e) || decoder_step(&d, tok, e)) {
        decoder_free(&d);
        free(tok);
        return decode_error(e, arch);
    }
    decoder_free(&d);
    int last = contexts->n - 1;
    while (last >= 0 && decoder_bytes(&m->cfg, B, contexts->v[last]) > (double)mem_available()) last--;
    if (last < 0) {
        free(tok);
        return 0;
    }
    int max_ctx = contexts->v[last];
    malloc_trim(0); /* free heap pages out of the resident set, so a decoder placed on them counts as it writes */
    double base = resident_bytes(source);
    if (decoder_create(&d, m, B, max_ctx, e)) {
        free(tok);
        return decode_error(e, arch);
    }
    Progress pr;
    char label[64];
    snprintf(label, sizeof label, "memory %.40s", arch);
    progress_start(&pr, label, max_ctx);
    pr.unit = "tok";
    for (int i = 0, pos = 0; i <= last; i++) {
        for (; pos < contexts->v[i]; pos++) {
            for (int b = 0; b < B; b++) tok[b] = (int)rng_below(&r, (uint32_t)m->cfg.vocab_size);
            if (decoder_step(&d, tok, e)) {
                decoder_free(&d);
                free(tok);
                return decode_error(e, arch);
            }
            if ((pos & 255) == 0) progress_update(&pr, pos, NULL);
        }
        double now = resident_bytes(source);
        measured[i] = base >= 0 && now >= 0 ? now - base : -1;
    }
    progress_finish(&pr);
    decoder_free(&d);
    free(tok);
    return 0;
}

static cJSON *run_preset(const char *arch, const BenchMemory *a, Err *e)
{
    Model m;
    if (build_preset(arch, a, &m, e)) return NULL;
    double measured[MAX_LIST];
    const char *source = "";
    if (a->measure && measure_decode(&m, a, &a->contexts, arch, measured, &source, e)) {
        model_free(&m);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pattern", m.cfg.pattern);
    cJSON_AddNumberToObject(o, "d_model", m.cfg.d_model);
    cJSON_AddNumberToObject(o, "params", (double)m.n_params);
    if (a->measure) cJSON_AddStringToObject(o, "measured_from", source);
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (int i = 0; i < a->contexts.n; i++) {
        int ctx = a->contexts.v[i];
        cJSON *p = analytic_json(&m.cfg, a->batch, ctx);
        cJSON_AddNumberToObject(p, "decoder_bytes", decoder_bytes(&m.cfg, a->batch, ctx));
        double sb = cJSON_GetObjectItem(p, "state_bytes")->valuedouble;
        char st[32], dec[32], me[32] = "-";
        if (a->measure) {
            if (measured[i] >= 0) {
                cJSON_AddNumberToObject(p, "measured_bytes", measured[i]);
                mem_human(measured[i], me, sizeof me);
            } else {
                cJSON_AddNullToObject(p, "measured_bytes");
                strcpy(me, "OOM");
            }
        }
        printf("%-14s %-18.18s %9d %12s %14s %14s\n", arch, m.cfg.pattern, ctx, mem_human(sb, st, sizeof st),
               mem_human(decoder_bytes(&m.cfg, a->batch, ctx), dec, sizeof dec), me);
        cJSON_AddItemToArray(pts, p);
    }
    fflush(stdout);
    model_free(&m);
    return o;
}

/* ---- the paper configs, analytic ---- */

typedef struct {
    char *names[MAX_PAPER];
    ModelCfg cfgs[MAX_PAPER];
    int n;
} PaperSet;

static void papers_free(PaperSet *ps)
{
    for (int i = 0; i < ps->n; i++) free(ps->names[i]);
    ps->n = 0;
}

static int by_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* The config names to report: every .json in the paper directory for "all", else the list given. */
static int paper_names(const BenchMemory *a, PaperSet *ps, Err *e)
{
    ps->n = 0;
    if (!strcmp(a->paper, "none")) return 0;
    if (strcmp(a->paper, "all")) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", a->paper);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && ps->n < MAX_PAPER; t = strtok_r(NULL, ",", &save))
            ps->names[ps->n++] = strdup(t);
        return 0;
    }
    DIR *d = opendir(a->paper_dir);
    if (!d) return err_set(e, "bench memory: --paper all: cannot open %s (give --paper-dir, or --paper none)", a->paper_dir);
    struct dirent *ent;
    while ((ent = readdir(d)) && ps->n < MAX_PAPER) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && !strcmp(ent->d_name + len - 5, ".json")) ps->names[ps->n++] = strndup(ent->d_name, len - 5);
    }
    closedir(d);
    qsort(ps->names, (size_t)ps->n, sizeof *ps->names, by_name);
    return 0;
}

/* Every config named, read and checked before any work starts. */
static int load_papers(const BenchMemory *a, PaperSet *ps, Err *e)
{
    if (paper_names(a, ps, e)) return -1;
    for (int i = 0; i < ps->n; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s.json", a->paper_dir, ps->names[i]);
        FILE *probe = fopen(path, "r");
        if (!probe) {
            err_set(e, "bench memory: --paper %s: no %s (seqbench params --paper list)", ps->names[i], path);
            papers_free(ps);
            return -1;
        }
        fclose(probe);
        cJSON *root = json_read_file(path, e);
        int bad = !root || hf_config_from_json(root, &ps->cfgs[i], path, e);
        cJSON_Delete(root);
        if (bad) {
            papers_free(ps);
            return -1;
        }
    }
    return 0;
}

/* --paper-measure: the paper model with random weights, decoded to each of
 * those contexts as the presets are. Where its weights do not fit, null
 * figures and the reason. */
static cJSON *paper_measured(const char *name, const ModelCfg *c, const BenchMemory *a, Err *e)
{
    Model m;
    Err why = {{0}};
    double measured[MAX_LIST];
    const char *source = "";
    int built = model_create(&m, c, &why) == 0;
    if (built) {
        model_init_weights(&m, a->seed);
        int rc = measure_decode(&m, a, &a->paper_measure, name, measured, &source, e);
        model_free(&m);
        if (rc) return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < a->paper_measure.n; i++) {
        int ctx = a->paper_measure.v[i];
        cJSON *p = cJSON_CreateObject();
        StateBytes s = state_split(c, a->batch, ctx);
        cJSON_AddNumberToObject(p, "context", ctx);
        cJSON_AddNumberToObject(p, "state_bytes", s.kv + s.rec);
        char st[32], me[32] = "OOM";
        if (built && measured[i] >= 0) {
            cJSON_AddNumberToObject(p, "measured_bytes", measured[i]);
            cJSON_AddStringToObject(p, "measured_from", source);
            mem_human(measured[i], me, sizeof me);
        } else {
            cJSON_AddNullToObject(p, "measured_bytes");
            cJSON_AddStringToObject(p, "status", "oom");
            if (!built) cJSON_AddStringToObject(p, "reason", why.msg);
        }
        printf("%-24s %9d %14s  state fp32, measured %s\n", name, ctx, mem_human(s.kv + s.rec, st, sizeof st), me);
        cJSON_AddItemToArray(arr, p);
    }
    fflush(stdout);
    return arr;
}

static cJSON *paper_json(const char *name, const ModelCfg *c, const BenchMemory *a, Err *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pattern", c->pattern);
    cJSON_AddStringToObject(o, "model_type", c->model_type);
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (int i = 0; i < a->paper_contexts.n; i++) {
        int ctx = a->paper_contexts.v[i];
        StateBytes s = state_split(c, a->batch, ctx);
        char kv[32], rec[32], half[32];
        printf("%-24s %9d %14s %14s %14s\n", name, ctx, mem_human(s.kv, kv, sizeof kv), mem_human(s.rec, rec, sizeof rec),
               mem_human((s.kv + s.rec) / 2, half, sizeof half));
        cJSON_AddItemToArray(pts, analytic_json(c, a->batch, ctx));
    }
    if (a->paper_measure.n) {
        cJSON *measured = paper_measured(name, c, a, e);
        if (!measured) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, "measured", measured);
    }
    return o;
}

/* ---- the instrument ---- */

int bench_memory_check(const BenchMemory *a, Err *e)
{
    static PaperSet ps;
    if (load_papers(a, &ps, e)) return -1;
    papers_free(&ps);
    for (int i = 0; i < a->n_archs; i++) { /* every preset must build before the first is measured */
        ModelCfg cfg;
        if (preset_cfg(a->archs[i], a, &cfg, e)) return -1;
    }
    return 0;
}

int bench_memory_run(const BenchMemory *a, cJSON *res, Err *e)
{
    static PaperSet ps;
    if (load_papers(a, &ps, e)) return -1;
    /* every block of a page or more as a fresh mapping, and the heap handed
     * back at each free and grown by no more than asked: from the heap, a
     * decoder would get pages an earlier one left resident (glibc's adaptive
     * threshold even moves multi-MiB blocks there after the first free), and
     * its growth would read as zero; only states under a page stay unseen */
    mallopt(M_MMAP_THRESHOLD, 4096);
    mallopt(M_TRIM_THRESHOLD, 4096);
    mallopt(M_TOP_PAD, 0);
    cJSON *metrics = cJSON_AddObjectToObject(res, "metrics");
    cJSON_AddStringToObject(metrics, "precision", "fp32 (state_bytes_16bit: the same at 2 bytes a value)");
    cJSON_AddStringToObject(metrics, "measured",
                            "growth of the resident memory (/proc/self/smaps_rollup Rss, exact to the page) over a "
                            "baseline taken just before the decoder was made, after stepping to the context; the decode "
                            "frees nothing, so it is also the peak; includes the step scratch and logits");
    printf("seqbench bench memory: decode state, batch %d, fp32 (state: KV cache + recurrent state; decoder: all "
           "decoder_create allocates; measured: resident growth while decoding)\n",
           a->batch);
    printf("%-14s %-18s %9s %12s %14s %14s\n", "arch", "pattern", "context", "state", "decoder", "measured");
    int rc = 0;
    if (a->measure && a->n_archs) { /* a throwaway measurement takes the process's one-time growth (first touches
                                     * of stack and library buffers on the decode path) out of the first model's figure */
        BenchList once = {.v = {a->contexts.v[0]}, .n = 1};
        Model m;
        double ignore[MAX_LIST];
        const char *source;
        rc = build_preset(a->archs[0], a, &m, e);
        if (!rc) {
            rc = measure_decode(&m, a, &once, a->archs[0], ignore, &source, e);
            model_free(&m);
        }
    }
    cJSON *small = cJSON_AddObjectToObject(metrics, "models");
    for (int i = 0; i < a->n_archs && !rc; i++) {
        cJSON *o = run_preset(a->archs[i], a, e);
        if (o) cJSON_AddItemToObject(small, a->archs[i], o);
        else rc = -1;
    }
    if (ps.n && !rc) {
        printf("\npaper configs (analytic), batch %d\n", a->batch);
        printf("%-24s %9s %14s %14s %14s\n", "model", "context", "KV fp32", "recurrent fp32", "state 16-bit");
    }
    cJSON *paper = cJSON_AddObjectToObject(metrics, "paper");
    for (int i = 0; i < ps.n && !rc; i++) {
        cJSON *o = paper_json(ps.names[i], &ps.cfgs[i], a, e);
        if (o) cJSON_AddItemToObject(paper, ps.names[i], o);
        else rc = -1;
    }
    papers_free(&ps);
    return rc;
}

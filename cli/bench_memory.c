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
#include "bench_memory.h"

#include <dirent.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/datadir.h"
#include "models/model_args.h"
#include "cli/options.h"
#include "core/results.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/threads.h"
#include "models/hf.h"
#include "models/model.h"

#define MAX_LIST 32
#define MAX_PAPER 128

typedef struct {
    char archs_s[256], contexts_s[256], paper_s[1024], paper_contexts_s[256], paper_dir[1024], out[1024];
    int d_model, batch, vocab, measure, threads, dry;
    uint64_t seed;
    char paper_measure_s[256];
    int contexts[MAX_LIST], n_contexts, paper_contexts[MAX_LIST], n_paper_contexts, paper_measure[MAX_LIST],
        n_paper_measure;
} MArgs;

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

typedef struct { double kv, rec; } StateSplit;

/* Bytes of the decode state at context ctx (fp32, as seqbench allocates it),
 * attention caches apart from the recurrent states. */
static StateSplit state_split(const ModelCfg *c, int B, int ctx)
{
    StateSplit s = {0, 0};
    for (const char *p = c->pattern; *p; p++) {
        double b = (double)subops_for(c, *p)->state_size(c, B, ctx) * sizeof(real);
        if (*p == '*' || *p == 'L') s.kv += b;
        else s.rec += b;
    }
    return s;
}

static cJSON *analytic_json(const ModelCfg *c, int B, int ctx)
{
    StateSplit s = state_split(c, B, ctx);
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

/* A small preset at --d-model with its default depth; dies naming the arch. */
static void preset_cfg(const char *arch, const MArgs *a, ModelCfg *cfg)
{
    ModelArgs ma;
    model_args_defaults(&ma);
    if (strlen(arch) >= sizeof ma.arch) die("bench memory: --archs: unknown architecture \"%s\"", arch);
    strcpy(ma.arch, arch);
    ma.d_model = a->d_model;
    ma.vocab = a->vocab;
    Err e = {{0}};
    if (model_args_to_cfg(&ma, a->vocab, cfg, &e)) die("bench memory: --archs %s: %s", arch, e.msg);
}

static void build_preset(const char *arch, const MArgs *a, Model *m)
{
    ModelCfg cfg;
    preset_cfg(arch, a, &cfg);
    Err e = {{0}};
    if (model_create(m, &cfg, &e)) die("bench memory: %s: %s", arch, e.msg);
    model_init_weights(m, a->seed);
}

/* Steps one decoder to the longest context that fits, reading the resident
 * growth at each context of the list (ascending) on the way; measured[i] < 0
 * for the contexts beyond what fits. */
static void measure_decode(Model *m, const MArgs *a, const char *arch, double *measured, const char **source)
{
    int B = a->batch;
    Err e = {{0}};
    Decoder d;
    int *tok = calloc((size_t)B, sizeof *tok);
    if (!tok) die("bench memory: out of memory");
    Rng r = rng_fork(a->seed, 2);
    for (int i = 0; i < a->n_contexts; i++) measured[i] = -1;
    /* a warm-up decode first: OpenMP starts its threads (their stacks are
     * resident from then on) and the first step's lazy work is done */
    if (decoder_create(&d, m, B, 2, &e) || decoder_step(&d, tok, &e) || decoder_step(&d, tok, &e))
        die("bench memory: %s: %s", arch, e.msg);
    decoder_free(&d);
    int last = a->n_contexts - 1;
    while (last >= 0 && decoder_bytes(&m->cfg, B, a->contexts[last]) > (double)mem_available()) last--;
    if (last < 0) {
        free(tok);
        return;
    }
    int max_ctx = a->contexts[last];
    malloc_trim(0); /* free heap pages out of the resident set, so a decoder placed on them counts as it writes */
    double base = resident_bytes(source);
    if (decoder_create(&d, m, B, max_ctx, &e)) die("bench memory: %s: %s", arch, e.msg);
    Progress pr;
    char label[64];
    snprintf(label, sizeof label, "memory %.40s", arch);
    progress_start(&pr, label, max_ctx);
    pr.unit = "tok";
    for (int i = 0, pos = 0; i <= last; i++) {
        for (; pos < a->contexts[i]; pos++) {
            for (int b = 0; b < B; b++) tok[b] = (int)rng_below(&r, (uint32_t)m->cfg.vocab_size);
            if (decoder_step(&d, tok, &e)) die("bench memory: %s: %s", arch, e.msg);
            if ((pos & 255) == 0) progress_update(&pr, pos, NULL);
        }
        double now = resident_bytes(source);
        measured[i] = base >= 0 && now >= 0 ? now - base : -1;
    }
    progress_finish(&pr);
    decoder_free(&d);
    free(tok);
}

static cJSON *run_preset(const char *arch, const MArgs *a)
{
    Model m;
    build_preset(arch, a, &m);
    double measured[MAX_LIST];
    const char *source = "";
    if (a->measure) measure_decode(&m, a, arch, measured, &source);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pattern", m.cfg.pattern);
    cJSON_AddNumberToObject(o, "d_model", m.cfg.d_model);
    cJSON_AddNumberToObject(o, "params", (double)m.n_params);
    if (a->measure) cJSON_AddStringToObject(o, "measured_from", source);
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (int i = 0; i < a->n_contexts; i++) {
        int ctx = a->contexts[i];
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

static int by_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* The config names to report: every .json in configs/paper for "all", else the list given. */
static int paper_names(const MArgs *a, char **names)
{
    int n = 0;
    if (!strcmp(a->paper_s, "none")) return 0;
    if (strcmp(a->paper_s, "all")) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", a->paper_s);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < MAX_PAPER; t = strtok_r(NULL, ",", &save))
            names[n++] = strdup(t);
        return n;
    }
    DIR *d = opendir(a->paper_dir);
    if (!d) die("bench memory: --paper all: cannot open %s (give --paper-dir, or --paper none)", a->paper_dir);
    struct dirent *ent;
    while ((ent = readdir(d)) && n < MAX_PAPER) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && !strcmp(ent->d_name + len - 5, ".json")) names[n++] = strndup(ent->d_name, len - 5);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    return n;
}

/* Every config read and checked before any work starts. */
static void load_paper(const MArgs *a, char **names, int n, ModelCfg *cfgs)
{
    for (int i = 0; i < n; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s.json", a->paper_dir, names[i]);
        FILE *probe = fopen(path, "r");
        if (!probe) die("bench memory: --paper %s: no %s (seqbench params --paper list)", names[i], path);
        fclose(probe);
        Err e = {{0}};
        cJSON *root = json_read_file(path, &e);
        if (!root || hf_config_from_json(root, &cfgs[i], path, &e)) die_err(&e);
        cJSON_Delete(root);
    }
}

/* --paper-measure: the paper model with random weights, decoded to each of
 * those contexts as the presets are. Where its weights do not fit, null
 * figures and the reason. */
static cJSON *paper_measured(const char *name, const ModelCfg *c, const MArgs *a)
{
    cJSON *arr = cJSON_CreateArray();
    Model m;
    Err e = {{0}};
    double measured[MAX_LIST];
    const char *source = "";
    int built = model_create(&m, c, &e) == 0;
    if (built) {
        model_init_weights(&m, a->seed);
        MArgs pm = *a;
        memcpy(pm.contexts, a->paper_measure, sizeof pm.contexts);
        pm.n_contexts = a->n_paper_measure;
        measure_decode(&m, &pm, name, measured, &source);
        model_free(&m);
    }
    for (int i = 0; i < a->n_paper_measure; i++) {
        int ctx = a->paper_measure[i];
        cJSON *p = cJSON_CreateObject();
        StateSplit s = state_split(c, a->batch, ctx);
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
            if (!built) cJSON_AddStringToObject(p, "reason", e.msg);
        }
        printf("%-24s %9d %14s  state fp32, measured %s\n", name, ctx, mem_human(s.kv + s.rec, st, sizeof st), me);
        cJSON_AddItemToArray(arr, p);
    }
    fflush(stdout);
    return arr;
}

static cJSON *paper_json(const char *name, const ModelCfg *c, const MArgs *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pattern", c->pattern);
    cJSON_AddStringToObject(o, "model_type", c->model_type);
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (int i = 0; i < a->n_paper_contexts; i++) {
        int ctx = a->paper_contexts[i];
        StateSplit s = state_split(c, a->batch, ctx);
        char kv[32], rec[32], half[32];
        printf("%-24s %9d %14s %14s %14s\n", name, ctx, mem_human(s.kv, kv, sizeof kv), mem_human(s.rec, rec, sizeof rec),
               mem_human((s.kv + s.rec) / 2, half, sizeof half));
        cJSON_AddItemToArray(pts, analytic_json(c, a->batch, ctx));
    }
    if (a->n_paper_measure) cJSON_AddItemToObject(o, "measured", paper_measured(name, c, a));
    return o;
}

/* ---- the command ---- */

static void parse_list(const char *s, int *out, int *n, const char *what)
{
    Err e = {{0}};
    *n = parse_int_list(s, out, MAX_LIST, 1, 1 << 30, what, &e);
    if (*n < 0) die_err(&e);
    for (int i = 1; i < *n; i++)
        if (out[i] <= out[i - 1]) die("bench memory: %s must be increasing (got %d after %d)", what, out[i], out[i - 1]);
}

static int parse_args(int argc, char **argv, MArgs *a, Option *opts, int *n_opts)
{
    *a = (MArgs){.d_model = 64, .batch = 1, .vocab = 256, .measure = 1, .seed = 1};
    strcpy(a->archs_s, "transformer,mamba,mamba2,hawk,griffin,jamba");
    strcpy(a->contexts_s, "256,1024,4096,16384");
    strcpy(a->paper_s, "all");
    strcpy(a->paper_contexts_s, "2048,32768,262144");
    Option t[] = {
        OPT_S("archs", a->archs_s, "small presets to build, each at --d-model with its default depth"),
        OPT_I("d-model", &a->d_model, 1, 65536, "width of the small presets"),
        OPT_S("contexts", a->contexts_s, "contexts for the small presets, increasing (measured by stepping to each)"),
        OPT_I("batch", &a->batch, 1, 1 << 16, "sequences decoded at once"),
        OPT_I("vocab", &a->vocab, 2, 1 << 24, "vocabulary of the small presets (the logits are part of the decoder)"),
        OPT_F("measure", &a->measure, "measure the small presets' resident memory (--measure false: analytic only)"),
        OPT_S("paper", a->paper_s, "configs/paper models, analytic only: all, none, or names (seqbench params --paper list)"),
        OPT_S("paper-contexts", a->paper_contexts_s, "contexts for the paper models (262144: Jamba Table 1's 256K)"),
        OPT_S("paper-measure", a->paper_measure_s, "also measure the paper models at these contexts, increasing "
                                                   "(random weights in memory; a 130M model steps ~20 tokens/s on 2 "
                                                   "cores; default: analytic only)"),
        OPT_S("paper-dir", a->paper_dir, "where the paper configs are (default: configs/paper, found as params finds it)"),
        OPT_I("threads", &a->threads, 0, 1024, "threads (0 = all cores)"),
        OPT_U("seed", &a->seed, "seed for weights and tokens"),
        OPT_S("out", a->out, "result JSON file (written atomically)"),
        OPT_F("dry-run", &a->dry, "check the options and every model, then stop before measuring"),
    };
    memcpy(opts, t, sizeof t);
    *n_opts = (int)(sizeof t / sizeof *t);
    Err e = {{0}};
    int rc = options_parse(opts, *n_opts, argc, argv, 1, "bench memory", "[--archs A,...] [--contexts C,...] [options]", &e);
    if (rc < 0) die_err(&e);
    if (rc) return 1;
    parse_list(a->contexts_s, a->contexts, &a->n_contexts, "--contexts");
    parse_list(a->paper_contexts_s, a->paper_contexts, &a->n_paper_contexts, "--paper-contexts");
    if (*a->paper_measure_s) parse_list(a->paper_measure_s, a->paper_measure, &a->n_paper_measure, "--paper-measure");
    if (!*a->paper_dir) data_path("configs/paper", a->paper_dir, sizeof a->paper_dir);
    return 0;
}

int bench_memory(int argc, char **argv)
{
    MArgs a;
    Option opts[16];
    int n_opts;
    if (parse_args(argc, argv, &a, opts, &n_opts)) return 0;
    Err e = {{0}};
    if (*a.out && results_check_file("--out", a.out, &e)) die_err(&e);
    char *names[MAX_PAPER];
    static ModelCfg cfgs[MAX_PAPER];
    int n_paper = paper_names(&a, names);
    load_paper(&a, names, n_paper, cfgs);
    char archs[MAX_LIST][32];
    int n_archs = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", a.archs_s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n_archs == MAX_LIST) die("bench memory: --archs: more than %d architectures", MAX_LIST);
        if (strlen(t) >= sizeof archs[0]) die("bench memory: --archs: unknown architecture \"%s\"", t);
        strcpy(archs[n_archs++], t);
    }
    for (int i = 0; i < n_archs; i++) { /* every preset must build before the first is measured */
        ModelCfg cfg;
        preset_cfg(archs[i], &a, &cfg);
    }
    if (a.dry) {
        for (int i = 0; i < n_paper; i++) free(names[i]);
        fprintf(stderr, "seqbench bench memory: dry run: options checked, nothing measured\n");
        return 0;
    }
    /* every block of a page or more as a fresh mapping, and the heap handed
     * back at each free and grown by no more than asked: from the heap, a
     * decoder would get pages an earlier one left resident (glibc's adaptive
     * threshold even moves multi-MiB blocks there after the first free), and
     * its growth would read as zero; only states under a page stay unseen */
    mallopt(M_MMAP_THRESHOLD, 4096);
    mallopt(M_TRIM_THRESHOLD, 4096);
    mallopt(M_TOP_PAD, 0);
    threads_init(a.threads);
    cJSON *res = results_new("bench memory", argc, argv);
    cJSON_AddItemToObject(res, "machine", machine_json());
    cJSON_AddItemToObject(res, "settings", options_to_json(opts, n_opts));
    cJSON *metrics = cJSON_AddObjectToObject(res, "metrics");
    cJSON_AddStringToObject(metrics, "precision", "fp32 (state_bytes_16bit: the same at 2 bytes a value)");
    cJSON_AddStringToObject(metrics, "measured",
                            "growth of the resident memory (/proc/self/smaps_rollup Rss, exact to the page) over a "
                            "baseline taken just before the decoder was made, after stepping to the context; the decode "
                            "frees nothing, so it is also the peak; includes the step scratch and logits");
    printf("seqbench bench memory: decode state, batch %d, fp32 (state: KV cache + recurrent state; decoder: all "
           "decoder_create allocates; measured: resident growth while decoding)\n",
           a.batch);
    printf("%-14s %-18s %9s %12s %14s %14s\n", "arch", "pattern", "context", "state", "decoder", "measured");
    if (a.measure && n_archs) { /* a throwaway measurement takes the process's one-time growth (first touches
                                 * of stack and library buffers on the decode path) out of the first model's figure */
        MArgs once = a;
        once.n_contexts = 1;
        Model m;
        build_preset(archs[0], &once, &m);
        double ignore[MAX_LIST];
        const char *source;
        measure_decode(&m, &once, archs[0], ignore, &source);
        model_free(&m);
    }
    cJSON *small = cJSON_AddObjectToObject(metrics, "models");
    for (int i = 0; i < n_archs; i++) cJSON_AddItemToObject(small, archs[i], run_preset(archs[i], &a));
    if (n_paper) {
        printf("\npaper configs (analytic), batch %d\n", a.batch);
        printf("%-24s %9s %14s %14s %14s\n", "model", "context", "KV fp32", "recurrent fp32", "state 16-bit");
    }
    cJSON *paper = cJSON_AddObjectToObject(metrics, "paper");
    for (int i = 0; i < n_paper; i++) {
        cJSON_AddItemToObject(paper, names[i], paper_json(names[i], &cfgs[i], &a));
        free(names[i]);
    }
    results_finish(res);
    if (*a.out) {
        if (json_write_file(a.out, res, &e)) die_err(&e);
        fprintf(stderr, "wrote %s\n", a.out);
    }
    cJSON_Delete(res);
    return 0;
}

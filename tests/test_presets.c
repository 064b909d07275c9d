/* models/model_args: each preset's default model and --param-budget, figure
 * for figure as docs/patterns.md's presets tables give them (`test_presets
 * --table` prints those tables), on the copy task's 29 tokens. Also: the
 * explicit sizes of experiments/copy_length.json build what they built
 * before the preset defaults existed, a budget that cannot be met (a depth
 * given by --layers that is too deep for it) says so,
 * and fitting 1B parameters allocates no weights. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "check.h"
#include "models/model_args.h"
#include "models/model.h"

#define COPY_VOCAB 29 /* 3 special tokens + the 26 letters of the copy task's default alphabet */

static const char *PRESETS[] = {"transformer", "transformer-local", "mamba",   "mamba2",        "mamba-lti",
                                "hawk",        "griffin",           "jamba",   "mamba2-hybrid"};
enum { N_PRESETS = sizeof PRESETS / sizeof *PRESETS };

static const double BUDGETS[] = {2e4, 2e5, 2e6, 2e7, 2e8, 1e9};
enum { N_BUDGETS = sizeof BUDGETS / sizeof *BUDGETS };

/* the defaults: expanded pattern, total and active (per token) parameters */
static const struct { const char *pattern; long total, active; } DEFAULTS[N_PRESETS] = {
    {"*-*-", 133248, 133248},
    {"L-L-", 133248, 133248},
    {"MMMM", 132736, 132736},
    {"MMMM", 114528, 114528},
    {"MMMM", 128640, 128640},
    {"R-R-", 106880, 106880},
    {"R-R-L-", 154624, 154624},
    {"M-MEM-ME*-MEM-ME", 186286, 130990},
    {"M-M-*-M-", 119925, 119925},
};

/* --param-budget on the copy vocabulary: the count reached, per preset and budget */
static const long FITTED[N_PRESETS][N_BUDGETS] = {
    {19248, 207520, 1976560, 20099376, 199445376, 1000844976},
    {19248, 207520, 1976560, 20099376, 199445376, 1000844976},
    {19720, 197920, 1996722, 20009850, 200041878, 1000005510},
    {19828, 208980, 1980660, 19859136, 200444716, 999859528},
    {20538, 200244, 2000430, 19997838, 200014794, 999967530},
    {20012, 199760, 1979600, 19954040, 200137560, 1000267080},
    {20032, 194976, 1983136, 19830784, 199363584, 999563136},
    {20135, 200558, 1908419, 20278711, 199880268, 1001364211},
    {20082, 199847, 2015493, 19710258, 200811923, 999817143},
};

typedef struct {
    ModelCfg cfg;
    ParamCounts pc;
    char note[512];
    int ok;
} Built;

static Built build(const ModelArgs *a, int vocab)
{
    Built b;
    memset(&b, 0, sizeof b);
    Err e = {{0}};
    Model m;
    if (model_args_build(a, vocab, &b.cfg, b.note, sizeof b.note, &e) || model_layout(&m, &b.cfg, &e)) {
        snprintf(b.note, sizeof b.note, "ERROR: %.480s", e.msg);
        return b;
    }
    model_param_counts(&m, &b.pc);
    model_free(&m);
    b.ok = 1;
    return b;
}

static ModelArgs preset(const char *arch, double budget)
{
    ModelArgs a;
    model_args_defaults(&a);
    snprintf(a.arch, sizeof a.arch, "%s", arch);
    a.param_budget = budget;
    return a;
}

static double miss(long n, double budget) { return 100.0 * ((double)n - budget) / budget; }

static void defaults(void)
{
    for (int i = 0; i < N_PRESETS; i++) {
        ModelArgs a = preset(PRESETS[i], 0);
        Built b = build(&a, COPY_VOCAB);
        CHECK(b.ok && !strcmp(b.cfg.pattern, DEFAULTS[i].pattern), "%s: default pattern %s, want %s (%s)", PRESETS[i],
              b.cfg.pattern, DEFAULTS[i].pattern, b.note);
        CHECK((long)b.pc.total == DEFAULTS[i].total && (long)b.pc.active == DEFAULTS[i].active,
              "%s: default %ld parameters (%ld active), want %ld (%ld)", PRESETS[i], (long)b.pc.total,
              (long)b.pc.active, DEFAULTS[i].total, DEFAULTS[i].active);
        CHECK(!b.note[0], "%s: the default model warns: %s", PRESETS[i], b.note);
        /* comparable: every default within 0.8x .. 1.4x the transformer's */
        CHECK(b.pc.total > 0.8 * DEFAULTS[0].total && b.pc.total < 1.4 * DEFAULTS[0].total,
              "%s: %ld parameters is not comparable with the transformer's %ld", PRESETS[i], (long)b.pc.total,
              DEFAULTS[0].total);
    }
    /* the transformer's default is the copy test's model: 2 x *-, width 64, 4 heads */
    ModelArgs a = preset("transformer", 0);
    Built b = build(&a, COPY_VOCAB);
    CHECK(b.cfg.d_model == 64 && b.cfg.n_heads == 4 && b.cfg.d_ff == 256, "transformer default: d_model %d, heads %d",
          b.cfg.d_model, b.cfg.n_heads);
}

static void budgets(void)
{
    for (int i = 0; i < N_PRESETS; i++)
        for (int j = 0; j < N_BUDGETS; j++) {
            ModelArgs a = preset(PRESETS[i], BUDGETS[j]);
            Built b = build(&a, COPY_VOCAB);
            long n = (long)b.pc.total;
            CHECK(b.ok && fabs(miss(n, BUDGETS[j])) <= 5, "%s at %g: %ld parameters, %+.2f%%", PRESETS[i], BUDGETS[j],
                  n, miss(n, BUDGETS[j]));
            CHECK(n == FITTED[i][j], "%s at %g: %ld parameters, docs/patterns.md says %ld", PRESETS[i], BUDGETS[j], n,
                  FITTED[i][j]);
            CHECK(!b.note[0], "%s at %g: unexpected warning: %s", PRESETS[i], BUDGETS[j], b.note);
        }
}

/* Between the tabled budgets too: 30 per decade from 20K to 1B. */
static void budget_sweep(void)
{
    int misses = 0;
    for (int i = 0; i < N_PRESETS; i++)
        for (int k = 0; k <= 141; k++) {
            double budget = round(2e4 * pow(10, k / 30.0));
            if (budget > 1e9) budget = 1e9;
            ModelArgs a = preset(PRESETS[i], budget);
            Built b = build(&a, COPY_VOCAB);
            if (!b.ok || fabs(miss((long)b.pc.total, budget)) > 5 || b.note[0]) {
                misses++;
                fprintf(stderr, "  %s at %.0f: %ld parameters %s\n", PRESETS[i], budget, (long)b.pc.total, b.note);
            }
        }
    CHECK(misses == 0, "%d preset budgets between 20K and 1B missed 5%%", misses);
}

/* experiments/copy_length.json gives --layers 2 --d-model 64 --heads 4 to
 * every cell: the same patterns and counts as before the preset defaults */
static void explicit_sizes_unchanged(void)
{
    struct { const char *name; long total; const char *pattern; } want[] = {
        {"transformer_rope", 133248, "*-*-"}, {"transformer_nope", 133248, "*-*-"}, {"mamba", 67328, "MM"},
        {"hawk", 245888, "R-R-"}, {"griffin", 202368, "R-L-R-L-"},
    };
    for (int i = 0; i < 5; i++) {
        ModelArgs a;
        model_args_defaults(&a);
        a.layers = 2;
        a.d_model = 64;
        a.heads = 4;
        if (i <= 1) strcpy(a.arch, "transformer");
        if (i == 1) strcpy(a.pos, "none");
        if (i == 2) strcpy(a.arch, "mamba");
        if (i == 3) {
            strcpy(a.arch, "hawk");
            a.lru_width = 256;
        }
        if (i == 4) {
            strcpy(a.pattern, "R-L-");
            a.gemma = 1;
            a.soft_cap = 30;
            strcpy(a.act, "gelu");
            a.rotary_frac = 0.5;
            a.kv_heads = 1;
        }
        Built b = build(&a, COPY_VOCAB);
        CHECK(b.ok && (long)b.pc.total == want[i].total && !strcmp(b.cfg.pattern, want[i].pattern),
              "copy_length cell %s: %s with %ld parameters, before %s with %ld", want[i].name, b.cfg.pattern,
              (long)b.pc.total, want[i].pattern, want[i].total);
    }
}

/* --pattern replaces an --arch's layout, not its conventions: --arch griffin --pattern R-R-L- builds what
 * --arch griffin builds (it built a generic model with 4 KV heads, SwiGLU, full RoPE and no soft cap, which
 * two experiments' Griffin cells were until 2026-12-07), and --arch mamba2 --pattern MM Mamba-2 mixers. */
static void pattern_keeps_conventions(void)
{
    ModelArgs a = preset("griffin", 0), p = a;
    a.layers = 1;
    strcpy(p.pattern, "R-R-L-");
    p.layers = 1;
    Built x = build(&a, COPY_VOCAB), y = build(&p, COPY_VOCAB);
    CHECK(x.ok && y.ok && !strcmp(x.cfg.pattern, y.cfg.pattern) && x.pc.total == y.pc.total &&
              y.cfg.n_kv_heads == 1 && y.cfg.logits_soft_cap == 30 && y.cfg.mlp_act == ACT_GELU_TANH &&
              y.cfg.partial_rotary_factor == 0.5 && y.cfg.norm_plus_one && y.cfg.embed_scale > 0,
          "--arch griffin --pattern R-R-L-: kv %d, soft cap %g, rotary %g, %ld parameters against --arch griffin's %ld",
          y.cfg.n_kv_heads, y.cfg.logits_soft_cap, y.cfg.partial_rotary_factor, (long)y.pc.total, (long)x.pc.total);
    ModelArgs m = preset("mamba2", 0);
    strcpy(m.pattern, "MM");
    Built z = build(&m, COPY_VOCAB);
    CHECK(z.ok && z.cfg.mamba == MAMBA2, "--arch mamba2 --pattern MM: Mamba-2 mixers (%d)", z.cfg.mamba);
    ModelArgs t = preset("transformer", 0); /* the default arch adds nothing to a pattern */
    strcpy(t.pattern, "R-L-");
    Built w = build(&t, COPY_VOCAB);
    CHECK(w.ok && w.cfg.n_kv_heads == 4 && w.cfg.logits_soft_cap == 0 && w.cfg.mlp_act == ACT_SILU,
          "--pattern R-L- alone: a generic model (kv %d, soft cap %g)", w.cfg.n_kv_heads, w.cfg.logits_soft_cap);
}

static void warnings(void)
{
    /* a depth the user fixed cannot shrink: the miss is said with its reason */
    ModelArgs a = preset("jamba", 2e4);
    a.layers = 4;
    Built b = build(&a, COPY_VOCAB);
    CHECK(b.ok && b.pc.total == 41420 && strstr(b.note, "--param-budget 2e+04") && strstr(b.note, "+107.1%") &&
              strstr(b.note, "narrowest"),
          "jamba --layers 4 at 20K: %ld parameters, note \"%s\"", (long)b.pc.total, b.note);
    /* the same model without a budget says nothing */
    a.param_budget = 0;
    b = build(&a, COPY_VOCAB);
    CHECK(b.ok && !b.note[0], "jamba --layers 4: note \"%s\"", b.note);
    /* Algorithm 1 at 4 layers and a = 0.08 places no attention: warned, not silent */
    a = preset("mamba2-hybrid", 0);
    a.layers = 4;
    b = build(&a, COPY_VOCAB);
    CHECK(b.ok && !strchr(b.cfg.pattern, '*') && strstr(b.note, "no attention") && strstr(b.note, "--layers 7"),
          "mamba2-hybrid --layers 4: pattern %s, note \"%s\"", b.cfg.pattern, b.note);
    a.attention_ratio = 0; /* asked for none: nothing to say */
    b = build(&a, COPY_VOCAB);
    CHECK(b.ok && !b.note[0], "mamba2-hybrid --attention 0: note \"%s\"", b.note);
    /* --pattern ignores the preset's sizes: 2 repeats at width 64 */
    a = preset("jamba", 0);
    strcpy(a.pattern, "M-");
    b = build(&a, COPY_VOCAB);
    CHECK(b.ok && !strcmp(b.cfg.pattern, "M-M-") && b.cfg.d_model == 64, "--pattern M-: %s at %d", b.cfg.pattern,
          b.cfg.d_model);
}

/* Counting 1B parameters must not allocate them: their weights alone are 4
 * GB in float. The bound leaves room for ASan (about 300 MB here). */
static void no_weights_allocated(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    CHECK(ru.ru_maxrss < 1024 * 1024, "peak memory %ld KiB after fitting 1B-parameter models", ru.ru_maxrss);
}

static void print_tables(void)
{
    printf("| preset | `--layers` counts | default pattern (expanded) | d_model | parameters (active) |\n");
    printf("|---|---|---|---|---|\n");
    for (int i = 0; i < N_PRESETS; i++) {
        ModelArgs a = preset(PRESETS[i], 0);
        Built b = build(&a, COPY_VOCAB);
        printf("| `%s` | | `%s` | %d | %ld", PRESETS[i], b.cfg.pattern, b.cfg.d_model, (long)b.pc.total);
        if (b.pc.active != b.pc.total) printf(" (%ld)", (long)b.pc.active);
        printf(" |\n");
    }
    printf("\n| preset |");
    for (int j = 0; j < N_BUDGETS; j++) printf(" %.0e |", BUDGETS[j]);
    printf("\n|---|");
    for (int j = 0; j < N_BUDGETS; j++) printf("---|");
    printf("\n");
    for (int i = 0; i < N_PRESETS; i++) {
        printf("| `%s` |", PRESETS[i]);
        for (int j = 0; j < N_BUDGETS; j++) {
            ModelArgs a = preset(PRESETS[i], BUDGETS[j]);
            Built b = build(&a, COPY_VOCAB);
            printf(" %ld (%+.1f%%) d%d", (long)b.pc.total, miss((long)b.pc.total, BUDGETS[j]), b.cfg.d_model);
            ModelArgs d = preset(PRESETS[i], 0);
            d.d_model = b.cfg.d_model;
            Built plain = build(&d, COPY_VOCAB);
            if (b.cfg.d_ff != plain.cfg.d_ff) printf(" ff%d", b.cfg.d_ff);
            if (b.cfg.lru_width != plain.cfg.lru_width) printf(" lru%d", b.cfg.lru_width);
            if (strlen(b.cfg.pattern) != strlen(plain.cfg.pattern)) printf(" %s", b.cfg.pattern);
            printf(" |");
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--table")) {
        print_tables();
        return 0;
    }
    defaults();
    budgets();
    budget_sweep();
    explicit_sizes_unchanged();
    pattern_keeps_conventions();
    warnings();
    no_weights_allocated();
    return check_summary();
}

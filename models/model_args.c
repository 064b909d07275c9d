#include "models/model_args.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "models/hf.h"
#include "models/hf_jamba.h"
#include "models/hybrid.h"
#include "models/model.h"
#include "models/pattern.h"

void model_args_defaults(ModelArgs *a)
{
    memset(a, 0, sizeof *a);
    strcpy(a->arch, "transformer");
    a->attn_period = 8;
    a->attn_offset = 4;
    a->expert_period = 2;
    a->expert_offset = 1;
    strcpy(a->mamba, "mamba1");
    strcpy(a->mamba_gate, "silu");
    strcpy(a->mamba_init, "normal");
    a->d_state = 16;
    a->expand = 2;
    a->d_conv = 4;
    a->ssm_head_dim = 16;
    a->n_groups = 1;
    a->chunk = 64;
    a->conv1d_width = 4;
    a->experts = 4;
    a->top_k = 2;
    a->aux_coef = 0.001;
    a->layers = 0;  /* 0: the preset's default (with_preset_sizes) */
    a->d_model = 0;
    a->attention_ratio = 0.08; /* Waleffe et al.'s 8B hybrid */
    a->mlp_ratio = 0.5;
    a->heads = 4;
    a->rope_theta = 10000;
    a->norm_eps = 1e-5;
}

static int build_cfg(const ModelArgs *a, int task_vocab, ModelCfg *c, Err *e);

#define BUDGET_TOLERANCE 0.05

/* Each preset's default model, used for a size left at 0: small models of
 * comparable size (100-190K parameters on the copy task's 29 tokens) and
 * depth, so `--arch A` alone compares like with like (docs/patterns.md: the
 * presets table). A Mamba block of expand 2 has half the weights of an attention +
 * MLP pair, hence 4 M against 2 x *-. Jamba's 8-layer block (a:m 1:7, MoE
 * every other layer) and the hybrid's 8 sublayers only fit at a narrower
 * width. A pattern given by --pattern gets 2 repeats at width 64. */
static const struct { const char *arch; int layers, d_model; } PRESET_SIZES[] = {
    {"transformer", 2, 64}, {"transformer-local", 2, 64}, {"mamba", 4, 64},
    {"mamba2", 4, 64}, {"mamba-lti", 4, 64}, {"hawk", 2, 64},
    {"griffin", 1, 64},       /* one R-R-L-: the paper's two recurrent blocks per local attention */
    {"jamba", 1, 24},         /* one Jamba block of 8 layers */
    {"mamba2-hybrid", 8, 40}, /* the 8B hybrid's 56 layers / 7: M-M-*-M- at a = 0.08, m = 0.5 */
};

static ModelArgs with_preset_sizes(const ModelArgs *a)
{
    ModelArgs r = *a;
    int layers = 2, d_model = 64;
    for (size_t i = 0; !*a->pattern && i < sizeof PRESET_SIZES / sizeof *PRESET_SIZES; i++)
        if (!strcmp(PRESET_SIZES[i].arch, a->arch)) {
            layers = PRESET_SIZES[i].layers;
            d_model = PRESET_SIZES[i].d_model;
        }
    if (!r.layers) r.layers = layers;
    if (!r.d_model) r.d_model = d_model;
    return r;
}

/* the symbols the stack will hold, before it is built (for the width step) */
static const char *stack_symbols(const ModelArgs *a)
{
    if (*a->pattern) return a->pattern;
    if (!strcmp(a->arch, "jamba")) return "M*-E";
    if (!strcmp(a->arch, "mamba2-hybrid")) return "M*-";
    const char *p = pattern_for_arch(a->arch);
    return p ? p : "";
}

static int uses_mamba2(const ModelArgs *a)
{
    if (!strcmp(a->arch, "mamba2") || !strcmp(a->arch, "mamba2-hybrid")) return 1;
    if (!strcmp(a->arch, "mamba-lti")) return 0;
    return !strcmp(a->mamba, "mamba2");
}

static long gcd(long x, long y) { return y ? gcd(y, x % y) : x; }
static long lcm(long x, long y) { return x / gcd(x, y) * y; }

/* The finest width step that keeps every size that follows d_model whole:
 * an even head_dim (RoPE pairs), an RG-LRU width that the gate blocks
 * divide, a Mamba-2 inner width that heads of ssm_head_dim (and groups)
 * divide. A pure Mamba-1 stack can take any width. */
static int width_step(const ModelArgs *a)
{
    const char *s = stack_symbols(a);
    long step = 1;
    if (!a->head_dim && strpbrk(s, "*L")) step = 2L * a->heads;
    if (strchr(s, 'R') && !a->lru_width) step = lcm(step, a->lru_blocks ? a->lru_blocks : a->heads);
    if (strchr(s, 'M') && uses_mamba2(a)) {
        long q = (long)a->ssm_head_dim * a->n_groups;
        step = lcm(step, q / gcd(q, a->expand));
    }
    return step < 65536 ? (int)step : 65536;
}

typedef struct {
    ModelArgs args;
    ModelCfg cfg;
    double n;           /* parameters, 0 = none found */
    double under, over; /* the closest counts seen below and at or above the budget (0 = none) */
} Fit;

/* The exact count from the tensor table alone: no weight is allocated, so a
 * 1B-parameter trial costs microseconds and no memory. */
static double count_params(const ModelArgs *t, int vocab, ModelCfg *c)
{
    Err ignore;
    Model m;
    if (build_cfg(t, vocab, c, &ignore) || model_layout(&m, c, &ignore)) return -1;
    double n = (double)m.n_params;
    model_free(&m);
    return n;
}

static void keep_closer(Fit *best, const ModelArgs *t, const ModelCfg *c, double n, double budget)
{
    if (n <= 0) return;
    if (n < budget && n > best->under) best->under = n;
    if (n >= budget && (!best->over || n < best->over)) best->over = n;
    if (best->n > 0 && fabs(n - budget) >= fabs(best->n - budget)) return;
    best->args = *t;
    best->cfg = *c;
    best->n = n;
}

/* Closest value of one size (the int at `field`, k x unit for k in [1, kmax])
 * to the budget, all else fixed. The count grows with every size, so a
 * binary search finds the first k at or above the budget; an invalid k is
 * skipped upward, a few units at most. Then the valid values on either side
 * of the budget compete. */
static void search_size(const ModelArgs *a, size_t field, int unit, int kmax, int vocab, double budget, Fit *best)
{
    ModelArgs t = *a;
    int *size = (int *)((char *)&t + field);
    ModelCfg c;
    int lo = 1, hi = kmax + 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, k;
        double n = -1;
        for (k = mid; k <= kmax && k < mid + 8; k++) {
            *size = k * unit;
            if ((n = count_params(&t, vocab, &c)) >= 0) break;
        }
        if (n >= 0 && n < budget) lo = k + 1; /* mid .. k-1 are invalid, k is under: so is all below */
        else hi = mid;
    }
    for (int k = lo - 1; k >= 1 && k > lo - 9; k--) { /* the nearest valid value under the budget */
        *size = k * unit;
        double n = count_params(&t, vocab, &c);
        if (n >= 0) { keep_closer(best, &t, &c, n, budget); break; }
    }
    for (int k = lo; k <= kmax && k < lo + 8; k++) { /* ... and at or over it */
        *size = k * unit;
        double n = count_params(&t, vocab, &c);
        if (n >= 0) { keep_closer(best, &t, &c, n, budget); break; }
    }
}

static double miss(double n, double budget) { return (n - budget) / budget; }

/* Width first; when that misses by more than the tolerance, the free sizes
 * that follow d_model (d_ff, lru_width) are tuned at the widths on both
 * sides of the budget. */
static void fit_at_depth(const ModelArgs *a, int vocab, double budget, Fit *best)
{
    int step = width_step(a);
    Fit w = {.n = 0};
    ModelArgs t = *a;
    search_size(&t, offsetof(ModelArgs, d_model), step, 65536 / step, vocab, budget, &w);
    if (w.n <= 0) return;
    keep_closer(best, &w.args, &w.cfg, w.n, budget);
    if (w.under > best->under) best->under = w.under;
    if (w.over && (!best->over || w.over < best->over)) best->over = w.over;
    if (fabs(miss(w.n, budget)) <= BUDGET_TOLERANCE) return;
    const char *s = stack_symbols(a);
    int tune_ff = !a->d_ff && (strchr(s, '-') || (strchr(s, 'E') && !a->expert_d_ff));
    int tune_lru = !a->lru_width && strchr(s, 'R');
    int d = w.args.d_model;
    for (int side = -1; side <= 1; side += 2) { /* the width under and over the budget */
        t = *a;
        t.d_model = d + (w.n < budget ? (side > 0 ? step : 0) : (side > 0 ? 0 : -step));
        if (t.d_model < 1) continue;
        if (tune_ff) { /* d_ff up to 16 x d_model, in steps of 8 (of 1 below width 64, where 8 is a large step) */
            int unit = t.d_model >= 64 ? 8 : 1;
            search_size(&t, offsetof(ModelArgs, d_ff), unit, 16 * t.d_model / unit, vocab, budget, best);
        }
        if (tune_lru) {
            int unit = a->lru_blocks ? a->lru_blocks : a->heads;
            search_size(&t, offsetof(ModelArgs, lru_width), unit, 8 * t.d_model / unit + 1, vocab, budget, best);
        }
    }
}

/* --param-budget: the model closest to the budget, within 5% wherever the
 * sizes allow. Width, then the sizes that follow it; then, when --layers was
 * not given, the depth: the nearest depth to the preset's that lands within
 * 5%. A miss that remains is said in *note with its reason. */
static int fit_budget(const ModelArgs *given, const ModelArgs *a, int task_vocab, ModelCfg *c, char *note, size_t cap,
                      Err *e)
{
    double budget = a->param_budget;
    ModelArgs t = *a;
    t.param_budget = 0;
    Fit best = {.n = 0};
    fit_at_depth(&t, task_vocab, budget, &best);
    if (best.n > 0 && fabs(miss(best.n, budget)) > BUDGET_TOLERANCE && !given->layers) {
        Fit depth = {.n = 0};
        for (int dist = 1; dist <= 2 * a->layers + 4 && !(depth.n > 0); dist++)
            for (int side = -1; side <= 1; side += 2) {
                t.layers = a->layers + side * dist;
                if (t.layers < 1 || t.layers > SEQ_MAX_SUBLAYERS) continue;
                Fit f = {.n = 0};
                fit_at_depth(&t, task_vocab, budget, &f);
                if (f.n > 0 && fabs(miss(f.n, budget)) <= BUDGET_TOLERANCE) keep_closer(&depth, &f.args, &f.cfg, f.n, budget);
            }
        if (depth.n > 0) best = depth;
    }
    if (best.n <= 0) {
        /* the error of the given width names what is wrong (e.g. a vocabulary of 0) */
        t.layers = a->layers;
        if (build_cfg(&t, task_vocab, c, e)) return -1;
        return err_set(e, "--param-budget %g: no width gives a valid model", budget);
    }
    *c = best.cfg;
    double m = miss(best.n, budget);
    if (fabs(m) > BUDGET_TOLERANCE) {
        char why[160];
        if (!best.over)
            snprintf(why, sizeof why, "no model of this depth up to width 65536 is larger");
        else if (!best.under)
            snprintf(why, sizeof why, "%zu sublayers at the narrowest valid width, %d, are already more",
                     strlen(c->pattern), c->d_model);
        else
            snprintf(why, sizeof why, "the sizes step from %+.1f%% to %+.1f%% here", 100 * miss(best.under, budget),
                     100 * miss(best.over, budget));
        snprintf(note, cap, "--param-budget %.4g: the closest %s (pattern %s, d_model %d) has %.0f parameters, %+.1f%%: %s",
                 budget, *a->pattern ? "pattern" : a->arch, c->pattern, c->d_model, best.n, 100 * m, why);
    }
    return 0;
}

/* Algorithm 1 rounds L x a to the nearest integer: below L = 0.5 / a it
 * places no attention layer, which would silently make a pure Mamba-2 stack. */
static void hybrid_note(const ModelArgs *a, const ModelCfg *c, char *note, size_t cap)
{
    if (*a->pattern || strcmp(a->arch, "mamba2-hybrid") || !(a->attention_ratio > 0) || strchr(c->pattern, '*')) return;
    int need = 1; /* round half to even: L x a = 0.5 still rounds to 0 */
    while (need < SEQ_MAX_SUBLAYERS && !(need * a->attention_ratio > 0.5)) need++;
    size_t used = strlen(note);
    snprintf(note + used, cap - used, "%smamba2-hybrid: %d layers x attention ratio %g rounds to no attention layer "
             "(pattern %s); --layers %d or more places one", used ? "; " : "", (int)strlen(c->pattern),
             a->attention_ratio, c->pattern, need);
}

int model_args_build(const ModelArgs *given, int task_vocab, ModelCfg *c, char *note, size_t cap, Err *e)
{
    ModelArgs a = with_preset_sizes(given);
    note[0] = '\0';
    if (a.param_budget > 0 ? fit_budget(given, &a, task_vocab, c, note, cap, e) : build_cfg(&a, task_vocab, c, e))
        return -1;
    hybrid_note(&a, c, note, cap);
    return 0;
}

int model_args_to_cfg(const ModelArgs *a, int task_vocab, ModelCfg *c, Err *e)
{
    char note[512];
    if (model_args_build(a, task_vocab, c, note, sizeof note, e)) return -1;
    if (*note) fprintf(stderr, "seqbench: warning: %s\n", note);
    return 0;
}

static int build_cfg(const ModelArgs *a, int task_vocab, ModelCfg *c, Err *e)
{
    cfg_defaults(c);
    const char *pat = a->pattern;
    char hybrid[SEQ_MAX_SUBLAYERS + 1];
    int repeats = a->layers;
    if (!*pat && !strcmp(a->arch, "mamba2-hybrid")) { /* Waleffe et al.'s Algorithm 1 over all --layers */
        if (hybrid_allocate(a->layers, a->attention_ratio, a->mlp_ratio, hybrid, sizeof hybrid, e)) return -1;
        pat = hybrid;
        repeats = 1;
    } else if (!*pat && !strcmp(a->arch, "jamba")) { /* --layers repeats of one attention period of Jamba layers */
        if ((long long)a->layers * a->attn_period > SEQ_MAX_SUBLAYERS / 2)
            return err_set(e, "jamba: %d x %d layers is more than %d", a->layers, a->attn_period, SEQ_MAX_SUBLAYERS / 2);
        if (hf_jamba_pattern(a->layers * a->attn_period, a->attn_period, a->attn_offset, a->expert_period, a->expert_offset, a->experts,
                             hybrid, sizeof hybrid, e))
            return -1;
        pat = hybrid;
        repeats = 1;
    } else if (!*pat) {
        pat = pattern_for_arch(a->arch);
        if (!pat) return err_set(e, "unknown architecture \"%s\" (known: %s)", a->arch, pattern_arch_list());
    }
    if (pattern_expand(pat, repeats, c->pattern, sizeof c->pattern, e)) return -1;
    c->vocab_size = a->vocab ? a->vocab : task_vocab;
    if (a->pad_vocab > 1) c->vocab_size = (c->vocab_size + a->pad_vocab - 1) / a->pad_vocab * a->pad_vocab;
    if (a->vocab && a->vocab < task_vocab)
        return err_set(e, "--vocab %d is smaller than the %d tokens the task uses", a->vocab, task_vocab);
    c->d_model = a->d_model;
    c->n_heads = a->heads;
    c->n_kv_heads = a->kv_heads ? a->kv_heads : a->heads;
    /* only attention splits d_model into heads (R's gate blocks are checked against lru_width) */
    if (!a->head_dim && strpbrk(c->pattern, "*L") && a->d_model % a->heads)
        return err_set(e, "--heads %d does not divide --d-model %d (give --head-dim to choose the head size)", a->heads,
                       a->d_model);
    c->head_dim = a->head_dim ? a->head_dim : (a->d_model / a->heads > 0 ? a->d_model / a->heads : 1);
    /* an --arch's conventions hold with or without --pattern, which replaces its layout alone: `--arch griffin
     * --pattern R-R-L-R-R-` is a Griffin of another layout (it used to be a generic model with Griffin's layout) */
    int griffin_family = !strcmp(a->arch, "hawk") || !strcmp(a->arch, "griffin");
    const char *act = *a->act ? a->act : griffin_family ? "gelu" : "silu";
    if (!strcmp(act, "silu") || !strcmp(act, "swiglu")) c->mlp_act = ACT_SILU;
    else if (!strcmp(act, "gelu") || !strcmp(act, "geglu")) c->mlp_act = ACT_GELU_TANH;
    else return err_set(e, "--act must be silu or gelu (got \"%s\")", a->act);
    c->d_ff = a->d_ff ? a->d_ff : (c->mlp_act == ACT_SILU ? 4 : 3) * a->d_model;
    int jamba = !strcmp(a->arch, "jamba");
    const char *pos = *a->pos ? a->pos : jamba ? "none" : "rope";
    if (!strcmp(pos, "rope")) c->pos_encoding = POS_ROPE;
    else if (!strcmp(pos, "none")) c->pos_encoding = POS_NONE;
    else return err_set(e, "--pos must be rope or none (got \"%s\")", pos);
    c->rope_theta = a->rope_theta;
    c->partial_rotary_factor = a->rotary_frac > 0 ? a->rotary_frac : griffin_family ? 0.5 : 1;
    c->window = a->window;
    if (strchr(c->pattern, 'L') && !c->window) c->window = 64;
    c->tie_embeddings = !a->untie;
    if (!strcmp(a->mamba, "mamba1")) c->mamba = MAMBA1;
    else if (!strcmp(a->mamba, "lti")) c->mamba = MAMBA_LTI;
    else if (!strcmp(a->mamba, "mamba2")) c->mamba = MAMBA2;
    else return err_set(e, "--mamba must be mamba1, lti or mamba2 (got \"%s\")", a->mamba);
    if (!strcmp(a->arch, "mamba2") || !strcmp(a->arch, "mamba2-hybrid")) c->mamba = MAMBA2;
    if (!strcmp(a->arch, "mamba-lti")) c->mamba = MAMBA_LTI;
    if (strcmp(a->mamba_gate, "silu") && strcmp(a->mamba_gate, "none"))
        return err_set(e, "--mamba-gate must be silu or none (got \"%s\")", a->mamba_gate);
    c->mamba_no_gate = !strcmp(a->mamba_gate, "none");
    if (strcmp(a->mamba_init, "normal") && strcmp(a->mamba_init, "mamba_ssm"))
        return err_set(e, "--mamba-init must be normal or mamba_ssm (got \"%s\")", a->mamba_init);
    c->mamba_init_ssm = !strcmp(a->mamba_init, "mamba_ssm");
    c->d_state = a->d_state;
    c->expand = a->expand;
    c->d_conv = a->d_conv;
    c->dt_rank = a->dt_rank;
    c->mamba_inner_norms = a->inner_norms;
    c->ssm_head_dim = a->ssm_head_dim;
    c->n_groups = a->n_groups;
    c->chunk_size = a->chunk;
    c->n_experts = a->experts;
    c->experts_per_tok = a->top_k;
    c->expert_d_ff = a->expert_d_ff;
    c->router_renormalize = a->renormalize;
    c->router_aux_coef = a->aux_coef;
    c->lru_width = a->lru_width;
    c->rglru_heads = a->lru_blocks;
    c->conv1d_width = a->conv1d_width;
    c->logits_soft_cap = a->soft_cap;
    /* Hawk and Griffin as the paper and RecurrentGemma build them: GeGLU of
     * expansion 3, MQA local attention with half-rotary RoPE, Gemma norms,
     * biases, sqrt(D) embedding scale and a soft cap of 30 (each still
     * overridable by its option). */
    if (jamba) c->mamba_inner_norms = 1; /* Jamba's RMSNorm on dt, B, C */
    if (griffin_family) {
        if (!a->kv_heads) c->n_kv_heads = 1;
        if (!a->soft_cap) c->logits_soft_cap = 30;
    }
    if (a->gemma || griffin_family) {
        c->norm_plus_one = c->mlp_bias = c->attn_out_bias = 1;
        c->embed_scale = cfg_bf16_round(sqrt((double)c->d_model)); /* as the HF model's normalizer buffer */
    }
    c->norm_eps = a->norm_eps;
    if (cfg_validate(c, e)) return -1;
    hf_choose_model_type(c);
    return 0;
}

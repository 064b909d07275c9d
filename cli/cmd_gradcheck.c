/* seqbench gradcheck: finite-difference checks of the hand-written backward
 * passes, in double precision (this file is compiled against the double
 * build of models/; see core/real.h). Exit status: 0 every check passed,
 * 1 a backward disagrees with finite differences, 2 bad input, 3 nothing
 * failed but finite differences could not check some part (the loss is not
 * smooth enough there; models/gradcheck.h says when). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "core/threads.h"
#include "models/gradcheck.h"

/* The parts of this configuration whose loss bends sharply or jumps, for
 * the line that says why a check could not be made (fits in 256). */
static void rough_parts(const ModelCfg *c, const char *pattern, char *out, size_t cap)
{
    int n = snprintf(out, cap, "the loss is not smooth near them");
    if (strchr(pattern, 'E') && c->experts_per_tok < c->n_experts)
        n += snprintf(out + n, cap - n, "; top-%d of %d MoE routing switches experts where router scores tie",
                      c->experts_per_tok, c->n_experts);
    if (strchr(pattern, 'M') && c->mamba == MAMBA1 && c->mamba_inner_norms && cfg_dt_rank(c) == 1)
        snprintf(out + n, cap - n, "; dt_rank 1: the RMSNorm over one δ is a step %.1e wide (try --dt-rank 4)",
                 2 * sqrt(c->norm_eps));
}

static GradVerdict print_report(const char *title, const GradReport *r, int verbose)
{
    GradVerdict v = gradcheck_verdict(r);
    const char *word[] = {"ok", "FAIL", "cannot check"};
    printf("%-44s max rel err %.3e over %ld coords", title, r->max_rel_err, r->checked);
    if (r->unresolved) printf(" (+%ld unresolved)", r->unresolved);
    printf("  %s\n", word[v]);
    for (int i = 0; i < r->n; i++) {
        const GradEntry *g = &r->entry[i];
        if (!verbose && g->max_rel_err <= r->tol && !g->unresolved) continue;
        printf("    %-52s %.3e (%ld", g->name, g->max_rel_err, g->checked);
        if (g->unresolved) printf(", %ld unresolved", g->unresolved);
        printf(")%s\n", g->max_rel_err > r->tol ? "  FAIL" : "");
    }
    if (r->unlisted) printf("    (%d more tensors, counted above)\n", r->unlisted);
    return v;
}

typedef struct { int failed, blind; char why[SEQ_MAX_SUBLAYERS + 512]; } Totals;

/* prints one check and adds its verdict to the totals; `pattern` is what it covered */
static void conclude(Totals *t, const char *title, const GradReport *r, const ModelCfg *c, const char *pattern,
                     int verbose)
{
    GradVerdict v = print_report(title, r, verbose);
    t->failed |= v == GRAD_FAIL;
    if (v != GRAD_INCONCLUSIVE || t->blind++) return;
    char rough[256], none[64] = "";
    rough_parts(c, pattern, rough, sizeof rough);
    if (r->blind) snprintf(none, sizeof none, ", %d tensor%s with none judged", r->blind, r->blind > 1 ? "s" : "");
    snprintf(t->why, sizeof t->why, "%s: %ld of %ld coordinates unresolved%s (%s)", title, r->unresolved,
             r->unresolved + r->checked, none, rough);
}

int cmd_gradcheck(int argc, char **argv)
{
    ModelArgs ma;
    model_args_defaults(&ma);
    /* tiny sizes: every path of every sublayer, a deep model in seconds.
     * dt_rank 4, not ceil(16/16) = 1: Jamba's RMSNorm over a single δ is
     * ±w almost everywhere, which tells little about the δ path; chunk 4 <
     * seq-len, so Mamba-2's SSD crosses chunk boundaries. */
    ma.d_model = 16;
    ma.heads = 4;
    ma.kv_heads = 2;
    ma.d_ff = 24;
    ma.window = 3;
    ma.d_state = 4;
    ma.dt_rank = 4;
    ma.chunk = 4;
    char what[32] = "all";
    int verbose = 0, threads = 1, vocab = 11;
    GradOpts go = {.B = 2, .T = 7, .samples = 0, .seed = 1, .tol = 1e-6};
    Option opts[MODEL_OPTIONS_N + 12];
    int n = model_options(&ma, opts);
    Option more[] = {
        OPT_S("what", what, "all, model, rmsnorm, ce, or a pattern symbol (* L - M R E)"),
        OPT_I("batch", &go.B, 1, 64, "sequences"),
        OPT_I("seq-len", &go.T, 1, 512, "tokens per sequence"),
        OPT_I("samples", &go.samples, 0, 1 << 30,
              "coordinates checked per tensor (0: 64, and for a whole model about 2048 in all, 4 per tensor at least)"),
        OPT_D("tol", &go.tol, 1e-12, 1, "largest relative error that passes"),
        OPT_U("seed", &go.seed, "seed for weights and inputs"),
        OPT_I("threads", &threads, 0, 1024, "threads (0 = all cores)"),
        OPT_F("verbose", &verbose, "list every tensor (else only those that fail or have unresolved coordinates)"),
    };
    _Static_assert(sizeof more / sizeof *more <= 12, "opts[] too small for these options");
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    Err e = {{0}};
    const char *usage = "[--what all|model|rmsnorm|ce|SYMBOL] [sizes]\n"
                        "exit status: 0 passed, 1 a backward failed, 2 bad input, 3 inconclusive (FD could not check)";
    int rc = options_parse(opts, n, argc, argv, 2, "gradcheck", usage, &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    int all = !strcmp(what, "all"), known = all || !strcmp(what, "model") || !strcmp(what, "rmsnorm") ||
                                           !strcmp(what, "ce") || (strlen(what) == 1 && strchr("*L-MRE", what[0]));
    if (!known) die("gradcheck: --what must be all, model, rmsnorm, ce, or one of * L - M R E (got \"%s\")", what);
    threads_init(threads);
    ModelCfg cfg;
    if (model_args_to_cfg(&ma, ma.vocab ? ma.vocab : vocab, &cfg, &e)) die_err(&e);
    Totals tot = {0};
    GradReport r;
    if (all || !strcmp(what, "rmsnorm")) {
        gradcheck_rmsnorm(go.B * go.T, cfg.d_model, 0, &go, &r);
        conclude(&tot, "rmsnorm (w)", &r, &cfg, "", verbose);
        gradcheck_rmsnorm(go.B * go.T, cfg.d_model, 1, &go, &r);
        conclude(&tot, "rmsnorm (1 + w)", &r, &cfg, "", verbose);
    }
    if (all || !strcmp(what, "ce")) {
        gradcheck_cross_entropy(go.B * go.T, cfg.vocab_size, &go, &r);
        conclude(&tot, "cross-entropy", &r, &cfg, "", verbose);
    }
    for (const char *s = "*L-MRE"; *s; s++) {
        if (!all && !(strlen(what) == 1 && what[0] == *s)) continue;
        char title[64], symbol[2] = {*s, 0};
        snprintf(title, sizeof title, "sublayer '%c'", *s);
        if (gradcheck_sublayer(&cfg, *s, &go, &r, &e)) die_err(&e);
        conclude(&tot, title, &r, &cfg, symbol, verbose);
    }
    if (all || !strcmp(what, "model")) {
        if (gradcheck_model(&cfg, &go, &r, &e)) die_err(&e);
        char title[64 + SEQ_MAX_SUBLAYERS];
        snprintf(title, sizeof title, "model %s", cfg.pattern);
        conclude(&tot, title, &r, &cfg, cfg.pattern, verbose);
    }
    if (tot.failed) {
        printf("GRADIENT CHECK FAILED\n");
        return 1;
    }
    if (tot.blind) {
        printf("gradient check inconclusive, nothing failed: finite differences could not check %s%s\n", tot.why,
               tot.blind > 1 ? " and more above" : "");
        return 3;
    }
    printf("all gradient checks passed\n");
    return 0;
}

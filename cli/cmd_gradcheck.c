/* seqbench gradcheck: finite-difference checks of the hand-written backward
 * passes, in double precision (this file is compiled against the double
 * build of models/; see core/real.h). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/threads.h"
#include "models/gradcheck.h"

static int print_report(const char *title, const GradReport *r, double tol)
{
    int ok = r->max_rel_err <= tol;
    printf("%-44s max rel err %.3e over %ld coords  %s\n", title, r->max_rel_err, r->checked, ok ? "ok" : "FAIL");
    for (int i = 0; i < r->n; i++)
        printf("    %-40s %.3e (%ld)\n", r->entry[i].name, r->entry[i].max_rel_err, r->entry[i].checked);
    return ok;
}

int cmd_gradcheck(int argc, char **argv)
{
    ModelArgs ma;
    model_args_defaults(&ma);
    ma.d_model = 16;
    ma.heads = 4;
    ma.kv_heads = 2;
    ma.d_ff = 24;
    ma.window = 3;
    char what[32] = "all";
    int B = 2, T = 7, samples = 64, threads = 1, vocab = 11;
    double tol = 1e-6;
    uint64_t seed = 1;
    Option opts[MODEL_ARGS_N_OPTIONS + 12];
    int n = model_args_options(&ma, opts);
    Option more[] = {
        OPT_S("what", what, "all, model, rmsnorm, ce, or a pattern symbol (* L - M R E)"),
        OPT_I("batch", &B, 1, 64, "sequences"),
        OPT_I("seq-len", &T, 1, 512, "tokens per sequence"),
        OPT_I("samples", &samples, 1, 1 << 30, "coordinates checked per tensor"),
        OPT_D("tol", &tol, 0, 1, "largest relative error that passes"),
        OPT_U("seed", &seed, "seed for weights and inputs"),
        OPT_I("threads", &threads, 0, 1024, "threads (0 = all cores)"),
    };
    _Static_assert(sizeof more / sizeof *more <= 12, "opts[] too small for these options");
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "gradcheck", "[--what all|model|rmsnorm|ce|SYMBOL] [sizes]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    threads_init(threads);
    ModelCfg cfg;
    if (model_args_to_cfg(&ma, ma.vocab ? ma.vocab : vocab, &cfg, &e)) die_err(&e);
    int all = !strcmp(what, "all"), ok = 1, ran = 0;
    GradReport r;
    if (all || !strcmp(what, "rmsnorm")) {
        gradcheck_rmsnorm(B * T, cfg.d_model, 0, seed, &r);
        ok &= print_report("rmsnorm (w)", &r, tol);
        gradcheck_rmsnorm(B * T, cfg.d_model, 1, seed, &r);
        ok &= print_report("rmsnorm (1 + w)", &r, tol);
        ran = 1;
    }
    if (all || !strcmp(what, "ce")) {
        gradcheck_cross_entropy(B * T, cfg.vocab_size, seed, &r);
        ok &= print_report("cross-entropy", &r, tol);
        ran = 1;
    }
    for (const char *s = "*L-MRE"; *s; s++) {
        if (!all && !(strlen(what) == 1 && what[0] == *s)) continue;
        char title[64];
        snprintf(title, sizeof title, "sublayer '%c'", *s);
        if (gradcheck_sublayer(&cfg, *s, B, T, samples, seed, &r, &e)) die_err(&e);
        ok &= print_report(title, &r, tol);
        ran = 1;
    }
    if (all || !strcmp(what, "model")) {
        if (gradcheck_model(&cfg, B, T, samples, seed, &r, &e)) die_err(&e);
        char title[64 + SEQ_MAX_SUBLAYERS];
        snprintf(title, sizeof title, "model %s", cfg.pattern);
        ok &= print_report(title, &r, tol);
        ran = 1;
    }
    if (!ran) die("gradcheck: --what must be all, model, rmsnorm, ce, or one of * L - M R E (got \"%s\")", what);
    printf("%s\n", ok ? "all gradient checks passed" : "GRADIENT CHECK FAILED");
    return ok ? 0 : 1;
}

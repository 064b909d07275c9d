/* Golden tests: checkpoints and logits made by the PyTorch reference
 * (scripts/golden/llama_reference.py, written from the equations) must be
 * reproduced by both the parallel forward and the decode path within 1e-4
 * relative (max |ours - reference| / max |reference|). The bf16 and f16
 * cases check the dtype conversion of the safetensors reader; the seqbench
 * cases (scripts/golden/seqbench_reference.py) cover local attention past its
 * window, partial rotary, no positional encoding and GeGLU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/jsonio.h"
#include "models/hf.h"

static const char *CASES[] = {
    "llama_gqa", "llama_mqa_tied", "llama_mha_headdim", "llama_gqa_bf16", "llama_gqa_f16", /* llama_reference.py */
    "seqbench_local_partial", "seqbench_nope_gqa", "seqbench_local_only",                  /* seqbench_reference.py */
    "mamba_tied", "mamba_untied",                                                          /* mamba_reference.py */
    "mamba2_g1", "mamba2_g2",                                                              /* mamba2_reference.py */
    "recurrent_gemma_griffin", "recurrent_gemma_hawk",                                     /* recurrent_gemma_reference.py */
    "jamba_small", "jamba_tied_top1",                                                      /* jamba_reference.py */
};

static double compare(const real *ours, const cJSON *rows, int T, int V)
{
    double diff = 0, scale = 0;
    int t = 0;
    for (const cJSON *row = rows->child; row; row = row->next, t++) {
        int v = 0;
        for (const cJSON *x = row->child; x; x = x->next, v++) {
            if (t >= T || v >= V) return INFINITY;
            diff = fmax(diff, fabs(ours[(size_t)t * V + v] - x->valuedouble));
            scale = fmax(scale, fabs(x->valuedouble));
        }
        if (v != V) return INFINITY;
    }
    return t == T ? diff / scale : INFINITY;
}

static void run_case(const char *root, const char *name)
{
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/tests/golden/%s", root, name);
    Err e;
    Model m;
    if (hf_load(&m, dir, &e)) { CHECK(0, "%s: %s", name, e.msg); return; }
    snprintf(path, sizeof path, "%s/tokens.json", dir);
    cJSON *tj = json_read_file(path, &e), *lj;
    int *tok = NULL;
    long T = tj ? json_read_int_array(tj, m.cfg.vocab_size, 1 << 20, &tok, path, &e) : -1;
    snprintf(path, sizeof path, "%s/logits.json", dir);
    lj = json_read_file(path, &e);
    const cJSON *rows = lj ? cJSON_GetObjectItemCaseSensitive(lj, "logits") : NULL;
    CHECK(T > 0 && rows, "%s: reading golden files: %s", name, e.msg);
    if (T > 0 && rows) {
        int V = m.cfg.vocab_size;
        CHECK(model_reserve(&m, 1, (int)T, &e) == 0, "%s", e.msg);
        model_forward(&m, tok, 1, (int)T);
        double err = compare(m.logits, rows, (int)T, V);
        CHECK(err <= 1e-4, "%s parallel: rel err %.3e", name, err);
        double err_parallel = err;
        Decoder d;
        CHECK(decoder_create(&d, &m, 1, (int)T, &e) == 0, "%s", e.msg);
        real *steps = malloc(sizeof(real) * (size_t)T * V);
        for (long t = 0; t < T; t++) {
            decoder_step(&d, &tok[t], &e);
            memcpy(steps + (size_t)t * V, d.logits, sizeof(real) * V);
        }
        err = compare(steps, rows, (int)T, V);
        CHECK(err <= 1e-4, "%s step: rel err %.3e", name, err);
        printf("%-24s T=%-3ld V=%-3d rel err parallel %.2e step %.2e\n", name, T, V, err_parallel, err);
        free(steps);
        decoder_free(&d);
    }
    free(tok);
    cJSON_Delete(tj);
    cJSON_Delete(lj);
    model_free(&m);
}

int main(void)
{
    const char *root = getenv("SEQ_SOURCE_DIR");
    if (!root) root = ".";
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) run_case(root, CASES[i]);
    return check_summary();
}

/* decoder_prefill hands over to the step path: prefilling T tokens and then
 * stepping gives the logits of stepping all the way, within 1e-5 relative,
 * for every sublayer family (* L M R - E, Mamba-1, its LTI ablation and
 * Mamba-2), for prompts shorter than the conv window, past the local
 * attention window (the ring has wrapped) and in chunks of sequences; and
 * decoder_prefill_shared (one forward, its state copied to every sequence)
 * gives what stepping B sequences with the same prompt gives, after which
 * each sequence steps on with tokens of its own (its state copied, not
 * derived again, through SubOps.state_first). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rel_err.h"
#include "core/rng.h"
#include "models/model.h"

#define EXTRA 5 /* steps after the prefill */

static void check_case(const char *name, ModelCfg c, int B, int T, int max_batch, int shared)
{
    Err e;
    Model m;
    if (model_create(&m, &c, &e)) { CHECK(0, "%s: %s", name, e.msg); return; }
    model_init_weights(&m, 5);
    for (int l = 0; l < m.n_layers; l++) { /* a shared prefill copies each state through its two arrays */
        const SubOps *o = m.layers[l].sub.ops;
        if (!o->prefill_state) continue;
        CHECK(o->state_first && o->state_first(&c, T + EXTRA) < o->state_size(&c, 1, T + EXTRA),
              "%s: %s keeps a state but does not say where its second array starts", name, o->name);
        if (!o->state_first) { model_free(&m); return; }
    }
    Rng r = rng_fork(7, 0);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += (real)(0.3 * rng_normal(&r));
    int ctx = T + EXTRA, V = c.vocab_size;
    int *tok = malloc(sizeof(int) * (size_t)B * ctx), *prompt = malloc(sizeof(int) * (size_t)B * (T + 1)), step_tok[8];
    for (int i = 0; i < B * ctx; i++) tok[i] = (int)rng_below(&r, (uint32_t)V);
    for (int b = 1; shared && b < B; b++) memcpy(tok + (size_t)b * ctx, tok, sizeof(int) * T);
    for (int b = 0; b < B; b++) memcpy(prompt + (size_t)b * T, tok + (size_t)b * ctx, sizeof(int) * T);
    Decoder ref, pre;
    CHECK(decoder_create(&ref, &m, B, ctx, &e) == 0, "%s: %s", name, e.msg);
    CHECK(decoder_create(&pre, &m, B, ctx, &e) == 0, "%s: %s", name, e.msg);
    real *want = malloc(sizeof(real) * (size_t)(EXTRA + 1) * B * V);
    for (int t = 0; t < ctx; t++) { /* the reference: every token through decoder_step */
        for (int b = 0; b < B; b++) step_tok[b] = tok[(size_t)b * ctx + t];
        CHECK(decoder_step(&ref, step_tok, &e) == 0, "%s: %s", name, e.msg);
        if (t >= T - 1) memcpy(want + (size_t)(t - T + 1) * B * V, ref.logits, sizeof(real) * B * V);
    }
    int rc = shared ? decoder_prefill_shared(&pre, prompt, T, &e) : decoder_prefill(&pre, prompt, T, max_batch, &e);
    CHECK(rc == 0, "%s: %s", name, e.msg);
    CHECK(pre.pos == T, "%s: pos %d after a prefill of %d", name, pre.pos, T);
    double worst = rel_err(pre.logits, want, (size_t)B * V);
    CHECK(worst <= 1e-5, "%s: prefill's last logits vs stepping: rel err %.3e", name, worst);
    for (int t = T; t < ctx; t++) {
        for (int b = 0; b < B; b++) step_tok[b] = tok[(size_t)b * ctx + t];
        CHECK(decoder_step(&pre, step_tok, &e) == 0, "%s: %s", name, e.msg);
        double err = rel_err(pre.logits, want + (size_t)(t - T + 1) * B * V, (size_t)B * V);
        CHECK(err <= 1e-5, "%s: step %d after the prefill: rel err %.3e", name, t, err);
    }
    /* a second prefill starts from a reset state, whatever the decoder held */
    rc = shared ? decoder_prefill_shared(&pre, prompt, T, &e) : decoder_prefill(&pre, prompt, T, max_batch, &e);
    CHECK(rc == 0, "%s: %s", name, e.msg);
    worst = rel_err(pre.logits, want, (size_t)B * V);
    CHECK(worst <= 1e-5, "%s: second prefill: rel err %.3e", name, worst);
    CHECK(decoder_prefill(&pre, prompt, ctx + 1, max_batch, &e) == -1, "%s: a prefill past the context must fail",
          name);
    CHECK(decoder_prefill_shared(&pre, prompt, ctx + 1, &e) == -1, "%s: a shared prefill past the context must fail",
          name);
    decoder_free(&ref);
    decoder_free(&pre);
    free(want);
    free(prompt);
    free(tok);
    model_free(&m);
}

int main(void)
{
    ModelCfg c;
    cfg_defaults(&c);
    c.vocab_size = 19;
    c.d_model = 32;
    c.n_heads = 4;
    c.head_dim = 8;
    c.d_ff = 48;
    c.window = 5;
    c.d_state = 6;
    c.d_conv = 4;
    c.dt_rank = 3;
    c.ssm_head_dim = 8;
    c.n_groups = 2;
    struct { const char *name, *pattern; MambaVariant mamba; int kv, lru, inner_norms, B, T, max_batch, groups; } cases[] = {
        {"transformer GQA", "*-*-", MAMBA1, 2, 0, 0, 3, 17, 0, 0},
        {"transformer MQA, chunks of 2", "*-", MAMBA1, 1, 0, 0, 3, 9, 2, 0},
        {"local W=5, prompt past the window", "L-L-", MAMBA1, 1, 0, 0, 2, 23, 0, 0},
        {"local W=5, prompt inside the window", "L-", MAMBA1, 2, 0, 0, 2, 3, 0, 0},
        {"mamba1", "MM", MAMBA1, 2, 0, 0, 3, 14, 0, 0},
        {"mamba1, prompt shorter than the conv", "MM", MAMBA1, 2, 0, 0, 3, 2, 0, 0},
        {"mamba1 Jamba flavour, chunks of 1", "M*-M", MAMBA1, 2, 0, 1, 3, 11, 1, 0},
        {"mamba lti", "MM", MAMBA_LTI, 2, 0, 0, 3, 13, 2, 0},
        {"mamba2", "MM", MAMBA2, 2, 0, 0, 3, 12, 0, 0},
        {"mamba2, one token", "M-", MAMBA2, 2, 0, 0, 2, 1, 0, 0},
        /* one sequence, one group: with 2 threads the inference forward splits the group's heads in parts */
        {"mamba2, batch 1, one group", "MM", MAMBA2, 2, 0, 0, 1, 13, 0, 1},
        {"hawk", "R-R-", MAMBA1, 2, 24, 0, 3, 15, 2, 0},
        {"griffin", "R-R-L-", MAMBA1, 1, 24, 0, 2, 21, 0, 0},
        {"Jamba-style MoE", "M-ME*E", MAMBA1, 2, 0, 1, 3, 10, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ModelCfg x = c;
        strcpy(x.pattern, cases[i].pattern);
        x.mamba = cases[i].mamba;
        x.n_kv_heads = cases[i].kv;
        x.lru_width = cases[i].lru;
        x.mamba_inner_norms = cases[i].inner_norms;
        if (cases[i].groups) x.n_groups = cases[i].groups;
        if (cases[i].lru) x.mlp_act = ACT_GELU_TANH;
        check_case(cases[i].name, x, cases[i].B, cases[i].T, cases[i].max_batch, 0);
        char shared[128];
        snprintf(shared, sizeof shared, "%s, one prompt shared", cases[i].name);
        check_case(shared, x, cases[i].B, cases[i].T, 0, 1);
    }
    /* enough keys that the decode attention runs in parallel (2 B H n d >= PAR_MIN_WORK) with
     * one key/value head for 16 query heads: with fewer groups than threads each thread takes a
     * share of the group's query heads */
    {
        ModelCfg x = c;
        strcpy(x.pattern, "*");
        x.n_heads = 16;
        x.n_kv_heads = 1;
        x.head_dim = 64;
        check_case("MQA, 16 heads, parallel decode attention", x, 1, 2100, 0, 0);
    }
    /* Mamba Table 1's "No gate" block, S6 and LTI (the conv window comes from xz rows E wide) */
    for (int v = 0; v < 2; v++) {
        ModelCfg x = c;
        strcpy(x.pattern, "MM");
        x.n_kv_heads = 2;
        x.mamba = v ? MAMBA_LTI : MAMBA1;
        x.mamba_no_gate = 1;
        check_case(v ? "mamba lti, no gate, chunks of 2" : "mamba1, no gate", x, 3, 13, v ? 2 : 0, 0);
        check_case(v ? "mamba lti, no gate, short prompt" : "mamba1, no gate, prompt shorter than the conv", x, 3, 2, 0, 0);
        check_case(v ? "mamba lti, no gate, shared prompt" : "mamba1, no gate, shared prompt", x, 3, 13, 0, 1);
    }
    return check_summary();
}

/* Finite-difference gradient checks in double precision (acceptance: max
 * relative error <= 1e-6) for RMSNorm, cross-entropy, every sublayer variant
 * and whole models (embedding, norms, LM head tied and untied). */
#include <string.h>

#include "check.h"
#include "models/gradcheck.h"

static const double TOL = 1e-6;

static ModelCfg base(void)
{
    ModelCfg c;
    cfg_defaults(&c);
    c.vocab_size = 11;
    c.d_model = 16;
    c.n_heads = 4;
    c.n_kv_heads = 4;
    c.head_dim = 6;
    c.d_ff = 20;
    c.window = 3;
    c.d_state = 4;
    c.expand = 2;
    c.d_conv = 3;
    c.ssm_head_dim = 4; /* E = 32: 8 heads */
    c.n_groups = 2;
    c.chunk_size = 4;
    c.dt_rank = 3; /* > 1: an RMSNorm over one value (Jamba's dt norm) is flat and tells nothing */
    return c;
}

static void expect(const char *what, const GradReport *r)
{
    CHECK(r->max_rel_err <= TOL && r->checked > 0, "%s: max rel err %.3e over %ld coords", what, r->max_rel_err,
          r->checked);
    for (int i = 0; i < r->n; i++)
        if (r->entry[i].max_rel_err > TOL)
            fprintf(stderr, "    %s: %s %.3e\n", what, r->entry[i].name, r->entry[i].max_rel_err);
}

int main(void)
{
    GradReport r;
    Err e;
    gradcheck_rmsnorm(9, 16, 0, 1, &r);
    expect("rmsnorm", &r);
    gradcheck_rmsnorm(9, 16, 1, 2, &r);
    expect("rmsnorm (1+w)", &r);
    gradcheck_cross_entropy(12, 11, 3, &r);
    expect("cross-entropy", &r);

    struct { const char *name; char symbol; int kv, rope; double rot; Activation act; MambaVariant mamba; int inner_norms; } cases[] = {
        {"attention MHA rope", '*', 4, 1, 1.0, ACT_SILU, MAMBA1, 0},
        {"attention GQA rope", '*', 2, 1, 1.0, ACT_SILU, MAMBA1, 0},
        {"attention MQA rope", '*', 1, 1, 1.0, ACT_SILU, MAMBA1, 0},
        {"attention MHA no pos", '*', 4, 0, 1.0, ACT_SILU, MAMBA1, 0},
        {"attention GQA partial rotary 0.5", '*', 2, 1, 0.5, ACT_SILU, MAMBA1, 0},
        {"local attention W=3 MQA", 'L', 1, 1, 0.5, ACT_SILU, MAMBA1, 0},
        {"mlp SwiGLU", '-', 4, 1, 1.0, ACT_SILU, MAMBA1, 0},
        {"mlp GeGLU", '-', 4, 1, 1.0, ACT_GELU_TANH, MAMBA1, 0},
        {"mamba1 selective", 'M', 4, 1, 1.0, ACT_SILU, MAMBA1, 0},
        {"mamba1 Jamba flavour (norms on dt, B, C)", 'M', 4, 1, 1.0, ACT_SILU, MAMBA1, 1},
        {"mamba lti (S4D-like)", 'M', 4, 1, 1.0, ACT_SILU, MAMBA_LTI, 0},
        {"RG-LRU block (4 gate blocks)", 'R', 4, 1, 1.0, ACT_SILU, MAMBA1, 0},
        {"MoE, 4 experts top-2, Jamba weights + load balancing", 'E', 4, 1, 1.0, ACT_SILU, MAMBA1, 0},
        {"MoE, 5 experts top-2 renormalised (Mixtral)", 'E', 4, 1, 1.0, ACT_SILU, MAMBA1, 1},
        {"mamba2, 2 groups, T = 9 > 2 chunks of 4", 'M', 4, 1, 1.0, ACT_SILU, MAMBA2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ModelCfg c = base();
        c.n_kv_heads = cases[i].kv;
        c.pos_encoding = cases[i].rope ? POS_ROPE : POS_NONE;
        c.partial_rotary_factor = cases[i].rot;
        c.mlp_act = cases[i].act;
        c.mamba = cases[i].mamba;
        c.mamba_inner_norms = cases[i].inner_norms;
        if (cases[i].symbol == 'E') { /* inner_norms doubles as "Mixtral" for MoE rows */
            c.n_experts = cases[i].inner_norms ? 5 : 4;
            c.router_renormalize = cases[i].inner_norms;
            c.router_aux_coef = 0.3; /* large, so a wrong aux gradient shows */
        }
        /* T = 9 > W + 1 so the window cuts; B = 2 so batch indexing is exercised */
        int rc = gradcheck_sublayer(&c, cases[i].symbol, 2, 9, 200, 10 + i, &r, &e);
        CHECK(rc == 0, "%s: %s", cases[i].name, e.msg);
        expect(cases[i].name, &r);
    }

    struct { const char *name, *pattern; int tie, kv; } models[] = {
        {"transformer tied", "*-*-", 1, 2},
        {"transformer untied MQA", "*-", 0, 1},
        {"local + global", "L-*-", 0, 2},
        {"mamba + attention", "M*-M", 0, 2},
        {"Jamba-style M E * E (MoE, inner norms, no positions)", "ME*E", 0, 2},
    };
    /* a Griffin model with RecurrentGemma's conventions: (1+w) norms, sqrt(D)
     * embedding scale, MLP and o_proj biases, a soft cap low enough to bend */
    {
        ModelCfg c = base();
        strcpy(c.pattern, "R-L-");
        c.n_kv_heads = 1;
        c.lru_width = 12;
        c.partial_rotary_factor = 0.5;
        c.mlp_act = ACT_GELU_TANH;
        c.norm_plus_one = c.mlp_bias = c.attn_out_bias = 1;
        c.embed_scale = cfg_bf16_round(4.0);
        c.logits_soft_cap = 2;
        int rc = gradcheck_model(&c, 2, 9, 40, 31, &r, &e);
        CHECK(rc == 0, "griffin model: %s", e.msg);
        expect("griffin model (gemma conventions, soft cap)", &r);
    }
    /* and a Mamba-2 model, tied */
    {
        ModelCfg c = base();
        strcpy(c.pattern, "M-M");
        c.mamba = MAMBA2;
        int rc = gradcheck_model(&c, 2, 8, 40, 30, &r, &e);
        CHECK(rc == 0, "mamba2 model: %s", e.msg);
        expect("mamba2 model", &r);
    }
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        ModelCfg c = base();
        strcpy(c.pattern, models[i].pattern);
        c.tie_embeddings = models[i].tie;
        c.n_kv_heads = models[i].kv;
        if (strchr(c.pattern, 'E')) { /* Jamba: RMSNorm on dt, B, C and attention without positions */
            c.mamba_inner_norms = 1;
            c.pos_encoding = POS_NONE;
            c.router_aux_coef = 0.1;
        }
        int rc = gradcheck_model(&c, 2, 8, 40, 20 + i, &r, &e);
        CHECK(rc == 0, "%s: %s", models[i].name, e.msg);
        expect(models[i].name, &r);
    }
    return check_summary();
}

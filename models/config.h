/* Model configuration: everything that fixes the shapes and mathematics of a
 * model. Field names follow the Hugging Face configs (hidden_size ->
 * d_model aside) so a reader can hold config.json and this side by side. */
#ifndef SEQ_CONFIG_H
#define SEQ_CONFIG_H

#define SEQ_MAX_SUBLAYERS 1024

typedef enum { ACT_SILU, ACT_GELU_TANH } Activation;  /* SwiGLU / GeGLU */
typedef enum { POS_ROPE, POS_NONE } PosEncoding;
typedef enum { MAMBA1, MAMBA_LTI, MAMBA2 } MambaVariant;

typedef struct {
    char model_type[32];        /* "llama" or "seqbench" (checkpoint layout) */
    char pattern[SEQ_MAX_SUBLAYERS + 1]; /* one symbol per sublayer, expanded */
    int vocab_size;
    int d_model;                /* hidden_size */
    /* attention (`*`, `L`) */
    int n_heads, n_kv_heads, head_dim;
    PosEncoding pos_encoding;
    double rope_theta;
    double partial_rotary_factor; /* fraction of head_dim that is rotated */
    int window;                 /* `L` only: keys t-window .. t */
    /* gated MLP (`-`) */
    int d_ff;                   /* intermediate_size */
    Activation mlp_act;
    /* Mamba mixer (`M`): E = expand * d_model channels, N = d_state */
    MambaVariant mamba;
    int d_state, expand, d_conv;
    int dt_rank;                /* mamba1: time_step_rank R (0 = ceil(d_model / 16)) */
    int mamba_inner_norms;      /* Jamba's flavour: RMSNorm on δ, B and C */
    int mamba_no_gate;          /* mamba1/lti: Mamba Table 1's "No gate" block, out_proj(y) without ⊙ SiLU(z) */
    int mamba_init_ssm;         /* mamba1/lti: init in_proj, conv1d, x_proj, out_proj as mamba_ssm (mamba_block_init_ssm) */
    int ssm_head_dim, n_groups, chunk_size; /* mamba2: heads of ssm_head_dim, G groups of B/C */
    /* mixture of experts (`E`): SwiGLU experts of expert_d_ff (0 = d_ff) */
    int n_experts, experts_per_tok, expert_d_ff;
    int router_renormalize;     /* top-K weights renormalised to sum 1 (Mixtral) or not (Jamba) */
    double router_aux_coef;     /* Switch load-balancing loss coefficient */
    /* RG-LRU block (`R`, Hawk/Griffin): lru_width channels, gates in rglru_heads blocks */
    int lru_width, rglru_heads, conv1d_width;
    /* Gemma-style extras (RecurrentGemma); all off for Llama/Mamba */
    int mlp_bias;               /* biases on gate/up/down */
    int attn_out_bias;          /* bias on o_proj */
    int norm_plus_one;          /* RMSNorm scales by (1 + w) */
    double embed_scale;         /* embeddings multiplied by this (0: by 1) */
    double logits_soft_cap;     /* logits = cap · tanh(logits / cap) (0: off) */
    /* norms and head */
    double norm_eps;
    int tie_embeddings;
    int max_seq_len;            /* max_position_embeddings: default decode cache */
} ModelCfg;

/* Fills a small Transformer++ default (d_model 64, 4 heads, SwiGLU). */
void cfg_defaults(ModelCfg *c);

/* Rotated dimensions per head: head_dim * partial_rotary_factor, even. */
int cfg_rotary_dim(const ModelCfg *c);

/* Mamba sizes: E = expand * d_model, R = dt_rank or ceil(d_model / 16). */
int cfg_d_inner(const ModelCfg *c);
/* RG-LRU sizes: lru_width (0 = d_model), gate blocks (0 = n_heads). */
int cfg_lru_width(const ModelCfg *c);
int cfg_rglru_heads(const ModelCfg *c);
/* x rounded to the nearest bfloat16 (ties to even), as RecurrentGemma's sqrt(D) normalizer. */
double cfg_bf16_round(double x);
int cfg_dt_rank(const ModelCfg *c);

/* Checks sizes are positive, consistent and not absurd, and the pattern is
 * buildable; the message names the field and its value. */
#include "core/err.h"
int cfg_validate(const ModelCfg *c, Err *e);

#endif

/* A model described as a user describes it: an architecture preset or a
 * pattern, and the sizes (0 = the preset's default), or a parameter budget to
 * fit. train, params, gradcheck and every benchmark build their ModelCfg from
 * this; cli/model_options.c binds its fields to command-line options. */
#ifndef SEQ_MODEL_ARGS_H
#define SEQ_MODEL_ARGS_H

#include <stddef.h>

#include "core/err.h"
#include "models/config.h"

typedef struct {
    char arch[32], pattern[SEQ_MAX_SUBLAYERS + 1], pos[8], act[24], mamba[16], mamba_gate[8], mamba_init[16];
    int layers, d_model, heads, kv_heads, head_dim, d_ff, window, untie, vocab;
    int d_state, expand, d_conv, dt_rank, inner_norms, ssm_head_dim, n_groups, chunk, pad_vocab;
    int lru_width, lru_blocks, conv1d_width, gemma;
    double soft_cap;
    int experts, top_k, expert_d_ff, renormalize;
    double aux_coef, param_budget, attention_ratio, mlp_ratio;
    int attn_period, attn_offset, expert_period, expert_offset;
    double rope_theta, rotary_frac, norm_eps;
} ModelArgs;

void model_args_defaults(ModelArgs *a);
/* Builds and validates the config; vocab_size comes from the task when a->vocab is 0.
 * Sizes left at 0 take the preset's defaults. A warning (a --param-budget
 * missed by more than 5%, a mamba2-hybrid without attention) goes to
 * *note (empty if none); model_args_to_cfg prints it to stderr. */
int model_args_build(const ModelArgs *a, int task_vocab, ModelCfg *c, char *note, size_t cap, Err *e);
int model_args_to_cfg(const ModelArgs *a, int task_vocab, ModelCfg *c, Err *e);

#endif

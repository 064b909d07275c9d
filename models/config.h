/* Model configuration: everything that fixes the shapes and mathematics of a
 * model. Field names follow the Hugging Face configs (hidden_size ->
 * d_model aside) so a reader can hold config.json and this side by side. */
#ifndef SEQ_CONFIG_H
#define SEQ_CONFIG_H

#define SEQ_MAX_SUBLAYERS 1024

typedef enum { ACT_SILU, ACT_GELU_TANH } Activation;  /* SwiGLU / GeGLU */
typedef enum { POS_ROPE, POS_NONE } PosEncoding;

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
    /* norms and head */
    double norm_eps;
    int tie_embeddings;
    int max_seq_len;            /* max_position_embeddings: default decode cache */
} ModelCfg;

/* Fills a small Transformer++ default (d_model 64, 4 heads, SwiGLU). */
void cfg_defaults(ModelCfg *c);

/* Rotated dimensions per head: head_dim * partial_rotary_factor, even. */
int cfg_rotary_dim(const ModelCfg *c);

/* Checks sizes are positive, consistent and not absurd, and the pattern is
 * buildable; the message names the field and its value. */
#include "core/err.h"
int cfg_validate(const ModelCfg *c, Err *e);

#endif

/* The one model interface (DESIGN §2–3): token embedding, a stack of
 * pre-norm residual sublayers named by the pattern, final RMSNorm, LM head
 * (tied to the embedding unless the config says not).
 *
 * Memory: parameters, gradients and Adam moments are each one contiguous
 * buffer of n_params reals; `tensors` names every slice of it with its
 * Hugging Face name. Activations live in one arena sized by model_reserve
 * for a given batch and length, so the training loop never allocates.
 * An inference arena (model_reserve_inference) keeps only what the forward
 * itself reads: two residual buffers, one sublayer's acts at a time, no
 * per-step scan states, no gradients; backward cannot follow it. */
#ifndef SEQ_MODEL_H
#define SEQ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "core/err.h"
#include "sublayer.h"

typedef struct {
    char name[128];     /* e.g. "model.layers.0.self_attn.q_proj.weight" */
    int rank, shape[3];
    size_t offset, numel; /* in reals, into params */
    int decay;
} ModelTensor;

typedef struct {
    Sub sub;            /* its p/g point into the model buffers */
    size_t norm_offset; /* pre-norm weight [d_model] */
    size_t param_offset; /* the sublayer's own slice of params (and grads) */
    size_t act_offset;  /* its slice of the activation arena */
} Layer;

typedef struct {
    ModelCfg cfg;
    int n_layers;       /* = strlen(cfg.pattern): sublayers */
    Layer *layers;
    size_t n_params;
    real *params, *grads;
    uint16_t *params16; /* --dtype bf16: the matrices' bf16 bits at params' offsets (model_to_bf16); NULL: fp32 */
    int n_tensors;
    ModelTensor *tensors;
    size_t embed_offset, final_norm_offset, head_offset; /* head = embed when tied */
    real norm_offset_value; /* 0: w, 1: (1 + w) (RecurrentGemma) */
    /* activation arena for batches up to B x T (model_reserve) */
    int B, T;
    int inference;      /* the arena is an inference one (model_reserve_inference) */
    real *acts;
    size_t acts_len;
    real *res;          /* residual stream before each sublayer and after the last: [n_layers+1][B,T,D]
                         * (inference: two buffers [2][B,T,D] used in turn) */
    real *xn, *rstd;    /* normed sublayer inputs [n_layers][B,T,D] and their 1/rms [n_layers][B,T]
                         * (inference: one [B,T,D], no rstd) */
    real *xf, *rstd_f;  /* final norm output and its 1/rms (inference: no rstd_f) */
    real *logits;       /* [B, T, V] after model_forward */
    real *dlogits, *dres, *dtmp, *scratch;
} Model;

/* Builds the layer stack and zeroed parameters for a validated config. */
int model_create(Model *m, const ModelCfg *cfg, Err *e);
/* The layer stack and tensor table only, no parameter memory: for counting
 * paper-scale models (`seqbench params`) that need not fit in RAM. */
int model_layout(Model *m, const ModelCfg *cfg, Err *e);
void model_free(Model *m);

/* --dtype bf16 (models/bf16.c): rounds the matrices to bf16 in params and
 * keeps their bits in params16 for the decode kernels; inference only. */
int model_to_bf16(Model *m, Err *e);
int model_tensor_is_bf16(const ModelTensor *t);
/* logits[M, V] = x[M, D] times the LM head (its bf16 copy at decode's row counts) */
void model_head(const Model *m, real *logits, const real *x, int M);
/* Paper initialisation: matrices N(0, 0.02), norms 1, then each family's hook. */
void model_init_weights(Model *m, uint64_t seed);

/* Gradient buffer (zeroed) for training. */
int model_alloc_grads(Model *m, Err *e);

/* Sizes the activation arena for B x T (and checks it fits in memory). */
int model_reserve(Model *m, int B, int T, Err *e);
size_t model_act_bytes(const ModelCfg *c, int B, int T);
/* The same for forward only (eval, logits, prefill): nothing kept for backward. */
int model_reserve_inference(Model *m, int B, int T, Err *e);
size_t model_infer_act_bytes(const ModelCfg *c, int B, int T);
/* Whether every sublayer's decode state is constant in context (no global
 * attention `*`): such a model can evaluate any length in constant memory. */
int model_state_is_constant(const ModelCfg *c);

/* Forward over tokens [B, T]; logits in m->logits. */
void model_forward(Model *m, const int *tokens, int B, int T);

/* x[n, D] = embedding rows of tokens, times embed_scale (RecurrentGemma's √D). */
void model_embed(const Model *m, const int *tokens, int n, real *x);
/* logits <- cap · tanh(logits / cap) when the config has a soft cap. */
void model_soft_cap(const Model *m, real *logits, int rows);

/* Masked cross-entropy on the last forward; writes dlogits for backward
 * (after an inference forward: the cross-entropy alone, no dlogits). */
double model_loss(Model *m, const int *targets, const unsigned char *mask, int B, int T);

/* Backward of the last (training-arena) forward + loss: gradients added into m->grads. */
void model_backward(Model *m, const int *tokens, int B, int T);

/* Parameter counts by part (for `seqbench params`). */
typedef struct {
    size_t total, active, embedding, head, norms; /* active: per token (MoE: router + K experts) */
    size_t by_symbol[128]; /* sublayer parameters by pattern symbol */
} ParamCounts;
void model_param_counts(const Model *m, ParamCounts *pc);

const ModelTensor *model_find_tensor(const Model *m, const char *name);

/* Decode: the recurrent path, one token per sequence per call. */
typedef struct {
    Model *m;
    int B, ctx, pos;
    real *state;        /* all sublayers' caches/states, one buffer */
    size_t *state_offset;
    real *consts;       /* the sublayers' step_consts, made by create and reset */
    size_t *consts_offset;
    real *x, *xn, *y, *scratch;
    real *logits;       /* [B, V] after decoder_step */
} Decoder;

int decoder_create(Decoder *d, Model *m, int B, int ctx, Err *e);
/* What decoder_create allocates for B sequences of up to ctx tokens, in bytes. */
double decoder_bytes(const ModelCfg *c, int B, int ctx);
void decoder_free(Decoder *d);
/* Back to position 0 with zero states; re-derives the step constants, so
 * a decoder may outlive changes to the parameters (evaluation in training). */
void decoder_reset(Decoder *d);
/* Feeds tokens[B] at position d->pos; fails (Err) when the context is full. */
int decoder_step(Decoder *d, const int *tokens, Err *e);

/* Fills the context with T tokens per sequence (tokens [B, T]) in one
 * parallel forward, from a reset state: the same state and logits as T
 * calls of decoder_step (models/prefill.c). Sequences go through in chunks
 * of at most max_batch (0: as many as a 1 GiB inference arena holds). The
 * model's activation arena becomes an inference one (model_reserve_inference):
 * call model_reserve again before training on the model. */
int decoder_prefill(Decoder *d, const int *tokens, int T, int max_batch, Err *e);
/* The same for B sequences that share one prompt (tokens [T]): one forward of
 * a single sequence, its state copied into every sequence's slot. What
 * decoder_prefill gives for B equal prompts, at a B-th of the cost (bench
 * decode fills long contexts at large batches with it). */
int decoder_prefill_shared(Decoder *d, const int *tokens, int T, Err *e);

/* Decode state (KV cache, recurrent state) in bytes for B sequences of ctx tokens. */
double model_state_bytes(const ModelCfg *c, int B, int ctx);
/* Forward FLOPs per token at context T (sublayers + head). */
double model_flops_per_token(const ModelCfg *c, int T);

#endif

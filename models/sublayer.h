/* The one interface every sublayer family implements (DESIGN §3).
 *
 * A sublayer is the F in x <- x + F(RMSNorm(x)); the residual add and its
 * norm belong to the model driver. A family sees its parameters as one slice
 * `p` of the model's contiguous buffer (gradients: the same slice of the
 * gradient buffer), laid out as its `tensors` table says. All buffers are
 * row-major, activations [B, T, d_model]. */
#ifndef SEQ_SUBLAYER_H
#define SEQ_SUBLAYER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "core/gemm.h"
#include "core/real.h"
#include "core/rng.h"

#define SUB_MAX_TENSORS 400 /* a mixture of up to 128 experts: router + 3 per expert */

typedef struct {
    char name[96];      /* Hugging Face name suffix, e.g. "q_proj.weight" */
    int rank;           /* 1..3 (conv1d weights are [channels, 1, width]) */
    int shape[3];
    size_t offset;      /* in reals, from the start of the owner's slice */
    int decay;          /* AdamW weight decay applies (weights, not norms, biases, A_log, D) */
} TensorDesc;

static inline size_t tensor_numel(int rank, const int *shape)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)shape[i];
    return n;
}

typedef struct Sub {
    const struct SubOps *ops;
    const ModelCfg *cfg;
    real *p;            /* parameters */
    real *g;            /* gradients (accumulated by backward) */
    int inference;      /* forward saves nothing for backward (model_reserve_inference) */
    const real *consts; /* decode: step_consts of the current parameters, made by the Decoder */
    const uint16_t *p16; /* --dtype bf16: p's matrices in bf16, at p's offsets (models/bf16.c); NULL: fp32 */
} Sub;

/* y[M,N] (=|+=) x[M,K] W^T for W one of the sublayer's matrices: from its
 * bf16 copy where the model has one and the rows are few enough for the
 * in-place kernels (decode, where the weights' bytes are the cost); else
 * linear_fwd on p, whose matrices a bf16 model has rounded to the same
 * values, so a long prefill runs OpenBLAS's fp32 sgemm on the same model. */
static inline void sub_linear(const Sub *s, real *y, const real *x, const real *W, int M, int N, int K, int accumulate)
{
#ifndef SEQ_F64
    if (s->p16 && M <= GEMM_NT_MAX_M && gemm_nt_bf16(y, x, s->p16 + (W - s->p), M, N, K, accumulate)) return;
#endif
    linear_fwd(y, x, W, M, N, K, accumulate);
}

typedef struct SubOps {
    const char *name;   /* "attention", "mlp", ... */
    char symbol;
    /* Parameter tensors in layout order; returns the count. */
    int (*tensors)(const ModelCfg *c, TensorDesc *out);
    /* Paper initialisation; the model has already drawn N(0, 0.02) for every matrix. */
    void (*init)(const Sub *s, Rng *r);
    /* Reals saved by forward for backward, and reals of scratch either may use. */
    size_t (*act_size)(const ModelCfg *c, int B, int T);
    size_t (*scratch_size)(const ModelCfg *c, int B, int T);
    /* Reals of acts forward needs when s->inference is set (no backward will
     * follow); NULL: the same as act_size. */
    size_t (*infer_act_size)(const ModelCfg *c, int B, int T);
    /* y = F(x) over whole sequences (training / prefill). */
    void (*forward)(const Sub *s, const real *x, real *y, int B, int T, real *acts, real *scratch);
    /* dx = dF/dx^T dy (overwrites dx); parameter gradients added into s->g. */
    void (*backward)(const Sub *s, const real *x, const real *dy, real *dx, int B, int T,
                     const real *acts, real *scratch);
    /* Decode state (KV cache, conv window, SSM state) for B sequences of up to ctx tokens. */
    size_t (*state_size)(const ModelCfg *c, int B, int ctx);
    /* One token per sequence at position pos: x, y are [B, d_model]. */
    void (*step)(const Sub *s, const real *x, real *y, int B, int pos, int ctx, real *state, real *scratch);
    size_t (*step_scratch_size)(const ModelCfg *c, int B, int ctx);
    /* Constants step derives from the parameters alone (Mamba's A = -exp(A_log)
     * in the scan's layout), taken once per decoded sequence instead of once
     * per token: their size in reals and how to make them. NULL: none. */
    size_t (*step_consts_size)(const ModelCfg *c);
    void (*step_consts)(const Sub *s, real *consts);
    /* Prefill: right after forward over B sequences of T tokens (the same
     * acts and scratch), writes the decode state that T calls of step would
     * have left, for sequences b0..b0+B-1 of a state laid out for Bs
     * sequences of up to ctx tokens. NULL: the family keeps no state. */
    void (*prefill_state)(const Sub *s, int B, int T, const real *acts, real *scratch, real *state, int Bs, int b0,
                          int ctx);
    /* Every family's state is two arrays one after the other, each [Bs, n]
     * (n reals a sequence): the reals of one sequence in the first (keys, or
     * the conv window); the second's are state_size(c, 1, ctx) minus these.
     * A shared prefill copies one sequence's state to the others with it
     * instead of deriving it again: Mamba's scan over the prompt per slot
     * took 23 s of a batch-128 benchmark point of Mamba-130M. */
    size_t (*state_first)(const ModelCfg *c, int ctx);
    /* Set when the state holds one row a position and a step at position p
     * writes only row p (a global KV cache): rewinding to an earlier
     * position needs no copy of it, so a benchmark repeating its steps from
     * one context saves only the other layers' states (a 124M Transformer's
     * cache at batch 128 and 1024 tokens is 9.7 GB). */
    int append_only;
    /* Forward FLOPs per token for a token at context length T (multiply-add = 2). */
    double (*flops)(const ModelCfg *c, int T);
    /* An auxiliary training loss of the last forward (MoE load balancing),
     * whose gradient backward already includes; NULL for most families. */
    double (*aux_loss)(const Sub *s, const real *acts, int B, int T, real *scratch);
} SubOps;

/* The family of a pattern symbol under config c (the Mamba variant is a
 * config choice), or NULL if not implemented yet. */
const SubOps *subops_for(const ModelCfg *c, char symbol);
/* Whether any family implements the symbol (for the pattern parser). */
int subops_implemented(char symbol);

/* Sum of a family's tensor sizes, in reals. */
size_t subops_n_params(const SubOps *ops, const ModelCfg *c);

#endif

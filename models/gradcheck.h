/* Finite-difference gradient checks (DESIGN §3). Built from the double
 * build of models/ (SEQ_F64), so they check the code that trains.
 *
 * Each check compares the hand-written backward with central differences:
 * the fourth-order five-point stencil
 *   D(h) = (f(v-2h) - 8 f(v-h) + 8 f(v+h) - f(v+2h)) / 12h
 * at h = 1e-3 and h/2, combined by Richardson extrapolation
 * (16 D(h/2) - D(h)) / 15 so the h^4 term cancels too: a sharply curved loss
 * (a soft cap of 2 on large logits) stays below the 1e-6 bar, and rounding
 * (~eps |f| / h) stays near 1e-12 |f|. The error of one coordinate is
 *   |analytic - numeric| / max(|analytic|, |numeric|, 1e-5 · max(1, |f|)),
 * the floor keeping gradients at the level of the loss's rounding noise
 * (exactly 0 at masked positions, ~1e-6 for a fast-decaying A_log[e, n])
 * from dividing by that noise. At most `samples` coordinates per tensor are
 * drawn (all of them when the tensor is smaller). */
#ifndef SEQ_GRADCHECK_H
#define SEQ_GRADCHECK_H

#include <stdint.h>

#include "config.h"
#include "core/err.h"

#define GRADCHECK_MAX_ENTRIES 256

typedef struct {
    char name[128];
    double max_rel_err;
    long checked;
} GradEntry;

typedef struct {
    int n;
    GradEntry entry[GRADCHECK_MAX_ENTRIES];
    double max_rel_err;
    long checked;
} GradReport;

/* One sublayer (pattern symbol) on random x [B,T,D], loss = <F(x), r>:
 * checks dx and every parameter tensor. */
int gradcheck_sublayer(const ModelCfg *c, char symbol, int B, int T, int samples, uint64_t seed, GradReport *rep,
                       Err *e);

/* Whole model on random tokens with masked cross-entropy: embedding, every
 * norm, every sublayer tensor, LM head. */
int gradcheck_model(const ModelCfg *c, int B, int T, int samples, uint64_t seed, GradReport *rep, Err *e);

/* RMSNorm alone (dx, dw) and cross-entropy alone (dlogits). */
int gradcheck_rmsnorm(int N, int D, double offset, uint64_t seed, GradReport *rep);
int gradcheck_cross_entropy(int N, int V, uint64_t seed, GradReport *rep);

#endif

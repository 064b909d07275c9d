/* Finite-difference gradient checks (DESIGN §3). Built from the double
 * build of models/ (SEQ_F64), so they check the code that trains.
 *
 * Each check compares the hand-written backward with central differences:
 * the fourth-order five-point stencil
 *   D(h) = (f(v-2h) - 8 f(v-h) + 8 f(v+h) - f(v+2h)) / 12h
 * at h and h/2, combined by Richardson extrapolation
 * (16 D(h/2) - D(h)) / 15 so the h^4 term cancels too; rounding stays near
 * 1e-12 |f| at h = 1e-3. The error of one coordinate is
 *   |analytic - numeric| / max(|analytic|, |numeric|, 1e-5 · max(1, |f|)),
 * the floor keeping gradients at the level of the loss's rounding noise
 * (exactly 0 at masked positions, ~1e-6 for a fast-decaying A_log[e, n])
 * from dividing by that noise.
 *
 * A step that suits one coordinate can be far too long for another: the
 * loss can bend on a scale below 1e-3 (Jamba's RMSNorm over a single δ is
 * δ/sqrt(δ² + eps)·w, a smoothed step √eps = 3e-3 wide; a deep stack
 * compounds curvature) or jump (an MoE router choosing other experts inside
 * the stencil). So a coordinate whose estimate at h = 1e-3 misses the
 * analytic value by more than tol is estimated again at 1e-4, 1e-5, 1e-6,
 * and judged by the first estimate that agrees with the one before it to
 * within tol (same relative measure, analytic value left out): a settled
 * difference. At those steps rounding (~|f|·eps / h) can exceed the floor,
 * so the floor becomes the step's rounding noise / tol: an absolute
 * difference below that noise is never counted as more than tol. If no two
 * successive estimates agree, the loss is not smooth enough around that
 * coordinate to be differentiated numerically, and the coordinate is
 * counted as unresolved instead of judged. Once on the ladder, whether a
 * coordinate ends unresolved depends only on the forward pass, not on the
 * gradient under test: a wrong backward can go unseen only where finite
 * differences see nothing, and every such coordinate is counted.
 *
 * At most `samples` coordinates per tensor are drawn (all of them when the
 * tensor is smaller); samples = 0 picks 64 per tensor, and for a whole model
 * about GRADCHECK_MODEL_COORDS in all (at least 4 per tensor), so a deep
 * model stays a matter of seconds. */
#ifndef SEQ_GRADCHECK_H
#define SEQ_GRADCHECK_H

#include <stdint.h>

#include "config.h"
#include "core/err.h"
#include "core/real.h"

#define GRADCHECK_MAX_ENTRIES 1024
#define GRADCHECK_MODEL_COORDS 2048

typedef struct {
    int B, T;       /* batch and length of the random inputs */
    int samples;    /* coordinates per tensor (0: automatic, above) */
    uint64_t seed;  /* weights and inputs */
    double tol;     /* largest relative error that passes */
} GradOpts;

typedef struct {
    char name[96];
    double max_rel_err;     /* over the judged coordinates */
    long checked, unresolved;
} GradEntry;

typedef struct {
    int n, unlisted;        /* tensors beyond GRADCHECK_MAX_ENTRIES count in the totals only */
    GradEntry entry[GRADCHECK_MAX_ENTRIES];
    double max_rel_err, tol;
    long checked, unresolved;
    int blind;              /* tensors of which no sampled coordinate could be judged */
} GradReport;

typedef enum { GRAD_PASS, GRAD_FAIL, GRAD_INCONCLUSIVE } GradVerdict;

/* FAIL: some judged coordinate is off by more than tol. INCONCLUSIVE (and
 * not FAIL): finite differences could not check the backward here — more
 * than a tenth of the coordinates, or every coordinate of some tensor,
 * unresolved. PASS otherwise (a few unresolved coordinates are reported). */
GradVerdict gradcheck_verdict(const GradReport *r);

/* One sublayer (pattern symbol) on random x [B,T,D], loss = <F(x), r>:
 * checks dx and every parameter tensor. */
int gradcheck_sublayer(const ModelCfg *c, char symbol, const GradOpts *o, GradReport *rep, Err *e);

/* Whole model on random tokens with masked cross-entropy: embedding, every
 * norm, every sublayer tensor, LM head. */
int gradcheck_model(const ModelCfg *c, const GradOpts *o, GradReport *rep, Err *e);

/* RMSNorm alone (dx, dw) and cross-entropy alone (dlogits), every coordinate. */
int gradcheck_rmsnorm(int N, int D, double offset, const GradOpts *o, GradReport *rep);
int gradcheck_cross_entropy(int N, int V, const GradOpts *o, GradReport *rep);

/* Any function: analytic[i] against the numeric derivative of loss(ctx)
 * with respect to v[i], for `samples` coordinates drawn with `seed` (all when
 * n <= samples); adds one entry named `name` to rep. */
typedef double (*GradLossFn)(void *ctx);
void gradcheck_coords(real *v, const real *analytic, size_t n, const char *name, GradLossFn loss, void *ctx,
                      int samples, uint64_t seed, GradReport *rep);

#endif

/* Pointwise functions the sublayers share, each with the derivative its
 * backward needs. Over `real`, so <tgmath.h> picks float or double. */
#ifndef SEQ_ACTIVATIONS_H
#define SEQ_ACTIVATIONS_H

#include <tgmath.h>

#include "core/real.h"
#include "core/vexp.h"

static inline real sigmoid(real v) { return 1 / (1 + exp_fma(-v)); }
static inline real silu(real v) { return v * sigmoid(v); }
static inline real silu_grad(real v) { real sg = sigmoid(v); return sg * (1 + v * (1 - sg)); }
/* log(1 + e^v), linear past 20 as torch's softplus threshold; its derivative is sigmoid(v) */
static inline real softplus(real v) { return softplus_fast(v); }

/* GeLU, tanh form: 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))); *deriv = its derivative.
 * tanh_fast, not libm's: branch-free, so loops over it vectorise. */
static inline real gelu_tanh(real u, real *deriv)
{
    const real k = (real)0.7978845608028654, a3 = (real)0.044715;
    real th = tanh_fast(k * (u + a3 * u * u * u));
    *deriv = (real)0.5 * (1 + th) + (real)0.5 * u * (1 - th * th) * k * (1 + 3 * a3 * u * u);
    return (real)0.5 * u * (1 + th);
}

/* SiLU with its derivative, in gelu_tanh's calling form */
static inline real silu_with_grad(real u, real *deriv)
{
    real sg = sigmoid(u);
    *deriv = sg * (1 + u * (1 - sg));
    return u * sg;
}

#endif

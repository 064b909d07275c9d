/* Rotary position embedding, rotate-half layout (Llama, Griffin):
 * within the first `rot` dims of a head, dim i pairs with i + rot/2 and
 *   v'[i]       = v[i] cos(pos w_i) - v[i+rot/2] sin(pos w_i)
 *   v'[i+rot/2] = v[i+rot/2] cos(pos w_i) + v[i] sin(pos w_i),  w_i = theta^(-2i/rot);
 * dims past `rot` pass through (partial rotary). Angles are formed in double
 * so long positions do not lose precision. */
#ifndef SEQ_ROPE_H
#define SEQ_ROPE_H

#include <math.h>

#include "core/real.h"

/* cs[pos][i] = cos, cs[pos][rot/2 + i] = sin, for pos in [0, T). */
static inline void rope_table(real *cs, int T, int rot, double theta)
{
    int half = rot / 2;
    for (int pos = 0; pos < T; pos++)
        for (int i = 0; i < half; i++) {
            double angle = pos * pow(theta, -2.0 * i / rot);
            cs[(size_t)pos * rot + i] = (real)cos(angle);
            cs[(size_t)pos * rot + half + i] = (real)sin(angle);
        }
}

/* Rotates n_heads heads of head_dim stored contiguously, using one table row. */
static inline void rope_apply(real *v, int n_heads, int head_dim, int rot, const real *cs_row)
{
    int half = rot / 2;
    for (int h = 0; h < n_heads; h++) {
        real *x = v + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            real c = cs_row[i], s = cs_row[half + i], a = x[i], b = x[i + half];
            x[i] = a * c - b * s;
            x[i + half] = b * c + a * s;
        }
    }
}

/* The transpose (= inverse) rotation, for gradients. */
static inline void rope_apply_transpose(real *v, int n_heads, int head_dim, int rot, const real *cs_row)
{
    int half = rot / 2;
    for (int h = 0; h < n_heads; h++) {
        real *x = v + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            real c = cs_row[i], s = cs_row[half + i], a = x[i], b = x[i + half];
            x[i] = a * c + b * s;
            x[i + half] = b * c - a * s;
        }
    }
}

#endif

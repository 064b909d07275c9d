/* The tolerance measure the model tests share: max |a - b| / max |b| over
 * n reals, so a relative bound is not blown up by entries near zero. */
#ifndef SEQ_TESTS_REL_ERR_H
#define SEQ_TESTS_REL_ERR_H

#include <math.h>
#include <stddef.h>

#include "core/real.h"

static inline double rel_err(const real *a, const real *b, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return diff / (scale > 0 ? scale : 1);
}

#endif

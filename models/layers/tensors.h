/* Helper for a family's `tensors` table: appends one tensor and advances the
 * running offset, so the layout is written once, in one place per family. */
#ifndef SEQ_LAYER_TENSORS_H
#define SEQ_LAYER_TENSORS_H

#include <stdio.h>

#include "models/sublayer.h"

static inline void tensor_add(TensorDesc *t, int *n, size_t *off, const char *name, int rows, int cols)
{
    TensorDesc *d = &t[(*n)++];
    snprintf(d->name, sizeof d->name, "%s", name);
    d->rank = cols ? 2 : 1;
    d->shape[0] = rows;
    d->shape[1] = cols;
    d->offset = *off;
    d->decay = cols != 0;
    *off += (size_t)rows * (size_t)(cols ? cols : 1);
}

#endif

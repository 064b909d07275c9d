/* Helper for a family's `tensors` table: appends one tensor and advances the
 * running offset, so the layout is written once, in one place per family. */
#ifndef SEQ_LAYER_TENSORS_H
#define SEQ_LAYER_TENSORS_H

#include <stdio.h>

#include "models/sublayer.h"

/* A [rows, cols] matrix, or a [rows] vector when cols is 0. Matrices get
 * weight decay by default; a family turns it off where its paper does. */
static inline TensorDesc *tensor_add(TensorDesc *t, int *n, size_t *off, const char *name, int rows, int cols)
{
    TensorDesc *d = &t[(*n)++];
    snprintf(d->name, sizeof d->name, "%s", name);
    d->rank = cols ? 2 : 1;
    d->shape[0] = rows;
    d->shape[1] = cols;
    d->shape[2] = 0;
    d->offset = *off;
    d->decay = cols != 0;
    *off += tensor_numel(d->rank, d->shape);
    return d;
}

/* A [d0, d1, d2] tensor (RG-LRU's per-head gate blocks [heads, in, out]). */
static inline TensorDesc *tensor_add3(TensorDesc *t, int *n, size_t *off, const char *name, int d0, int d1, int d2)
{
    TensorDesc *d = tensor_add(t, n, off, name, d0, d1);
    d->rank = 3;
    d->shape[2] = d2;
    *off += (size_t)d0 * d1 * (size_t)(d2 - 1);
    return d;
}

/* A depthwise conv1d weight as PyTorch stores it: [channels, 1, width]. */
static inline TensorDesc *tensor_add_conv(TensorDesc *t, int *n, size_t *off, const char *name, int channels, int width)
{
    TensorDesc *d = tensor_add(t, n, off, name, channels, 1);
    d->rank = 3;
    d->shape[2] = width;
    *off += (size_t)channels * (size_t)(width - 1);
    return d;
}

#endif

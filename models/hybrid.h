/* Mamba-2-Hybrid layer allocation: Algorithm 1 of Waleffe et al. 2024, "An
 * Empirical Study of Mamba-based Language Models" (DESIGN §2). From a total
 * number of sublayers and target attention and MLP ratios it writes a
 * pattern of `M` (Mamba), `*` (attention) and `-` (MLP): attention spaced
 * evenly between Mamba sections, then MLPs spread over the Mamba positions.
 * It is Megatron-LM's --hybrid-attention-ratio / --hybrid-mlp-ratio. */
#ifndef SEQ_HYBRID_H
#define SEQ_HYBRID_H

#include <stddef.h>

#include "core/err.h"

/* Writes the pattern for `layers` sublayers (1 .. SEQ_MAX_SUBLAYERS) into out
 * (cap bytes incl. NUL). Ratios in [0, 1] with attention + MLP <= 1; counts
 * are round(layers x ratio), rounding half to even as Python's round(). */
int hybrid_allocate(int layers, double attention_ratio, double mlp_ratio, char *out, size_t cap, Err *e);

/* Checks a hand-written pattern that replaces Algorithm 1's: it must have
 * `layers` known symbols and, when ratios_given, as many sublayers of each
 * kind as Algorithm 1 gives for (layers, a, m). The error names every count
 * that differs: override "M*M-": 2 attention layers, Algorithm 1 gives 1. */
int hybrid_check_override(const char *override, int layers, double a, double m, int ratios_given, Err *e);

#endif

/* Masked next-token cross-entropy:
 *   loss = Σ_n m_n · (logsumexp(z_n) − z_n[t_n]) / Σ_n m_n
 *   dz_n = m_n · (softmax(z_n) − onehot(t_n)) / Σ_n m_n
 * Positions with mask 0 (prompt, padding) contribute nothing. */
#ifndef SEQ_CROSS_ENTROPY_H
#define SEQ_CROSS_ENTROPY_H

#include <stddef.h>
#include <string.h>
#include <tgmath.h>

#include "core/real.h"

enum { CE_CHUNKS = 64 };

/* Returns the mean loss (0 if nothing is scored); dlogits may be NULL.
 * Rows are independent, so they run in parallel; the loss is summed in
 * CE_CHUNKS fixed row ranges and then across them in order, which makes it
 * the same number whatever the thread count. */
static inline double cross_entropy(const real *logits, const int *targets, const unsigned char *mask,
                                   real *dlogits, int N, int V)
{
    int count = 0;
    for (int n = 0; n < N; n++) count += mask[n] != 0;
    double part[CE_CHUNKS];
#pragma omp parallel for schedule(static) if ((size_t)N * V > 65536)
    for (int c = 0; c < CE_CHUNKS; c++) {
        int lo = (int)((long long)N * c / CE_CHUNKS), hi = (int)((long long)N * (c + 1) / CE_CHUNKS);
        double s = 0;
        for (int n = lo; n < hi; n++) {
            const real *z = logits + (size_t)n * V;
            real *dz = dlogits ? dlogits + (size_t)n * V : NULL;
            if (!mask[n] || !count) {
                if (dz) memset(dz, 0, sizeof(real) * V);
                continue;
            }
            real mx = z[0], sum = 0;
            for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
            for (int v = 0; v < V; v++) sum += exp(z[v] - mx);
            s += (double)(log(sum) + mx - z[targets[n]]);
            if (dz) {
                for (int v = 0; v < V; v++) dz[v] = exp(z[v] - mx) / sum / count;
                dz[targets[n]] -= (real)1 / count;
            }
        }
        part[c] = s;
    }
    double loss = 0;
    for (int c = 0; c < CE_CHUNKS; c++) loss += part[c];
    return count ? loss / count : 0;
}

#endif

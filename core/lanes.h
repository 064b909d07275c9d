/* A sum across SIMD lanes, for the scans' reverse passes (selective_scan.h,
 * m2_scan.h): they keep each sum over channels as 16 partial sums, one per
 * lane of an AVX-512 vector (two AVX2 ones), and fold them once at the end.
 * An `omp simd reduction` folded its vector by storing it and adding the
 * lanes one after another, a chain of 16 dependent adds per sum, and those
 * chains were a third of the Mamba-2 backward. */
#ifndef SEQ_LANES_H
#define SEQ_LANES_H

#include "core/cpu.h"
#include "core/real.h"

/* v[0..16) folded in halves: 8 + 4 lanes, then 2 pairs (v is overwritten) */
CPU_BODY real lanes_fold16(real *v)
{
#pragma omp simd
    for (int l = 0; l < 8; l++) v[l] += v[l + 8];
#pragma omp simd
    for (int l = 0; l < 4; l++) v[l] += v[l + 4];
    return (v[0] + v[2]) + (v[1] + v[3]);
}

#endif

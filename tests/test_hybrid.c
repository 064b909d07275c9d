/* models/hybrid: Algorithm 1 of Waleffe et al. 2024 (Mamba-2-Hybrid layer
 * allocation) against the patterns NVIDIA ships for it, its properties over
 * a sweep, Python's round-half-to-even, overrides and bad input.
 *
 * Table 11 of the paper could not be found in any source available when this
 * test was written, so none of its rows are here; the references are the
 * Megatron-LM patterns below, which Algorithm 1 must reproduce exactly. */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "models/config.h"
#include "models/hybrid.h"

static int count(const char *p, char symbol)
{
    int c = 0;
    for (; *p; p++) c += *p == symbol;
    return c;
}

/* Pattern for (L, a, m), or "ERROR: <msg>". */
static const char *alloc(int L, double a, double m)
{
    static char out[SEQ_MAX_SUBLAYERS + 600];
    Err e = {{0}};
    if (hybrid_allocate(L, a, m, out, SEQ_MAX_SUBLAYERS + 1, &e)) snprintf(out, sizeof out, "ERROR: %s", e.msg);
    return out;
}

/* Patterns published by NVIDIA with the ratios that produce them. */
static void test_megatron_patterns(void)
{
    /* the 8B Mamba-2-Hybrid of the paper: Megatron-LM examples/mamba/README.md
     * ("the 8B hybrid model described in the technical report") and
     * run_text_gen_server_8b.sh; 56 layers, --hybrid-attention-ratio 0.08,
     * --hybrid-mlp-ratio 0.5 */
    const char *p8b = "M-M-M--M-M*-M-M-M-M--M*-M-M-M-M-M*--M-M-M-M-M*-M--M-M-M-";
    const char *p = alloc(56, 0.08, 0.5);
    CHECK(!strcmp(p, p8b), "8B: %s\n   want %s", p, p8b);
    CHECK(count(p, 'M') == 24 && count(p, '*') == 4 && count(p, '-') == 28, "8B counts %d/%d/%d, want 24/4/28",
          count(p, 'M'), count(p, '*'), count(p, '-'));
    CHECK(p[0] == 'M' && p[55] == '-', "8B starts with M and ends with -: %s", p);
    /* the 48-layer ~800M example: Megatron-LM examples/mamba/train.sh gives
     * --num-layers 48 --hybrid-attention-ratio 0.08 --hybrid-mlp-ratio 0.5
     * together with this --hybrid-override-pattern */
    const char *p800m = "M-M-M--M-*M-M-M-M--*M-M-M-M-*M--M-M-M-*M-M--M-M-";
    p = alloc(48, 0.08, 0.5);
    CHECK(!strcmp(p, p800m), "48 layers: %s\n   want %s", p, p800m);
    CHECK(count(p, 'M') == 20 && count(p, '*') == 4 && count(p, '-') == 24, "48-layer counts");
    Err e = {{0}};
    CHECK(hybrid_check_override(p8b, 56, 0.08, 0.5, 1, &e) == 0, "8B pattern as an override: %s", e.msg);
    CHECK(hybrid_check_override(p800m, 48, 0.08, 0.5, 1, &e) == 0, "48-layer pattern as an override: %s", e.msg);
}

/* Whole strings from Megatron-LM's own _allocate_auto (run in Python), the
 * reference implementation of Algorithm 1. */
static void test_reference_strings(void)
{
    static const struct { int L; double a, m; const char *want; } CASES[] = {
        {24, 0.08, 0.5, "M-M-M--*M-M-M-M-*M--M-M-"},
        {48, 0.5, 0.2, "M*-*M*M*-*M*-*M*M*-*M*-**M*-*M*M*-*M*-*M*M*-*M*-"},
        {8, 0.25, 0.25, "MM*-M*M-"},
        {8, 0.5, 0.25, "M*-**M*-"},
        {4, 0.25, 0.25, "MM*-"},
        {14, 0.25, 0, "MM*MM*MM*MM*MM"},
        {10, 0.3, 0.7, "--*--*-*--"}, /* a + m = 1: no Mamba left */
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        const char *p = alloc(CASES[i].L, CASES[i].a, CASES[i].m);
        CHECK(!strcmp(p, CASES[i].want), "L=%d a=%g m=%g: %s, want %s", CASES[i].L, CASES[i].a, CASES[i].m, p,
              CASES[i].want);
    }
}

/* round(L x ratio) halves to even, as Python's round(), whatever the FP
 * rounding mode. */
static void test_round_half_even(void)
{
    static const struct { int L; double a, m; int att, mlp; const char *want; } CASES[] = {
        {10, 0.25, 0.25, 2, 2, "MMM*-M*MM-"}, /* 2.5 -> 2 */
        {6, 0.25, 0.25, 2, 2, "M*-M*-"},      /* 1.5 -> 2 */
        {14, 0.25, 0, 4, 0, NULL},            /* 3.5 -> 4 */
        {2, 0.25, 0.25, 0, 0, "MM"},          /* 0.5 -> 0 */
        {5, 0.5, 0, 2, 0, "M*M*M"},           /* 2.5 -> 2 */
        {7, 0.5, 0, 4, 0, "M**M**M"},         /* 3.5 -> 4 */
        {1, 0.5, 0, 0, 0, "M"},               /* 0.5 -> 0 */
        {1, 0, 0.5, 0, 0, "M"},
        {3, 0, 0.5, 0, 2, NULL},              /* 1.5 -> 2 */
        {9, 0.5, 0.5, 4, 4, NULL},            /* 4.5 -> 4 twice: 8 of 9 */
    };
    static const int MODES[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    for (size_t k = 0; k < sizeof MODES / sizeof *MODES; k++) {
        fesetround(MODES[k]);
        for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
            char p[64];
            snprintf(p, sizeof p, "%s", alloc(CASES[i].L, CASES[i].a, CASES[i].m));
            CHECK(count(p, '*') == CASES[i].att && count(p, '-') == CASES[i].mlp,
                  "mode %zu, L=%d a=%g m=%g: %s has %d attention, %d MLP; want %d, %d", k, CASES[i].L, CASES[i].a,
                  CASES[i].m, p, count(p, '*'), count(p, '-'), CASES[i].att, CASES[i].mlp);
            if (CASES[i].want) CHECK(!strcmp(p, CASES[i].want), "mode %zu: %s, want %s", k, p, CASES[i].want);
        }
    }
    fesetround(FE_TONEAREST);
}

static void test_edges(void)
{
    CHECK(!strcmp(alloc(8, 0, 0), "MMMMMMMM"), "ratios 0: %s", alloc(8, 0, 0));
    CHECK(!strcmp(alloc(5, 1, 0), "*****"), "attention 1: %s", alloc(5, 1, 0));
    CHECK(!strcmp(alloc(5, 0, 1), "-----"), "MLP 1: %s", alloc(5, 0, 1));
    CHECK(!strcmp(alloc(1, 1, 0), "*") && !strcmp(alloc(1, 0, 1), "-") && !strcmp(alloc(1, 0.6, 0), "*"), "one layer");
    CHECK(!strcmp(alloc(2, 0.5, 0.5), "-*"), "one of each: %s", alloc(2, 0.5, 0.5));
    const char *p = alloc(SEQ_MAX_SUBLAYERS, 0.08, 0.5);
    CHECK(strlen(p) == SEQ_MAX_SUBLAYERS && count(p, '*') == 82 && count(p, '-') == 512,
          "1024 layers: %zu long, %d attention, %d MLP", strlen(p), count(p, '*'), count(p, '-'));
}

/* Over L = 1..200 and ratios in steps of 0.01: the counts are round(L x r)
 * (libm's nearbyint in round-to-nearest mode is the reference for Python's
 * round), attention splits the other layers into sections whose lengths
 * differ by at most one, and the stack starts with M / ends with - whenever
 * the walks' first and last steps allow it (checked in Python first). */
static void test_sweep(void)
{
    long cases = 0, bad_count = 0, bad_sections = 0, bad_start = 0, bad_end = 0, bad_error = 0;
    char first[600] = "";
    for (int L = 1; L <= 200; L++)
        for (int ai = 0; ai <= 100; ai++)
            for (int mi = 0; ai + mi <= 100; mi++) {
                double a = ai / 100.0, m = mi / 100.0;
                long n_att = (long)nearbyint(L * a), n_mlp = (long)nearbyint(L * m), n_mamba = L - n_att - n_mlp;
                char out[301];
                Err e = {{0}};
                int rc = hybrid_allocate(L, a, m, out, sizeof out, &e);
                if (n_mamba < 0) { /* more than L layers asked for: must be an error, not a pattern */
                    bad_error += rc == 0;
                    continue;
                }
                cases++;
                if (rc) {
                    bad_error++;
                    if (!*first) snprintf(first, sizeof first, "L=%d a=%g m=%g: %s", L, a, m, e.msg);
                    continue;
                }
                if (count(out, '*') != n_att || count(out, '-') != n_mlp || (long)strlen(out) != L) {
                    bad_count++;
                    if (!*first) snprintf(first, sizeof first, "L=%d a=%g m=%g: %.100s", L, a, m, out);
                }
                int lo = L, hi = 0, run = 0;
                for (int l = 0; l <= L; l++) {
                    if (l < L && out[l] != '*') { run++; continue; }
                    lo = run < lo ? run : lo;
                    hi = run > hi ? run : hi;
                    run = 0;
                }
                bad_sections += n_att > 0 && hi - lo > 1;
                if (n_mamba >= 1 && 2 * n_mamba >= n_mlp && 2 * (L - n_att) >= n_att + 1) bad_start += out[0] != 'M';
                if (n_mlp >= 1 && n_mamba <= n_mlp && L - n_att >= n_att + 1) bad_end += out[L - 1] != '-';
            }
    CHECK(cases > 900000, "sweep ran %ld cases", cases);
    CHECK(bad_error == 0, "%ld cases: error where a pattern exists or the reverse (%s)", bad_error, first);
    CHECK(bad_count == 0, "%ld cases with counts != round(L x ratio) (%s)", bad_count, first);
    CHECK(bad_sections == 0, "%ld cases with uneven Mamba sections", bad_sections);
    CHECK(bad_start == 0, "%ld cases not starting with M", bad_start);
    CHECK(bad_end == 0, "%ld cases not ending with -", bad_end);
}

static void test_override(void)
{
    Err e = {{0}};
    /* Megatron-LM's unit tests: overrides with matching counts are accepted */
    CHECK(hybrid_check_override("MM*-MM*-", 8, 0.25, 0.25, 1, &e) == 0, "MM*-MM*-: %s", e.msg);
    CHECK(hybrid_check_override("M**-M**-", 8, 0.5, 0.25, 1, &e) == 0, "M**-M**-: %s", e.msg);
    /* ... and without ratios only the length matters */
    CHECK(hybrid_check_override("M*-M*-M*-", 9, 0, 0, 0, &e) == 0, "no ratios: %s", e.msg);
    CHECK(hybrid_check_override("MMMMMMMMM", 9, 0, 0, 0, &e) == 0, "no ratios, all M: %s", e.msg);
    CHECK(hybrid_check_override("MEM*L-R", 7, 0, 0, 0, &e) == 0, "any known symbol: %s", e.msg);

    CHECK(hybrid_check_override("M*-M*-", 9, 0, 0, 0, &e) == -1 && !strcmp(e.msg, "override \"M*-M*-\": 6 layers, expected 9"),
          "wrong length: %s", e.msg);
    CHECK(hybrid_check_override("M*--M**-", 8, 0.5, 0.25, 1, &e) == -1 &&
              !strcmp(e.msg, "override \"M*--M**-\": 3 attention layers, Algorithm 1 gives 4; "
                             "3 MLP layers, Algorithm 1 gives 2"),
          "wrong counts: %s", e.msg);
    CHECK(hybrid_check_override("M**-", 4, 0.25, 0.25, 1, &e) == -1 &&
              !strcmp(e.msg, "override \"M**-\": 2 attention layers, Algorithm 1 gives 1; "
                             "1 Mamba layer, Algorithm 1 gives 2"),
          "wrong counts: %s", e.msg);
    CHECK(hybrid_check_override("M*-M*-M*-", 9, 0, 0, 1, &e) == -1 && strstr(e.msg, "3 attention layers, Algorithm 1 gives 0"),
          "ratios given as 0 are checked: %s", e.msg);
    CHECK(hybrid_check_override("MMEM", 4, 0, 0, 1, &e) == -1 && strstr(e.msg, "1 MoE layer, Algorithm 1 gives 0"),
          "other symbols counted: %s", e.msg);
    CHECK(hybrid_check_override("MX-", 3, 0, 0, 0, &e) == -1 && strstr(e.msg, "unknown symbol 'X' at position 1"),
          "unknown symbol: %s", e.msg);
    CHECK(hybrid_check_override("M\x01-", 3, 0, 0, 0, &e) == -1 && strstr(e.msg, "byte 0x01"), "control byte: %s", e.msg);
    CHECK(hybrid_check_override("", 4, 0, 0, 0, &e) == -1 && strstr(e.msg, "0 layers, expected 4"), "empty: %s", e.msg);
    CHECK(hybrid_check_override(NULL, 4, 0, 0, 0, &e) == -1, "NULL override accepted");
    CHECK(hybrid_check_override("MMMM", 4, 0.6, 0.5, 1, &e) == -1 && strstr(e.msg, "0.6 + MLP ratio 0.5 > 1"),
          "bad ratios through the override: %s", e.msg);
    char lng[101];
    memset(lng, 'M', 100);
    lng[100] = '\0';
    CHECK(hybrid_check_override(lng, 99, 0, 0, 0, &e) == -1 && strstr(e.msg, "...\" (100 symbols): 100 layers, expected 99"),
          "long override quoted short: %s", e.msg);
}

static void test_bad_input(void)
{
    Err e = {{0}};
    char out[64];
    CHECK(hybrid_allocate(0, 0, 0, out, sizeof out, &e) == -1 && strstr(e.msg, "[1, 1024] (got 0)"), "0 layers: %s", e.msg);
    CHECK(hybrid_allocate(-3, 0, 0, out, sizeof out, &e) == -1 && strstr(e.msg, "(got -3)"), "-3 layers: %s", e.msg);
    CHECK(hybrid_allocate(1025, 0, 0, out, sizeof out, &e) == -1 && strstr(e.msg, "(got 1025)"), "1025: %s", e.msg);
    CHECK(hybrid_allocate(8, -0.1, 0, out, sizeof out, &e) == -1 && !strcmp(e.msg, "attention ratio -0.1 is not in [0, 1]"),
          "negative ratio: %s", e.msg);
    CHECK(hybrid_allocate(8, 1.5, 0, out, sizeof out, &e) == -1 && strstr(e.msg, "attention ratio 1.5"), "1.5: %s", e.msg);
    CHECK(hybrid_allocate(8, 0, 2, out, sizeof out, &e) == -1 && !strcmp(e.msg, "MLP ratio 2 is not in [0, 1]"),
          "MLP 2: %s", e.msg);
    CHECK(hybrid_allocate(8, NAN, 0, out, sizeof out, &e) == -1 && strstr(e.msg, "nan"), "NaN: %s", e.msg);
    CHECK(hybrid_allocate(8, 0, INFINITY, out, sizeof out, &e) == -1 && strstr(e.msg, "inf"), "inf: %s", e.msg);
    CHECK(hybrid_allocate(8, 0.6, 0.5, out, sizeof out, &e) == -1 && !strcmp(e.msg, "attention ratio 0.6 + MLP ratio 0.5 > 1"),
          "a + m > 1: %s", e.msg);
    /* a + m <= 1, but both round up: 2 + 2 of 3 layers */
    CHECK(hybrid_allocate(3, 0.5, 0.5, out, sizeof out, &e) == -1 &&
              !strcmp(e.msg, "3 layers: round(3 x 0.5) = 2 attention + round(3 x 0.5) = 2 MLP layers is more than 3"),
          "rounded counts > L: %s", e.msg);
    CHECK(hybrid_allocate(10, 0.3, 0.7, out, sizeof out, &e) == 0, "0.3 + 0.7 is 1: %s", e.msg);
    CHECK(hybrid_allocate(8, 0, 0, out, 8, &e) == -1 && strstr(e.msg, "9 bytes"), "buffer too small: %s", e.msg);
    CHECK(hybrid_allocate(8, 0, 0, NULL, 64, &e) == -1, "NULL buffer accepted");
}

int main(void)
{
    test_megatron_patterns();
    test_reference_strings();
    test_round_half_even();
    test_edges();
    test_sweep();
    test_override();
    test_bad_input();
    return check_summary();
}

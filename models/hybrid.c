#include "hybrid.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "pattern.h"

/* Python's round() (round half to even), which Megatron-LM's allocation uses:
 * round(56 x 0.5) = 28 but round(10 x 0.25) = 2 and round(6 x 0.25) = 2.
 * floor() and the remainder v - floor(v) are exact, so unlike rint() the
 * result does not depend on the floating-point rounding mode. */
static long round_half_even(double v)
{
    double f = floor(v), frac = v - f;
    long n = (long)f;
    if (frac > 0.5 || (frac == 0.5 && n % 2 != 0)) n++;
    return n;
}

static int check_args(int layers, double a, double m, Err *e)
{
    if (layers < 1 || layers > SEQ_MAX_SUBLAYERS)
        return err_set(e, "number of layers must be in [1, %d] (got %d)", SEQ_MAX_SUBLAYERS, layers);
    if (!(a >= 0 && a <= 1)) return err_set(e, "attention ratio %g is not in [0, 1]", a);
    if (!(m >= 0 && m <= 1)) return err_set(e, "MLP ratio %g is not in [0, 1]", m);
    /* the slack only forgives decimal inputs such as 0.07 + 0.93 whose binary
     * sum lands an ulp above 1; the rounded counts are checked exactly below */
    if (a + m > 1 + 1e-12) return err_set(e, "attention ratio %g + MLP ratio %g > 1", a, m);
    return 0;
}

int hybrid_allocate(int layers, double attention_ratio, double mlp_ratio, char *out, size_t cap, Err *e)
{
    if (check_args(layers, attention_ratio, mlp_ratio, e)) return -1;
    if (!out || cap < (size_t)layers + 1)
        return err_set(e, "%d layers need %d bytes for the pattern (buffer has %zu)", layers, layers + 1, out ? cap : 0);
    int L = layers;
    long n_att = round_half_even(L * attention_ratio), n_mlp = round_half_even(L * mlp_ratio);
    if (n_att + n_mlp > L)
        return err_set(e, "%d layers: round(%d x %g) = %ld attention + round(%d x %g) = %ld MLP layers is more than %d",
                       L, L, attention_ratio, n_att, L, mlp_ratio, n_mlp, L);

    /* 1. attention: n_att + 1 Mamba sections of s layers each; x is what is
     *    left of the current section, and an attention layer goes where less
     *    than half a layer is left, so the stack starts and ends with Mamba */
    long n_mamba = L - n_att;
    double s = (double)n_mamba / (double)(n_att + 1), x = s;
    for (int l = 0; l < L; l++) {
        out[l] = 'M';
        if (x < 0.5) {
            out[l] = '*';
            x += s;
        } else {
            x -= 1;
        }
    }
    /* 2. MLP: the same walk over the Mamba positions only, r Mamba layers per
     *    MLP, so MLPs are spread evenly, right-justified, never over attention */
    if (n_mlp > 0) {
        n_mamba -= n_mlp;
        double r = (double)n_mamba / (double)n_mlp;
        x = r;
        for (int l = 0; l < L; l++) {
            if (out[l] != 'M') continue;
            if (x < 0.5) {
                out[l] = '-';
                x += r;
            } else {
                x -= 1;
            }
        }
    }
    out[L] = '\0';

    long got_att = 0, got_mlp = 0;
    for (int l = 0; l < L; l++) {
        got_att += out[l] == '*';
        got_mlp += out[l] == '-';
    }
    if (got_att != n_att || got_mlp != n_mlp) /* cannot happen (each walk places exactly its count); never crash */
        return err_set(e, "%d layers, ratios %g and %g: Algorithm 1 placed %ld attention and %ld MLP layers, "
                          "expected %ld and %ld", L, attention_ratio, mlp_ratio, got_att, got_mlp, n_att, n_mlp);
    return 0;
}

/* The kinds of sublayer an override is compared on, in the order reported. */
static const struct { char symbol; const char *name; } KINDS[] = {
    {'*', "attention"}, {'-', "MLP"}, {'M', "Mamba"},
    {'L', "local attention"}, {'R', "RG-LRU"}, {'E', "MoE"},
};

/* "\"M*-\"", or the first 60 symbols and the length of a long pattern. */
static void quote(const char *p, char *q, size_t cap)
{
    size_t n = strlen(p);
    if (n <= 64) snprintf(q, cap, "\"%s\"", p);
    else snprintf(q, cap, "\"%.60s...\" (%zu symbols)", p, n);
}

static int count(const char *p, char symbol)
{
    int c = 0;
    for (; *p; p++) c += *p == symbol;
    return c;
}

int hybrid_check_override(const char *override, int layers, double a, double m, int ratios_given, Err *e)
{
    if (!override) return err_set(e, "override pattern is missing");
    char q[96];
    quote(override, q, sizeof q);
    size_t n = strlen(override);
    for (size_t i = 0; i < n; i++) { /* unknown symbols first: a typo is the likelier mistake */
        unsigned char c = (unsigned char)override[i];
        if (pattern_symbol_name((char)c)) continue;
        if (c < 32 || c > 126)
            return err_set(e, "override %s: unknown symbol (byte 0x%02x) at position %zu (known: M * L R - E)", q, c, i);
        return err_set(e, "override %s: unknown symbol '%c' at position %zu (known: M * L R - E)", q, c, i);
    }
    if (layers < 1 || layers > SEQ_MAX_SUBLAYERS)
        return err_set(e, "number of layers must be in [1, %d] (got %d)", SEQ_MAX_SUBLAYERS, layers);
    if (n != (size_t)layers) return err_set(e, "override %s: %zu layers, expected %d", q, n, layers);
    if (!ratios_given) return 0;

    char want[SEQ_MAX_SUBLAYERS + 1];
    if (hybrid_allocate(layers, a, m, want, sizeof want, e)) return -1;
    char msg[sizeof e->msg];
    size_t k = (size_t)snprintf(msg, sizeof msg, "override %s: ", q);
    int differ = 0;
    for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS && k < sizeof msg; i++) {
        int got = count(override, KINDS[i].symbol), exp = count(want, KINDS[i].symbol);
        if (got == exp) continue;
        k += (size_t)snprintf(msg + k, sizeof msg - k, "%s%d %s layer%s, Algorithm 1 gives %d", differ ? "; " : "", got,
                              KINDS[i].name, got == 1 ? "" : "s", exp);
        differ = 1;
    }
    return differ ? err_set(e, "%s", msg) : 0;
}

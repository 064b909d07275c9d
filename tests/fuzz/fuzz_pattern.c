/* The pattern language and Algorithm 1 (models/pattern.c, models/hybrid.c).
 * The input is a 22-byte header, then the pattern text:
 *
 *   0      repeats for pattern_expand (signed; 0x7f = INT_MAX, 0x80 = INT_MIN)
 *   1-2    layers (int16, little-endian)
 *   3      bit 0/1: attention/MLP ratio is the raw double below (NaN, inf,
 *          subnormals...) instead of a decimal; bit 2: ratios given to the
 *          override check; bit 3: output buffers sized by bytes 20-21
 *   4-11   attention ratio: raw double, or uint16 / 10000
 *   12-19  MLP ratio, the same
 *   20-21  output buffer size (uint16) when bit 3 is set
 *
 * Properties: what pattern_expand accepts is the pattern repeated; what
 * hybrid_allocate returns has `layers` symbols of M * - and passes its own
 * override check; neither writes past the buffer it was given. */
#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "models/config.h"
#include "models/hybrid.h"
#include "models/pattern.h"

enum { HEADER = 22 };

static double ratio(const uint8_t *b, int raw)
{
    if (raw) {
        double d;
        memcpy(&d, b, sizeof d);
        return d;
    }
    return (double)(b[0] | b[1] << 8) / 10000.0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t h[HEADER] = {0};
    memcpy(h, data, size < HEADER ? size : HEADER);
    size_t plen = size > HEADER ? size - HEADER : 0;
    char *pattern = malloc(plen + 1);
    if (!pattern) return 0;
    if (plen) memcpy(pattern, data + HEADER, plen);
    pattern[plen] = '\0';

    int repeats = h[0] == 0x7f ? INT_MAX : h[0] == 0x80 ? INT_MIN : (int8_t)h[0];
    int layers = (int16_t)(h[1] | h[2] << 8);
    double a = ratio(h + 4, h[3] & 1), m = ratio(h + 12, h[3] & 2);
    int ratios_given = (h[3] >> 2) & 1;
    size_t cap = h[3] & 8 ? (size_t)(h[20] | h[21] << 8) : SEQ_MAX_SUBLAYERS + 1;
    char *out = malloc(cap ? cap : 1); /* exact size: ASan sees any write past cap */
    if (!out) {
        free(pattern);
        return 0;
    }

    Err e;
    if (pattern_expand(pattern, repeats, out, cap, &e) == 0) {
        size_t n = strlen(pattern);
        FUZZ_CHECK(repeats >= 1 && n >= 1 && strlen(out) == n * (size_t)repeats && strlen(out) <= SEQ_MAX_SUBLAYERS,
                   "\"%s\" x %d gave %zu symbols", pattern, repeats, strlen(out));
        for (int r = 0; r < repeats; r++)
            FUZZ_CHECK(!memcmp(out + (size_t)r * n, pattern, n), "repeat %d differs", r);
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(pattern_symbol_name(pattern[i]), "symbol '%c' has no name", pattern[i]);
    }
    const char *arch = pattern_for_arch(pattern);
    if (arch) FUZZ_CHECK(pattern_expand(arch, 1, out, cap, &e) == 0 || cap <= strlen(arch), "%s: %s", pattern, e.msg);

    if (hybrid_allocate(layers, a, m, out, cap, &e) == 0) {
        FUZZ_CHECK(strlen(out) == (size_t)layers, "%d layers gave %zu symbols", layers, strlen(out));
        FUZZ_CHECK(strspn(out, "M*-") == (size_t)layers, "%d layers, %g, %g: \"%s\"", layers, a, m, out);
        FUZZ_CHECK(hybrid_check_override(out, layers, a, m, 1, &e) == 0, "own pattern refused: %s", e.msg);
    } else {
        /* hybrid.c says this cannot happen: each walk places exactly its count */
        FUZZ_CHECK(!strstr(e.msg, "Algorithm 1 placed"), "%s", e.msg);
    }
    hybrid_check_override(pattern, layers, a, m, ratios_given, &e);
    hybrid_check_override(pattern, (int)strlen(pattern), a, m, ratios_given, NULL);

    free(out);
    free(pattern);
    return 0;
}

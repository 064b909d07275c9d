#include "pattern.h"

#include <string.h>

#include "config.h"
#include "sublayer.h"

static const struct { char symbol; const char *name; } SYMBOLS[] = {
    {'M', "Mamba mixer"}, {'*', "global attention"}, {'L', "local attention"},
    {'R', "RG-LRU recurrent block"}, {'-', "gated MLP"}, {'E', "mixture-of-experts MLP"},
};

static const struct { const char *arch, *pattern; } ARCHS[] = {
    {"transformer", "*-"},
    {"transformer-local", "L-"},
    {"mamba", "M"},
    {"mamba2", "M"},
    {"mamba-lti", "M"},
    {"hawk", "R-"},
    {"griffin", "R-R-L-"},
    {"jamba", "M-MEM-ME*-MEM-ME"},
};

const char *pattern_symbol_name(char symbol)
{
    for (size_t i = 0; i < sizeof SYMBOLS / sizeof *SYMBOLS; i++)
        if (SYMBOLS[i].symbol == symbol) return SYMBOLS[i].name;
    return NULL;
}

int pattern_expand(const char *pattern, int repeats, char *out, size_t cap, Err *e)
{
    size_t n = strlen(pattern);
    if (n == 0) return err_set(e, "pattern is empty (use symbols M * L R - E)");
    for (size_t i = 0; i < n; i++) { /* unknown symbols first: a typo is the likelier mistake */
        unsigned char s = (unsigned char)pattern[i];
        if (pattern_symbol_name((char)s)) continue;
        if (s < 32 || s > 126)
            return err_set(e, "pattern \"%s\": unknown symbol (byte 0x%02x) at position %zu (known: M * L R - E)",
                           pattern, s, i);
        return err_set(e, "pattern \"%s\": unknown symbol '%c' at position %zu (known: M * L R - E)", pattern, s, i);
    }
    for (size_t i = 0; i < n; i++)
        if (!subops_implemented(pattern[i]))
            return err_set(e, "pattern \"%s\": symbol '%c' (%s) at position %zu is not implemented yet", pattern,
                           pattern[i], pattern_symbol_name(pattern[i]), i);
    if (repeats < 1) return err_set(e, "number of repeats must be at least 1 (got %d)", repeats);
    if (n * (size_t)repeats + 1 > cap || n * (size_t)repeats > SEQ_MAX_SUBLAYERS)
        return err_set(e, "pattern \"%s\" x %d = %zu sublayers, more than the maximum %d", pattern, repeats,
                       n * (size_t)repeats, SEQ_MAX_SUBLAYERS);
    for (int r = 0; r < repeats; r++) memcpy(out + (size_t)r * n, pattern, n);
    out[n * (size_t)repeats] = '\0';
    return 0;
}

const char *pattern_for_arch(const char *arch)
{
    for (size_t i = 0; i < sizeof ARCHS / sizeof *ARCHS; i++)
        if (!strcmp(ARCHS[i].arch, arch)) return ARCHS[i].pattern;
    return NULL;
}

const char *pattern_arch_list(void) { return "transformer, transformer-local, mamba, mamba2, mamba-lti, hawk, griffin, jamba, mamba2-hybrid (--attention, --mlp)"; }

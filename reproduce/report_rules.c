/* Claims and their verdicts. A claim's "check" (and "qualitative") is a rule,
 * a small JSON vocabulary over one experiment's results:
 *   VALUE:  {"cell": C, "metric": M, "length": L [, "depth": D]}   accuracy (mean over seeds)
 *           {"cell": C, "field": "path.in[key=v].json"}            any number in the result
 *           either with "stat": "mean" (default), "min" or "max" over seeds
 *   RULE:   VALUE + one of ">=" ">" "<=" "<" "==" (with "tol") and a number
 *           VALUE + "lengths": [L...] instead of "length": the comparison at every length
 *           VALUE + "above" (or "below"): C2 [, "by": x]   C's value beyond C2's by at least x
 *           {"ratio": [VALUE, VALUE], ">=": x}               first over second; a VALUE may be
 *                                                            {"ratio": [VALUE, VALUE]} itself
 *           {"all": [RULE...]}, {"any": [RULE...]}
 *           {"cell": C, "field": F, "==": "text"}             a string in the result, compared exactly
 *           {"scaling": S, "over": S2, "at": "flops", "<=": x}  series S's test metric over S2's at equal
 *                                                            training FLOPs (or "params"), S2 read between its
 *                                                            sizes; the worst size decides
 * Three-valued: a rule whose figure is missing is "unmeasured", never false;
 * all() fails if any part fails, any() holds if any part holds. A malformed
 * rule is RULE_BAD with the reason, and the claim's verdict says so. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reproduce/report.h"

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static void appendf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static const char *const OPS[] = {">=", ">", "<=", "<", "=="};
static const char *const KNOWN[] = {"cell", "metric", "field", "length", "lengths", "depth", "stat", ">=", ">",
                                    "<=", "<", "==", "tol", "above", "below", "by"};

static RuleOutcome bad(char *why, size_t cap, const char *fmt, const char *a)
{
    why[0] = 0;
    appendf(why, cap, fmt, a);
    return RULE_BAD;
}

/* The comparison key of a rule (NULL if none; RULE_BAD if more than one). */
static int find_op(const cJSON *rule, const char **op, double *rhs)
{
    *op = NULL;
    for (size_t i = 0; i < sizeof OPS / sizeof *OPS; i++) {
        const cJSON *v = get(rule, OPS[i]);
        if (!v) continue;
        if (*op || !cJSON_IsNumber(v)) return -1;
        *op = OPS[i];
        *rhs = v->valuedouble;
    }
    return 0;
}

static int compare(double a, const char *op, double b, double tol)
{
    if (!strcmp(op, ">=")) return a >= b - tol;
    if (!strcmp(op, ">")) return a > b;
    if (!strcmp(op, "<=")) return a <= b + tol;
    if (!strcmp(op, "<")) return a < b;
    return fabs(a - b) <= tol;
}

/* "0.966" or, for a mean over seeds that differ, "0.966 (0.95..0.98)": every figure with its spread */
static void stat_text(char *fig, size_t cap, double v, const RepStat *s)
{
    char a[32], lo[32], hi[32];
    rep_num(a, sizeof a, v);
    if (s && s->n > 1) {
        rep_num(lo, sizeof lo, s->lo);
        rep_num(hi, sizeof hi, s->hi);
        if (strcmp(lo, hi)) {
            snprintf(fig, cap, "%s (%s..%s)", a, lo, hi);
            return;
        }
    }
    snprintf(fig, cap, "%s", a);
}

static int known_metric(const char *m)
{
    return !strcmp(m, "string_acc") || !strcmp(m, "token_acc") || !strcmp(m, "loss") || !strcmp(m, "bits_per_byte");
}

/* A length a rule names must be one the spec evaluates at, when the spec shows them (no preset) */
static int spec_has_length(const RepExp *x, double L)
{
    if (x->n_spec_lengths < 0) return 1;
    for (int i = 0; i < x->n_spec_lengths; i++)
        if (x->spec_lengths[i] == L) return 1;
    return 0;
}

/* A field path's shape: segments joined by '.', each a key and/or [index] or [key=value] selectors. */
static int path_syntax(const char *path, char *why, size_t cap)
{
    const char *p = path;
    int ok = 1;
    for (;;) {
        size_t key = strcspn(p, ".[]");
        int sels = 0;
        p += key;
        while (ok && *p == '[') {
            size_t in = strcspn(p + 1, "[]");
            ok = in > 0 && p[1 + in] == ']';
            p += in + 2;
            sels++;
        }
        if (!ok || (!key && !sels) || (*p && *p != '.')) { ok = 0; break; }
        if (!*p) break;
        p++; /* '.', then another segment */
    }
    if (ok) return 0;
    why[0] = 0;
    appendf(why, cap, "\"field\" \"%.100s\" is not a path (keys joined by '.', then [index] or [key=value])", path);
    return -1;
}

/* One VALUE of cell c (c overrides the rule's "cell", for "above"), at length L. */
static RuleOutcome value(const cJSON *rule, RepExp *x, const char *c, double L, double *out, char *desc, size_t dcap,
                         char *fig, size_t fcap, char *why, size_t cap)
{
    const cJSON *metric = get(rule, "metric"), *field = get(rule, "field"), *depth = get(rule, "depth"), *stat = get(rule, "stat");
    if (!c) return bad(why, cap, "%s", "a value needs \"cell\"");
    if (metric && !cJSON_IsString(metric)) return bad(why, cap, "%s", "\"metric\" must be a string");
    if (field && !cJSON_IsString(field)) return bad(why, cap, "%s", "\"field\" must be a string");
    if (depth && !cJSON_IsNumber(depth)) return bad(why, cap, "%s", "\"depth\" must be a number");
    if (stat && (!cJSON_IsString(stat) || (strcmp(stat->valuestring, "mean") && strcmp(stat->valuestring, "min") &&
                                           strcmp(stat->valuestring, "max"))))
        return bad(why, cap, "%s", "\"stat\" must be \"mean\", \"min\" or \"max\"");
    RepCell *cell = rep_cell(x, c);
    if (!cell) {
        why[0] = 0;
        appendf(why, cap, "no cell \"%s\" in the spec", c);
        return RULE_BAD;
    }
    if (metric && !known_metric(metric->valuestring))
        return bad(why, cap, "unknown metric \"%.60s\" (known: string_acc token_acc loss bits_per_byte)", metric->valuestring);
    if (field && path_syntax(field->valuestring, why, cap)) return RULE_BAD;
    if (!field && !isnan(L) && !spec_has_length(x, L)) {
        why[0] = 0;
        appendf(why, cap, "no length %.10g in the spec's \"eval-lengths\"", L);
        return RULE_BAD;
    }
    RepStat s;
    char reason[300] = "";
    if (field) {
        rep_field(cell, field->valuestring, &s, reason, sizeof reason);
        snprintf(desc, dcap, "%s %s", c, field->valuestring);
    } else {
        if (isnan(L)) return bad(why, cap, "%s", "an accuracy value needs \"length\" (or \"lengths\"), or use \"field\"");
        const char *m = metric ? metric->valuestring : x->metric;
        double D = depth ? depth->valuedouble : -1;
        rep_metric(cell, m, L, D, &s);
        if (depth) snprintf(desc, dcap, "%s %s@%.10g depth %g", c, m, L, D);
        else snprintf(desc, dcap, "%s %s@%.10g", c, m, L);
        if (!cell->n_runs) snprintf(reason, sizeof reason, "cell %s has no results", c);
        else snprintf(reason, sizeof reason, "no %s at length %.10g in %s's results", m, L, c);
    }
    if (!s.n) {
        /* a ratio or all/any gathers several values' reasons into one line */
        appendf(why, cap, "%s%s: not measured (%s)", *why ? "; " : "", desc, reason);
        return RULE_UNMEASURED;
    }
    const char *st = stat ? stat->valuestring : "mean";
    *out = !strcmp(st, "min") ? s.lo : !strcmp(st, "max") ? s.hi : s.mean;
    if (strcmp(st, "mean")) appendf(desc, dcap, " (%s of %d)", st, s.n);
    stat_text(fig, fcap, *out, strcmp(st, "mean") ? NULL : &s);
    return RULE_HOLDS;
}

static RuleOutcome combine(RuleOutcome acc, RuleOutcome r, int all)
{
    if (acc == RULE_BAD || r == RULE_BAD) return RULE_BAD;
    if (all) {
        if (acc == RULE_FAILS || r == RULE_FAILS) return RULE_FAILS;
        if (acc == RULE_UNMEASURED || r == RULE_UNMEASURED) return RULE_UNMEASURED;
        return RULE_HOLDS;
    }
    if (acc == RULE_HOLDS || r == RULE_HOLDS) return RULE_HOLDS;
    if (acc == RULE_UNMEASURED || r == RULE_UNMEASURED) return RULE_UNMEASURED;
    return RULE_FAILS;
}

/* {"cell": C, "field": F, "==": "text"}: every seed's string at F equals the text (an exact table's
 * non-numeric entries, e.g. a layer pattern). */
static RuleOutcome string_equal(const cJSON *rule, RepExp *x, char *why, size_t cap)
{
    const cJSON *cell = get(rule, "cell"), *field = get(rule, "field"), *want = get(rule, "==");
    for (const cJSON *k = rule->child; k; k = k->next)
        if (strcmp(k->string, "cell") && strcmp(k->string, "field") && strcmp(k->string, "=="))
            return bad(why, cap, "a string comparison takes only \"cell\", \"field\" and \"==\", not \"%s\"", k->string);
    if (!cJSON_IsString(cell)) return bad(why, cap, "%s", "\"cell\" must be a cell name");
    if (!cJSON_IsString(field)) return bad(why, cap, "%s", "a string comparison needs \"field\"");
    RepCell *c = rep_cell(x, cell->valuestring);
    if (!c) return bad(why, cap, "no cell \"%s\" in the spec", cell->valuestring);
    int counted = 0;
    for (int r = 0; r < c->n_runs; r++) counted += rep_counts(c, r);
    if (!counted) {
        appendf(why, cap, "%s%s %s: not measured (cell %s has no results)", *why ? "; " : "", c->name,
                field->valuestring, c->name);
        return RULE_UNMEASURED;
    }
    int same = 1;
    const char *got = NULL;
    for (int r = 0; r < c->n_runs; r++) {
        if (!rep_counts(c, r)) continue;
        char reason[300] = "";
        const cJSON *v = rep_path(c->runs[r], field->valuestring, reason, sizeof reason);
        if (!cJSON_IsString(v)) {
            appendf(why, cap, "%s%s %s: not measured (%s)", *why ? "; " : "", c->name, field->valuestring,
                    v ? "not a string" : reason);
            return RULE_UNMEASURED;
        }
        if (strcmp(v->valuestring, want->valuestring)) same = 0, got = v->valuestring;
        else if (!got) got = v->valuestring;
    }
    appendf(why, cap, "%s%s %s = \"%.200s\" (== \"%.200s\": %s)", *why ? "; " : "", c->name, field->valuestring, got,
            want->valuestring, same ? "yes" : "no");
    return same ? RULE_HOLDS : RULE_FAILS;
}

/* VALUE op number, VALUE above/below C2, at one length */
static RuleOutcome simple(const cJSON *rule, RepExp *x, double L, char *why, size_t cap)
{
    if (cJSON_IsString(get(rule, "=="))) return string_equal(rule, x, why, cap);
    const cJSON *cell = get(rule, "cell"), *above = get(rule, "above"), *below = get(rule, "below"), *by = get(rule, "by");
    const cJSON *tol = get(rule, "tol");
    const char *op;
    double rhs = 0;
    if (find_op(rule, &op, &rhs)) return bad(why, cap, "%s", "a rule has one comparison (>=, >, <=, <, ==) and it is a number");
    if (!cJSON_IsString(cell)) return bad(why, cap, "%s", "\"cell\" must be a cell name");
    if ((above != NULL) + (below != NULL) + (op != NULL) != 1)
        return bad(why, cap, "%s", "a rule on a cell needs exactly one of >=, >, <=, <, ==, \"above\", \"below\"");
    if (by && !cJSON_IsNumber(by)) return bad(why, cap, "%s", "\"by\" must be a number");
    if (tol && !cJSON_IsNumber(tol)) return bad(why, cap, "%s", "\"tol\" must be a number");
    char desc[300], one[600] = "", va[128];
    double a;
    RuleOutcome r = value(rule, x, cell->valuestring, L, &a, desc, sizeof desc, va, sizeof va, one, sizeof one);
    if (op) {
        if (r != RULE_HOLDS) { appendf(why, cap, "%s%s", *why ? "; " : "", one); return r; }
        char vb[40];
        rep_num(vb, sizeof vb, rhs);
        int ok = compare(a, op, rhs, tol ? tol->valuedouble : 0);
        appendf(why, cap, "%s%s = %s (%s %s: %s)", *why ? "; " : "", desc, va, op, vb, ok ? "yes" : "no");
        return ok ? RULE_HOLDS : RULE_FAILS;
    }
    const cJSON *other = above ? above : below;
    if (!cJSON_IsString(other)) return bad(why, cap, "%s", "\"above\"/\"below\" must name a cell");
    char desc2[300], two[600] = "", vb[128];
    double b;
    RuleOutcome r2 = value(rule, x, other->valuestring, L, &b, desc2, sizeof desc2, vb, sizeof vb, two, sizeof two);
    if (r == RULE_BAD || r2 == RULE_BAD) { snprintf(why, cap, "%s", r == RULE_BAD ? one : two); return RULE_BAD; }
    if (r != RULE_HOLDS || r2 != RULE_HOLDS) {
        appendf(why, cap, "%s%s%s%s", *why ? "; " : "", one, *one && *two ? "; " : "", two);
        return RULE_UNMEASURED;
    }
    double margin = by ? by->valuedouble : 0;
    int ok = above ? a - b >= margin : b - a >= margin;
    char vm[40];
    rep_num(vm, sizeof vm, margin);
    appendf(why, cap, "%s%s = %s vs %s = %s (%s by >= %s: %s)", *why ? "; " : "", desc, va, other->valuestring, vb,
            above ? "above" : "below", vm, ok ? "yes" : "no");
    return ok ? RULE_HOLDS : RULE_FAILS;
}

/* Steps (or tokens) a cell's runs needed to reach `acc` on their validation curves, the mean over the counted
 * runs into *v; *censored: runs that never reached it (counted at the steps they did: *v is then a lower
 * bound). Returns the runs read, 0 if none has a curve (why says so). */
static int steps_to(const RepCell *c, double acc, const char *metric, int tokens, double *v, int *censored,
                    RepStat *s, char *why, size_t cap)
{
    memset(s, 0, sizeof *s);
    *censored = 0;
    int n = 0;
    double sum = 0;
    snprintf(why, cap, "cell %s has no results", c->name);
    for (int r = 0; r < c->n_runs; r++) {
        if (!rep_counts(c, r)) continue;
        const cJSON *m = get(c->runs[r], "metrics");
        const cJSON *curve = get(get(m, "validation"), "curve"), *done = get(m, tokens ? "tokens" : "steps");
        if (!cJSON_IsArray(curve) || !curve->child || !cJSON_IsNumber(done)) {
            snprintf(why, cap, "no validation curve in %s's results (train --val-seqs)", c->name);
            continue;
        }
        double at = -1;
        for (const cJSON *p = curve->child; p && at < 0; p = p->next) {
            const cJSON *a = get(p, metric), *st = get(p, tokens ? "tokens" : "step");
            if (cJSON_IsNumber(a) && cJSON_IsNumber(st) && a->valuedouble >= acc) at = st->valuedouble;
        }
        if (at < 0) at = done->valuedouble, ++*censored;
        sum += at;
        if (!s->n || at < s->lo) s->lo = at;
        if (!s->n || at > s->hi) s->hi = at;
        s->n++;
        n++;
    }
    *v = n ? sum / n : NAN;
    s->mean = *v;
    return n;
}

/* "1200 (1000..1400)", "> 3000" (no run reached it), ">= 2400 (1200..3000; 1 of 2 never reached it)" */
static void steps_text(char *buf, size_t cap, const RepStat *s, int censored)
{
    char fig[128];
    stat_text(fig, sizeof fig, s->mean, s);
    if (!censored) snprintf(buf, cap, "%s", fig);
    else if (censored == s->n) snprintf(buf, cap, "> %s", fig);
    else snprintf(buf, cap, ">= %s; %d of %d never reached it", fig, censored, s->n);
}

/* {"steps_to": A, "cell": C [, "metric": M] [, "count": "tokens"], OP: N} and the same with "ratio_over": C2:
 * the first validation check at which C's M (default string_acc) >= A, in steps (or tokens). A cell that never
 * reaches A counts at the steps it did: a lower bound, which decides the rule only when the bound does. */
static RuleOutcome steps_rule(const cJSON *rule, RepExp *x, char *why, size_t cap)
{
    static const char *const OWN[] = {"steps_to", "cell", "metric", "count", "ratio_over", ">=", ">", "<=", "<",
                                      "==", "tol"};
    for (const cJSON *k = rule->child; k; k = k->next) {
        int known = 0;
        for (size_t i = 0; i < sizeof OWN / sizeof *OWN; i++) known |= !strcmp(k->string, OWN[i]);
        if (!known)
            return bad(why, cap, "unknown key \"%s\" in a steps_to rule (known: steps_to cell metric count "
                                 "ratio_over >= > <= < == tol)", k->string);
    }
    const cJSON *acc = get(rule, "steps_to"), *cell = get(rule, "cell"), *metric = get(rule, "metric");
    const cJSON *count = get(rule, "count"), *over = get(rule, "ratio_over"), *tol = get(rule, "tol");
    const char *op;
    double rhs = 0;
    if (!cJSON_IsNumber(acc) || acc->valuedouble <= 0 || acc->valuedouble > 1)
        return bad(why, cap, "%s", "\"steps_to\" is an accuracy in (0, 1]");
    if (find_op(rule, &op, &rhs) || !op) return bad(why, cap, "%s", "a steps_to rule needs one comparison (>= > <= < ==)");
    if (!cJSON_IsString(cell)) return bad(why, cap, "%s", "\"cell\" must be a cell name");
    if (over && !cJSON_IsString(over)) return bad(why, cap, "%s", "\"ratio_over\" must name a cell");
    if (metric && (!cJSON_IsString(metric) || (strcmp(metric->valuestring, "string_acc") &&
                                               strcmp(metric->valuestring, "token_acc"))))
        return bad(why, cap, "%s", "a steps_to \"metric\" is string_acc or token_acc");
    if (count && (!cJSON_IsString(count) || (strcmp(count->valuestring, "steps") && strcmp(count->valuestring, "tokens"))))
        return bad(why, cap, "%s", "\"count\" is \"steps\" or \"tokens\"");
    if (tol && !cJSON_IsNumber(tol)) return bad(why, cap, "%s", "\"tol\" must be a number");
    const char *names[2] = {cell->valuestring, over ? over->valuestring : NULL};
    RepCell *cs[2] = {NULL, NULL};
    for (int i = 0; i < 1 + (over != NULL); i++)
        if (!(cs[i] = rep_cell(x, names[i]))) return bad(why, cap, "no cell \"%s\" in the spec", names[i]);
    const char *m = metric ? metric->valuestring : "string_acc";
    int tokens = count && !strcmp(count->valuestring, "tokens");
    double v[2] = {0, 1};
    int cens[2] = {0, 0};
    char text[2][200], desc[2][200];
    RuleOutcome o = RULE_HOLDS;
    for (int i = 0; i < 1 + (over != NULL); i++) {
        RepStat s;
        char reason[200];
        snprintf(desc[i], sizeof desc[i], "%s %s to %s %.10g", names[i], tokens ? "tokens" : "steps", m,
                 acc->valuedouble);
        if (!steps_to(cs[i], acc->valuedouble, m, tokens, &v[i], &cens[i], &s, reason, sizeof reason)) {
            appendf(why, cap, "%s%s: not measured (%s)", *why ? "; " : "", desc[i], reason);
            o = RULE_UNMEASURED;
            continue;
        }
        steps_text(text[i], sizeof text[i], &s, cens[i]);
    }
    if (o != RULE_HOLDS) return o;
    /* what the figure is: exact, a lower bound (the numerator never reached), or an upper bound (the denominator) */
    double q = over ? (v[1] > 0 ? v[0] / v[1] : NAN) : v[0];
    int lower = cens[0] > 0, upper = over && cens[1] > 0;
    int ok = !isnan(q) && compare(q, op, rhs, tol ? tol->valuedouble : 0);
    char vq[40], vr[40];
    rep_num(vq, sizeof vq, q);
    rep_num(vr, sizeof vr, rhs);
    RuleOutcome out = ok ? RULE_HOLDS : RULE_FAILS;
    int greater = op[0] == '>';
    if (lower && upper) out = RULE_UNMEASURED;                    /* neither reached it: no bound either way */
    else if (lower && (greater ? !ok : ok) && strcmp(op, "==")) out = RULE_UNMEASURED; /* q could be larger */
    else if (upper && (greater ? ok : !ok) && strcmp(op, "==")) out = RULE_UNMEASURED; /* q could be smaller */
    else if ((lower || upper) && !strcmp(op, "==")) out = RULE_UNMEASURED; /* a bound never shows equality */
    if (over)
        appendf(why, cap, "%s%s = %s over %s = %s: ratio %s%s (%s %s: %s)", *why ? "; " : "", desc[0], text[0], names[1],
                text[1], lower && upper ? "unknown, " : lower ? ">= " : upper ? "<= " : "", vq, op, vr,
                out == RULE_HOLDS ? "yes" : out == RULE_FAILS ? "no" : "cannot tell: a cell never reached it");
    else
        appendf(why, cap, "%s%s = %s (%s %s: %s)", *why ? "; " : "", desc[0], text[0], op, vr,
                out == RULE_HOLDS ? "yes" : out == RULE_FAILS ? "no" : "cannot tell: it never reached it");
    return out;
}

/* A series' points of a scaling figure (the spec's "scaling"): x (training FLOPs or parameters) and the metric on
 * test, for the sizes that have both, ascending in x. */
static int series_points(RepExp *x, const cJSON *series, double length, int flops, double *px, double *py, int cap)
{
    int n = 0;
    const cJSON *cn;
    cJSON_ArrayForEach(cn, get(series, "cells")) {
        RepScalePoint p;
        rep_scale_point(rep_cell(x, cn->valuestring), x->metric, length, &p);
        const RepStat *at = flops ? &p.flops : &p.params;
        if (!p.test.n || !at->n || !(at->mean > 0) || n == cap) continue;
        int k = n++;
        for (; k > 0 && px[k - 1] > at->mean; k--) px[k] = px[k - 1], py[k] = py[k - 1];
        px[k] = at->mean;
        py[k] = p.test.mean;
    }
    return n;
}

/* {"scaling": A, "over": B, "at": "flops" | "params", OP: N}: series A's metric over series B's at equal training
 * FLOPs (or parameters), B's curve read between its sizes (linear in log x, no extrapolation), at every size of A
 * inside B's range; the figure is the worst of them: the largest for <= and <, the smallest for >= and >. */
static RuleOutcome scaling_rule(const cJSON *rule, RepExp *x, char *why, size_t cap)
{
    static const char *const OWN[] = {"scaling", "over", "at", ">=", ">", "<=", "<", "tol"};
    for (const cJSON *k = rule->child; k; k = k->next) {
        int known = 0;
        for (size_t i = 0; i < sizeof OWN / sizeof *OWN; i++) known |= !strcmp(k->string, OWN[i]);
        if (!known) return bad(why, cap, "unknown key \"%s\" in a scaling rule (known: scaling over at >= > <= < tol)", k->string);
    }
    const cJSON *sa = get(rule, "scaling"), *sb = get(rule, "over"), *at = get(rule, "at"), *tol = get(rule, "tol"), *sc;
    const char *op;
    double rhs = 0;
    if (find_op(rule, &op, &rhs) || !op) return bad(why, cap, "%s", "a scaling rule needs one comparison (>= > <= <)");
    if (!cJSON_IsString(sa) || !cJSON_IsString(sb)) return bad(why, cap, "%s", "\"scaling\" and \"over\" name two series");
    if (!cJSON_IsString(at) || (strcmp(at->valuestring, "flops") && strcmp(at->valuestring, "params")))
        return bad(why, cap, "%s", "\"at\" is \"flops\" (equal training compute) or \"params\"");
    Err e = {{0}};
    if (rep_scaling(x, &sc, &e) || !sc) return bad(why, cap, "%s", *e.msg ? e.msg : "the spec has no \"scaling\" series");
    const cJSON *series[2] = {NULL, NULL}, *sr;
    cJSON_ArrayForEach(sr, get(sc, "series")) for (int i = 0; i < 2; i++)
        if (!strcmp(get(sr, "name")->valuestring, (i ? sb : sa)->valuestring)) series[i] = sr;
    for (int i = 0; i < 2; i++)
        if (!series[i]) return bad(why, cap, "no scaling series \"%s\" in the spec", (i ? sb : sa)->valuestring);
    int flops = !strcmp(at->valuestring, "flops"), greater = op[0] == '>';
    double ax[16], ay[16], bx[16], by[16], length = get(sc, "length")->valuedouble;
    int na = series_points(x, series[0], length, flops, ax, ay, 16), nb = series_points(x, series[1], length, flops, bx, by, 16);
    char list[400] = "";
    double worst = NAN;
    for (int i = 0; i < na; i++) {
        if (nb < 1 || ax[i] < bx[0] || ax[i] > bx[nb - 1]) continue;
        int k = 0;
        while (k + 1 < nb && bx[k + 1] < ax[i]) k++;
        double yb = by[k];
        if (ax[i] > bx[k] && k + 1 < nb) yb += (by[k + 1] - by[k]) * log(ax[i] / bx[k]) / log(bx[k + 1] / bx[k]);
        double q = ay[i] / yb;
        char vq[40];
        rep_num(vq, sizeof vq, q);
        appendf(list, sizeof list, "%s%s", *list ? ", " : "", vq);
        if (isnan(worst) || (greater ? q < worst : q > worst)) worst = q;
    }
    const char *axis = flops ? "training FLOPs" : "parameters";
    if (isnan(worst)) {
        appendf(why, cap, "%s%s / %s %s at equal %s: not measured (%s)", *why ? "; " : "", sa->valuestring,
                sb->valuestring, x->metric, axis,
                na && nb ? "no size of the first inside the second's range" : "a series has no results");
        return RULE_UNMEASURED;
    }
    int ok = compare(worst, op, rhs, tol ? tol->valuedouble : 0);
    char vw[40], vr[40];
    rep_num(vw, sizeof vw, worst);
    rep_num(vr, sizeof vr, rhs);
    appendf(why, cap, "%s%s / %s %s at equal %s: %s (%s %s) (%s %s: %s)", *why ? "; " : "", sa->valuestring,
            sb->valuestring, x->metric, axis, list, greater ? "least" : "most", vw, op, vr, ok ? "yes" : "no");
    return ok ? RULE_HOLDS : RULE_FAILS;
}

/* {"ratio": [VALUE, VALUE]}: *q = first over second, either of which may be a
 * {"ratio": [...]} itself ("Mamba's lead at batch 128 over its lead at batch
 * 1"). desc gets "a / b", fig "fa / fb = q". Nesting stops at depth 4. */
static RuleOutcome ratio_value(const cJSON *ratio, RepExp *x, int depth, double *q, char *desc, size_t dcap, char *fig,
                               size_t fcap, char *why, size_t cap)
{
    if (!cJSON_IsArray(ratio) || cJSON_GetArraySize(ratio) != 2)
        return bad(why, cap, "%s", "\"ratio\" is a list of two values beside one comparison (>=, >, <=, <, ==)");
    if (depth > 4) return bad(why, cap, "%s", "ratios nest at most 4 deep");
    double v[2];
    char d[2][340], f[2][200];
    RuleOutcome o = RULE_HOLDS;
    for (int i = 0; i < 2; i++) {
        const cJSON *val = cJSON_GetArrayItem(ratio, i), *c = get(val, "cell"), *L = get(val, "length");
        const cJSON *inner = get(val, "ratio");
        RuleOutcome oi;
        if (inner) {
            if (cJSON_GetArraySize(val) != 1) return bad(why, cap, "%s", "a ratio inside a ratio stands alone: {\"ratio\": [VALUE, VALUE]}");
            char di[300], fi[180];
            oi = ratio_value(inner, x, depth + 1, &v[i], di, sizeof di, fi, sizeof fi, why, cap);
            snprintf(d[i], sizeof d[i], "(%s)", di);
            snprintf(f[i], sizeof f[i], "(%s)", fi);
        } else {
            for (const cJSON *k = cJSON_IsObject(val) ? val->child : NULL; k; k = k->next)
                if (strcmp(k->string, "cell") && strcmp(k->string, "metric") && strcmp(k->string, "field") &&
                    strcmp(k->string, "length") && strcmp(k->string, "depth") && strcmp(k->string, "stat")) {
                    why[0] = 0;
                    appendf(why, cap, "unknown key \"%s\" in a ratio's value (known: cell metric field length depth stat ratio)", k->string);
                    return RULE_BAD;
                }
            if (L && !cJSON_IsNumber(L)) return bad(why, cap, "%s", "\"length\" must be a number");
            oi = value(val, x, cJSON_IsString(c) ? c->valuestring : NULL, cJSON_IsNumber(L) ? L->valuedouble : NAN, &v[i],
                       d[i], sizeof d[i], f[i], sizeof f[i], why, cap);
        }
        if (oi == RULE_BAD) return RULE_BAD;
        if (oi != RULE_HOLDS) o = RULE_UNMEASURED;
    }
    if (o != RULE_HOLDS) return o;
    *q = v[1] != 0 ? v[0] / v[1] : NAN;
    char vq[40];
    rep_num(vq, sizeof vq, *q);
    snprintf(desc, dcap, "%s / %s", d[0], d[1]);
    snprintf(fig, fcap, "%s / %s = %s", f[0], f[1], vq);
    return RULE_HOLDS;
}

RuleOutcome rule_eval(const cJSON *rule, RepExp *x, char *why, size_t cap)
{
    if (!cJSON_IsObject(rule)) return bad(why, cap, "%s", "a rule must be a JSON object");
    const cJSON *all = get(rule, "all"), *any = get(rule, "any"), *ratio = get(rule, "ratio");
    if (get(rule, "steps_to")) return steps_rule(rule, x, why, cap);
    if (get(rule, "scaling")) return scaling_rule(rule, x, why, cap);
    if (all || any) {
        const cJSON *list = all ? all : any;
        if ((all && any) || cJSON_GetArraySize(rule) != 1 || !cJSON_IsArray(list) || !cJSON_GetArraySize(list))
            return bad(why, cap, "%s", "\"all\"/\"any\" stand alone and hold a non-empty list of rules");
        RuleOutcome acc = all ? RULE_HOLDS : RULE_FAILS;
        for (const cJSON *r = list->child; r; r = r->next) {
            char part[1024] = "";
            RuleOutcome o = rule_eval(r, x, part, sizeof part);
            if (o == RULE_BAD) { snprintf(why, cap, "%s", part); return RULE_BAD; }
            appendf(why, cap, "%s%s", *why ? "; " : "", part);
            acc = combine(acc, o, all != NULL);
        }
        return acc;
    }
    if (ratio) {
        const char *op;
        double rhs = 0, q;
        const cJSON *tol = get(rule, "tol");
        if (find_op(rule, &op, &rhs) || !op || cJSON_GetArraySize(rule) != 2 + (tol != NULL))
            return bad(why, cap, "%s", "\"ratio\" is a list of two values beside one comparison (>=, >, <=, <, ==)");
        char desc[700], fig[480], part[1200] = "";
        RuleOutcome o = ratio_value(ratio, x, 0, &q, desc, sizeof desc, fig, sizeof fig, part, sizeof part);
        if (o == RULE_BAD) { snprintf(why, cap, "%s", part); return RULE_BAD; }
        if (o != RULE_HOLDS) { appendf(why, cap, "%s%s", *why ? "; " : "", part); return o; }
        int ok = !isnan(q) && compare(q, op, rhs, tol ? tol->valuedouble : 0);
        char vr[40];
        rep_num(vr, sizeof vr, rhs);
        appendf(why, cap, "%s%s = %s (%s %s: %s)", *why ? "; " : "", desc, fig, op, vr, ok ? "yes" : "no");
        return ok ? RULE_HOLDS : RULE_FAILS;
    }
    for (const cJSON *k = rule->child; k; k = k->next) {
        int known = 0;
        for (size_t i = 0; i < sizeof KNOWN / sizeof *KNOWN; i++) known |= !strcmp(k->string, KNOWN[i]);
        if (!known) {
            why[0] = 0;
            appendf(why, cap, "unknown key \"%s\" in a rule (known: cell metric field length lengths depth stat "
                              ">= > <= < == tol above below by ratio all any)", k->string);
            return RULE_BAD;
        }
    }
    const cJSON *length = get(rule, "length"), *lengths = get(rule, "lengths");
    if (length && lengths) return bad(why, cap, "%s", "a rule has \"length\" or \"lengths\", not both");
    if (length && !cJSON_IsNumber(length)) return bad(why, cap, "%s", "\"length\" must be a number");
    if (!lengths) return simple(rule, x, length ? length->valuedouble : NAN, why, cap);
    if (!cJSON_IsArray(lengths) || !cJSON_GetArraySize(lengths)) return bad(why, cap, "%s", "\"lengths\" must be a non-empty list");
    RuleOutcome acc = RULE_HOLDS;
    for (const cJSON *L = lengths->child; L; L = L->next) {
        if (!cJSON_IsNumber(L)) return bad(why, cap, "%s", "\"lengths\" must hold numbers");
        char part[600] = "";
        RuleOutcome o = simple(rule, x, L->valuedouble, part, sizeof part);
        if (o == RULE_BAD) { snprintf(why, cap, "%s", part); return RULE_BAD; }
        appendf(why, cap, "%s%s", *why ? "; " : "", part);
        acc = combine(acc, o, 1);
    }
    return acc;
}

/* A claim the report cannot judge because the spec wrote it wrongly: "not
 * measured", flagged bad so the report names it on stderr too. */
static void malformed(Verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void malformed(Verdict *v, const char *fmt, ...)
{
    snprintf(v->verdict, sizeof v->verdict, "not measured");
    v->bad = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->line, sizeof v->line, fmt, ap);
    va_end(ap);
}

int rep_clear_majority(int n) { return n <= 2 ? n : (2 * n + 2) / 3; }

/* A rule over seeds: on the mean (every run, as the tables show it), then seed by seed. */
typedef struct {
    RuleOutcome mean;   /* the rule on the mean over seeds */
    RuleOutcome over;   /* HOLDS, FAILS or (neither clearly) RULE_UNMEASURED with inconclusive set; BAD */
    int inconclusive;   /* the mean and the seeds disagree, or the seeds are split */
    int k, n;           /* seeds where it holds, seeds where it could be judged */
    char why[1536];     /* the figures on the mean */
} SeedJudged;

/* HOLDS when it holds on the mean and in a clear majority of the seeds, FAILS when it fails on the mean and in
 * a clear majority, inconclusive otherwise; a seed whose figures are missing is left out of n. */
static void judge(const cJSON *rule, RepExp *x, SeedJudged *j)
{
    memset(j, 0, sizeof *j);
    j->mean = j->over = rule_eval(rule, x, j->why, sizeof j->why);
    if (j->mean != RULE_HOLDS && j->mean != RULE_FAILS) return;
    /* a min or max over seeds is about all of them at once: judged once, not seed by seed */
    char *text = cJSON_PrintUnformatted(rule);
    int over_seeds = text && strstr(text, "\"stat\":");
    cJSON_free(text);
    if (over_seeds) {
        j->n = -1;
        return;
    }
    long seeds[REP_MAX_RUNS];
    int ns = rep_seeds(x, seeds, REP_MAX_RUNS);
    for (int i = 0; i < ns; i++) {
        char scratch[1536] = "";
        rep_select_seed(x, seeds[i]);
        RuleOutcome o = rule_eval(rule, x, scratch, sizeof scratch);
        j->n += o == RULE_HOLDS || o == RULE_FAILS;
        j->k += o == RULE_HOLDS;
    }
    rep_select_seed(x, -1);
    int need = rep_clear_majority(j->n);
    if (j->mean == RULE_HOLDS && j->k >= need) return;
    if (j->mean == RULE_FAILS && j->n - j->k >= need) return;
    j->over = RULE_UNMEASURED;
    j->inconclusive = 1;
}

/* "check {rule}: holds on the mean and in 3 of 3 seeds: figures" */
static void describe(char *buf, size_t cap, const char *which, const cJSON *rule, const SeedJudged *j)
{
    char *text = cJSON_PrintUnformatted(rule);
    appendf(buf, cap, "%s%s `%.400s`: ", *buf ? "; " : "", which, text ? text : "?");
    cJSON_free(text);
    if (j->n < 0)
        appendf(buf, cap, "%s over the seeds together: ", j->mean == RULE_HOLDS ? "holds" : "fails");
    else if (j->mean == RULE_HOLDS || j->mean == RULE_FAILS)
        appendf(buf, cap, "%s on the mean, holds in %d of %d seeds: ", j->mean == RULE_HOLDS ? "holds" : "fails", j->k,
                j->n);
    appendf(buf, cap, "%s", j->why);
}

/* The summary's columns from the rule that decided: its figures on the mean and the seeds it holds in. */
static void decided_by(Verdict *v, const SeedJudged *j)
{
    if (!j || (j->mean != RULE_HOLDS && j->mean != RULE_FAILS)) return;
    snprintf(v->figures, sizeof v->figures, "%s", j->why);
    if (j->n < 0) snprintf(v->seeds_holding, sizeof v->seeds_holding, "over the seeds together");
    else snprintf(v->seeds_holding, sizeof v->seeds_holding, "%d of %d", j->k, j->n);
}

static void inconclusive(Verdict *v, const SeedJudged *j)
{
    snprintf(v->verdict, sizeof v->verdict, "inconclusive at this scale: holds in %d of %d seeds", j->k, j->n);
}

void claim_verdict(const cJSON *claim, RepExp *x, Verdict *v)
{
    memset(v, 0, sizeof *v);
    const cJSON *fixed = get(claim, "verdict"), *reason = get(claim, "reason"), *check = get(claim, "check");
    const cJSON *qual = get(claim, "qualitative"), *measurable = get(claim, "measurable");
    static const char *const keys[] = {"claim", "paper", "measurable", "check", "qualitative", "verdict", "reason"};
    for (const cJSON *k = claim ? claim->child : NULL; k; k = k->next) {
        size_t i = 0;
        while (i < sizeof keys / sizeof *keys && strcmp(k->string, keys[i])) i++;
        if (i == sizeof keys / sizeof *keys) {
            malformed(v, "unknown key \"%s\" in a claim (known: claim paper measurable check qualitative verdict "
                         "reason)", k->string);
            return;
        }
    }
    if (!cJSON_IsObject(claim) || !cJSON_IsString(get(claim, "claim"))) {
        malformed(v, "a claim is an object with a \"claim\" sentence");
        return;
    }
    if (get(claim, "paper") && !cJSON_IsString(get(claim, "paper"))) {
        malformed(v, "a claim's \"paper\" is the paper's figure as text (e.g. \"99.8%% (Table 1)\")");
        return;
    }
    if (fixed) {
        if (!cJSON_IsString(fixed) || strcmp(fixed->valuestring, "not measurable at this scale") || check || qual ||
            measurable) {
            malformed(v, "a claim's \"verdict\" can only be \"not measurable at this scale\", without rules");
            return;
        }
        snprintf(v->verdict, sizeof v->verdict, "not measurable at this scale");
        snprintf(v->line, sizeof v->line, "%s", cJSON_IsString(reason) ? reason->valuestring : "(no reason given)");
        return;
    }
    if (!check && !qual) {
        malformed(v, "the claim has neither \"check\" nor \"qualitative\" nor a \"verdict\"");
        return;
    }
    static SeedJudged jc, jq, jm; /* large: not on the stack (the report is single-threaded) */
    memset(&jc, 0, sizeof jc);
    memset(&jq, 0, sizeof jq);
    memset(&jm, 0, sizeof jm);
    jc.over = jc.mean = RULE_FAILS;
    jq.over = jq.mean = RULE_FAILS;
    if (check) judge(check, x, &jc);
    if (jc.over == RULE_BAD) {
        malformed(v, "bad check rule: %s", jc.why);
        return;
    }
    if (qual) judge(qual, x, &jq); /* always judged, so a malformed qualitative rule is named even when check holds */
    if (jq.over == RULE_BAD) {
        malformed(v, "bad qualitative rule: %s", jq.why);
        return;
    }
    if (measurable) judge(measurable, x, &jm);
    if (measurable && jm.over == RULE_BAD) {
        malformed(v, "bad measurable rule: %s", jm.why);
        return;
    }
    /* the seeds the figures came from */
    long seeds[REP_MAX_RUNS];
    int ns = rep_seeds(x, seeds, REP_MAX_RUNS);
    size_t n = 0;
    n += (size_t)snprintf(v->line + n, sizeof v->line - n, "seed%s", ns == 1 ? "" : "s");
    for (int i = 0; i < ns && n < sizeof v->line; i++)
        n += (size_t)snprintf(v->line + n, sizeof v->line - n, "%s%ld", i ? ", " : " ", seeds[i]);
    if (!ns) snprintf(v->line, sizeof v->line, "no results");
    char rules[sizeof v->line] = "";
    /* the claim can be judged only where its precondition holds (say, the model learned the task at all): where
     * it fails the claim is not measurable at this scale, with the figures that show it, whatever the rules say */
    if (measurable) {
        describe(rules, sizeof rules, "measurable", measurable, &jm);
        if (jm.over != RULE_HOLDS) {
            appendf(v->line, sizeof v->line, "; %s", rules);
            decided_by(v, &jm);
            if (jm.inconclusive) inconclusive(v, &jm);
            else if (jm.over == RULE_FAILS) snprintf(v->verdict, sizeof v->verdict, "not measurable at this scale");
            else snprintf(v->verdict, sizeof v->verdict, "not measured");
            return;
        }
    }
    if (check) describe(rules, sizeof rules, "check", check, &jc);
    int qual_decides = check && jc.over == RULE_FAILS && !jc.inconclusive;
    if (qual && (!check || qual_decides)) describe(rules, sizeof rules, "qualitative", qual, &jq);
    appendf(v->line, sizeof v->line, "; %s", rules);
    decided_by(v, check && (!qual_decides || !qual) ? &jc : qual ? &jq : NULL);
    const SeedJudged *last = qual ? &jq : &jc; /* the rule a claim that fails fails by */
    if (check && jc.over == RULE_HOLDS) snprintf(v->verdict, sizeof v->verdict, "reproduced");
    else if (check && jc.inconclusive) inconclusive(v, &jc);
    else if (check && jc.mean == RULE_UNMEASURED) snprintf(v->verdict, sizeof v->verdict, "not measured");
    else if (qual && jq.over == RULE_HOLDS) snprintf(v->verdict, sizeof v->verdict, "reproduced qualitatively");
    else if (qual && jq.inconclusive) inconclusive(v, &jq);
    else if (qual && jq.mean == RULE_UNMEASURED) snprintf(v->verdict, sizeof v->verdict, "not measured");
    /* "not reproduced" says the claim fails at this scale: a seed where the deciding rule holds says it need not,
     * so the claim is on the edge (a model that learns the task in some seeds and not in others) */
    else if (last->n > 0 && last->k > 0) inconclusive(v, last);
    else snprintf(v->verdict, sizeof v->verdict, "not reproduced");
}

int claims_check(const cJSON *spec, const char *spec_path, Err *e)
{
    const cJSON *claims = get(spec, "claims"), *scaling;
    if (!claims && !get(spec, "scaling")) return 0;
    if (claims && !cJSON_IsArray(claims)) return err_set(e, "%s: \"claims\" must be a list", spec_path);
    RepExp *x = calloc(1, sizeof *x); /* large (a table of cells): not on the stack */
    if (!x) return err_set(e, "%s: out of memory", spec_path);
    int rc = rep_from_spec(x, (cJSON *)spec, spec_path, e), k = 1;
    if (!rc) rc = rep_scaling(x, &scaling, e); /* its series must name the spec's cells */
    for (const cJSON *c = claims ? claims->child : NULL; !rc && c; c = c->next, k++) {
        Verdict v;
        claim_verdict(c, x, &v);
        if (v.bad) rc = err_set(e, "%s: claim %d: %s", spec_path, k, v.line);
    }
    free(x); /* the spec is the caller's: no rep_free */
    return rc;
}

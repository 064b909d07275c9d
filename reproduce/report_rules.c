/* Claims and their verdicts. A claim's "check" (and "qualitative") is a rule,
 * a small JSON vocabulary over one experiment's results:
 *   VALUE:  {"cell": C, "metric": M, "length": L [, "depth": D]}   accuracy (mean over seeds)
 *           {"cell": C, "field": "path.in[key=v].json"}            any number in the result
 *           either with "stat": "mean" (default), "min" or "max" over seeds
 *   RULE:   VALUE + one of ">=" ">" "<=" "<" "==" (with "tol") and a number
 *           VALUE + "lengths": [L...] instead of "length": the comparison at every length
 *           VALUE + "above" (or "below"): C2 [, "by": x]   C's value beyond C2's by at least x
 *           {"ratio": [VALUE, VALUE], ">=": x}               first over second
 *           {"all": [RULE...]}, {"any": [RULE...]}
 *           {"cell": C, "field": F, "==": "text"}             a string in the result, compared exactly
 * Three-valued: a rule whose figure is missing is "unmeasured", never false;
 * all() fails if any part fails, any() holds if any part holds. A malformed
 * rule is RULE_BAD with the reason, and the claim's verdict says so. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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

/* One VALUE of cell c (c overrides the rule's "cell", for "above"), at length L. */
static RuleOutcome value(const cJSON *rule, RepExp *x, const char *c, double L, double *out, char *desc, size_t dcap,
                         char *why, size_t cap)
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
    if (!c->n_runs) {
        appendf(why, cap, "%s%s %s: not measured (cell %s has no results)", *why ? "; " : "", c->name, field->valuestring, c->name);
        return RULE_UNMEASURED;
    }
    int same = 1;
    const char *got = NULL;
    for (int r = 0; r < c->n_runs; r++) {
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
    char desc[300], one[600] = "";
    double a;
    RuleOutcome r = value(rule, x, cell->valuestring, L, &a, desc, sizeof desc, one, sizeof one);
    if (op) {
        if (r != RULE_HOLDS) { appendf(why, cap, "%s%s", *why ? "; " : "", one); return r; }
        char va[40], vb[40];
        rep_num(va, sizeof va, a);
        rep_num(vb, sizeof vb, rhs);
        int ok = compare(a, op, rhs, tol ? tol->valuedouble : 0);
        appendf(why, cap, "%s%s = %s (%s %s: %s)", *why ? "; " : "", desc, va, op, vb, ok ? "yes" : "no");
        return ok ? RULE_HOLDS : RULE_FAILS;
    }
    const cJSON *other = above ? above : below;
    if (!cJSON_IsString(other)) return bad(why, cap, "%s", "\"above\"/\"below\" must name a cell");
    char desc2[300], two[600] = "";
    double b;
    RuleOutcome r2 = value(rule, x, other->valuestring, L, &b, desc2, sizeof desc2, two, sizeof two);
    if (r == RULE_BAD || r2 == RULE_BAD) { snprintf(why, cap, "%s", r == RULE_BAD ? one : two); return RULE_BAD; }
    if (r != RULE_HOLDS || r2 != RULE_HOLDS) {
        appendf(why, cap, "%s%s%s%s", *why ? "; " : "", one, *one && *two ? "; " : "", two);
        return RULE_UNMEASURED;
    }
    double margin = by ? by->valuedouble : 0;
    int ok = above ? a - b >= margin : b - a >= margin;
    char va[40], vb[40], vm[40];
    rep_num(va, sizeof va, a);
    rep_num(vb, sizeof vb, b);
    rep_num(vm, sizeof vm, margin);
    appendf(why, cap, "%s%s = %s vs %s = %s (%s by >= %s: %s)", *why ? "; " : "", desc, va, other->valuestring, vb,
            above ? "above" : "below", vm, ok ? "yes" : "no");
    return ok ? RULE_HOLDS : RULE_FAILS;
}

RuleOutcome rule_eval(const cJSON *rule, RepExp *x, char *why, size_t cap)
{
    if (!cJSON_IsObject(rule)) return bad(why, cap, "%s", "a rule must be a JSON object");
    const cJSON *all = get(rule, "all"), *any = get(rule, "any"), *ratio = get(rule, "ratio");
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
        double rhs = 0;
        const cJSON *tol = get(rule, "tol");
        if (!cJSON_IsArray(ratio) || cJSON_GetArraySize(ratio) != 2 || find_op(rule, &op, &rhs) || !op ||
            cJSON_GetArraySize(rule) != 2 + (tol != NULL))
            return bad(why, cap, "%s", "\"ratio\" is a list of two values beside one comparison (>=, >, <=, <, ==)");
        double v[2];
        char desc[2][300], part[600] = "";
        RuleOutcome o = RULE_HOLDS;
        for (int i = 0; i < 2; i++) {
            const cJSON *val = cJSON_GetArrayItem(ratio, i), *c = get(val, "cell"), *L = get(val, "length");
            for (const cJSON *k = cJSON_IsObject(val) ? val->child : NULL; k; k = k->next)
                if (strcmp(k->string, "cell") && strcmp(k->string, "metric") && strcmp(k->string, "field") &&
                    strcmp(k->string, "length") && strcmp(k->string, "depth") && strcmp(k->string, "stat")) {
                    why[0] = 0;
                    appendf(why, cap, "unknown key \"%s\" in a ratio's value (known: cell metric field length depth stat)", k->string);
                    return RULE_BAD;
                }
            if (L && !cJSON_IsNumber(L)) return bad(why, cap, "%s", "\"length\" must be a number");
            RuleOutcome oi = value(val, x, cJSON_IsString(c) ? c->valuestring : NULL, cJSON_IsNumber(L) ? L->valuedouble : NAN,
                                   &v[i], desc[i], sizeof desc[i], part, sizeof part);
            if (oi == RULE_BAD) { snprintf(why, cap, "%s", part); return RULE_BAD; }
            if (oi != RULE_HOLDS) o = RULE_UNMEASURED;
        }
        if (o != RULE_HOLDS) { appendf(why, cap, "%s%s", *why ? "; " : "", part); return o; }
        double q = v[1] != 0 ? v[0] / v[1] : NAN;
        int ok = !isnan(q) && compare(q, op, rhs, tol ? tol->valuedouble : 0);
        char vq[40], vr[40], va[40], vb[40];
        rep_num(vq, sizeof vq, q);
        rep_num(vr, sizeof vr, rhs);
        rep_num(va, sizeof va, v[0]);
        rep_num(vb, sizeof vb, v[1]);
        appendf(why, cap, "%s%s / %s = %s / %s = %s (%s %s: %s)", *why ? "; " : "", desc[0], desc[1], va, vb, vq, op, vr,
                ok ? "yes" : "no");
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
    v->verdict = "not measured";
    v->bad = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->line, sizeof v->line, fmt, ap);
    va_end(ap);
}

void claim_verdict(const cJSON *claim, RepExp *x, Verdict *v)
{
    memset(v, 0, sizeof *v);
    const cJSON *fixed = get(claim, "verdict"), *reason = get(claim, "reason"), *check = get(claim, "check");
    const cJSON *qual = get(claim, "qualitative");
    for (const cJSON *k = claim ? claim->child : NULL; k; k = k->next)
        if (strcmp(k->string, "claim") && strcmp(k->string, "verdict") && strcmp(k->string, "reason") &&
            strcmp(k->string, "check") && strcmp(k->string, "qualitative")) {
            malformed(v, "unknown key \"%s\" in a claim (known: claim check qualitative verdict reason)", k->string);
            return;
        }
    if (!cJSON_IsObject(claim) || !cJSON_IsString(get(claim, "claim"))) {
        malformed(v, "a claim is an object with a \"claim\" sentence");
        return;
    }
    if (fixed) {
        if (!cJSON_IsString(fixed) || strcmp(fixed->valuestring, "not measurable at this scale") || check || qual) {
            malformed(v, "a claim's \"verdict\" can only be \"not measurable at this scale\", without rules");
            return;
        }
        v->verdict = "not measurable at this scale";
        snprintf(v->line, sizeof v->line, "%s", cJSON_IsString(reason) ? reason->valuestring : "(no reason given)");
        return;
    }
    if (!check && !qual) {
        malformed(v, "the claim has neither \"check\" nor \"qualitative\" nor a \"verdict\"");
        return;
    }
    char a[1536] = "", b[1536] = "";
    RuleOutcome oc = check ? rule_eval(check, x, a, sizeof a) : RULE_FAILS;
    if (oc == RULE_BAD) {
        malformed(v, "bad check rule: %s", a);
        return;
    }
    if (oc == RULE_HOLDS) {
        v->verdict = "reproduced";
        snprintf(v->line, sizeof v->line, "%s", a);
        return;
    }
    RuleOutcome oq = qual ? rule_eval(qual, x, b, sizeof b) : RULE_FAILS;
    if (oq == RULE_BAD) {
        malformed(v, "bad qualitative rule: %s", b);
        return;
    }
    if (oc == RULE_UNMEASURED || (oq == RULE_UNMEASURED && !check)) {
        v->verdict = "not measured";
        snprintf(v->line, sizeof v->line, "%s", check ? a : b);
        return;
    }
    if (oq == RULE_HOLDS) {
        v->verdict = "reproduced qualitatively";
        snprintf(v->line, sizeof v->line, "%s%s%s", check ? "check: " : "", check ? a : "", check ? "; qualitative: " : "");
        appendf(v->line, sizeof v->line, "%s", b);
        return;
    }
    if (oq == RULE_UNMEASURED) {
        v->verdict = "not measured";
        snprintf(v->line, sizeof v->line, "%s; qualitative: %s", a, b);
        return;
    }
    v->verdict = "not reproduced";
    snprintf(v->line, sizeof v->line, "%s%s%s", check ? a : "", check && qual ? "; qualitative: " : "", qual ? b : "");
}

/* Experiment specs and their claims on arbitrary bytes (issue 28, item 7):
 * experiment_plan at no profile and at smoke and quick, with and without a
 * --seeds replacement, then claims_check and every claim's verdict on the spec
 * alone. Properties: a plan that succeeds writes only under
 * <results>/<name>/, each result a plain file name (no '/', no leading '.');
 * an error is one non-empty line; a verdict always has a kind and a line.
 * Nothing is run or written: the plan only names the files. */
#include <string.h>

#include "reproduce/experiment.h"
#include "reproduce/report.h"
#include "core/jsonio.h"
#include "fuzz.h"

static int one_line(const Err *e) { return e->msg[0] && !strchr(e->msg, '\n'); }

static void plan_once(const cJSON *spec, const char *profile, const char *seeds)
{
    static const char RESULTS[] = "fuzz-results-not-made";
    ExpRun r = {.cmd = "experiment", .spec_path = "fuzz.json", .spec = spec, .profile = profile,
                .results = RESULTS, .seeds = seeds};
    ExpPlan p;
    Err e = {{0}};
    if (experiment_plan(&r, "", &p, &e)) {
        FUZZ_CHECK(one_line(&e), "error \"%s\"", e.msg);
        return;
    }
    size_t dir = strlen(p.dir);
    FUZZ_CHECK(!strncmp(p.dir, RESULTS, sizeof RESULTS - 1) && p.dir[sizeof RESULTS - 1] == '/', "dir %s", p.dir);
    for (int i = 0; i < p.n; i++) {
        const char *out = p.cells[i].out, *file = out + dir + 1;
        FUZZ_CHECK(!strncmp(out, p.dir, dir) && out[dir] == '/', "result %s outside %s", out, p.dir);
        FUZZ_CHECK(!strchr(file, '/') && file[0] != '.' && !strstr(file, ".."), "result file %s", file);
        FUZZ_CHECK(p.argv[i] && p.argc[i] >= 2 && !p.argv[i][p.argc[i]], "cell %d argv", i);
    }
    experiment_plan_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Err e;
    cJSON *spec = json_parse_text((const char *)data, size, "fuzz.json", &e);
    if (!spec) return 0;
    static const char *const PROFILES[] = {NULL, "smoke", "quick"};
    for (int k = 0; k < 3; k++) plan_once(spec, PROFILES[k], NULL);
    plan_once(spec, "quick", "4,5,6");
    plan_once(spec, "quick", "1,,2");
    if (claims_check(spec, "fuzz.json", &e)) FUZZ_CHECK(one_line(&e), "claims error \"%s\"", e.msg);
    RepExp *x = calloc(1, sizeof *x);
    if (x && !rep_from_spec(x, spec, "fuzz.json", &e)) {
        const cJSON *claims = cJSON_GetObjectItemCaseSensitive(spec, "claims");
        int n = 0;
        for (const cJSON *c = cJSON_IsArray(claims) ? claims->child : NULL; c && n < 64; c = c->next, n++) {
            Verdict v;
            claim_verdict(c, x, &v);
            FUZZ_CHECK(v.verdict[0] && memchr(v.line, '\0', sizeof v.line), "claim %d", n);
        }
    }
    free(x);
    cJSON_Delete(spec);
    return 0;
}

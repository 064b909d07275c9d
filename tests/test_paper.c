/* Jamba Table 1 (Lieber et al. 2024) from the paper-scale configs shipped in
 * configs/paper: total and active parameters to the printed precision and
 * the KV cache of a 256K-token context in 16-bit values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/jsonio.h"
#include "models/hf.h"

/* v printed with `digits` significant digits equals the paper's figure */
static int rounds_to(double v, double paper, int digits)
{
    double scale = pow(10, floor(log10(paper)) - digits + 1);
    return fabs(round(v / scale) * scale - paper) < scale / 100;
}

int main(void)
{
    const char *root = getenv("SEQ_SOURCE_DIR");
    if (!root) root = ".";
    /* name, total and active as printed (with their significant digits), KV GiB */
    const struct { const char *name; double total; int total_digits; double active; int active_digits; double kv_gib; } rows[] = {
        {"llama2-7b", 6.7e9, 2, 6.7e9, 2, 128}, {"mistral-7b", 7.2e9, 2, 7.2e9, 2, 32},
        {"mixtral-8x7b", 46.7e9, 3, 12.9e9, 3, 32}, {"jamba-v0.1", 52e9, 2, 12e9, 2, 4},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/configs/paper/%s.json", root, rows[i].name);
        Err e = {{0}};
        cJSON *j = json_read_file(path, &e);
        ModelCfg c;
        Model m;
        if (!j || hf_config_from_json(j, &c, path, &e) || model_layout(&m, &c, &e)) {
            CHECK(0, "%s: %s", rows[i].name, e.msg);
            cJSON_Delete(j);
            continue;
        }
        ParamCounts pc;
        model_param_counts(&m, &pc);
        double kv = 0;
        for (int l = 0; l < m.n_layers; l++)
            if (c.pattern[l] == '*') kv += (double)m.layers[l].sub.ops->state_size(&c, 1, 256 * 1024) * 2; /* 16-bit */
        CHECK(rounds_to((double)pc.total, rows[i].total, rows[i].total_digits), "%s: total %zu vs %g", rows[i].name, pc.total,
              rows[i].total);
        CHECK(rounds_to((double)pc.active, rows[i].active, rows[i].active_digits), "%s: active %zu vs %g", rows[i].name, pc.active,
              rows[i].active);
        CHECK(fabs(kv / (1 << 30) - rows[i].kv_gib) < 1e-9, "%s: KV %g GiB vs %g", rows[i].name, kv / (1 << 30),
              rows[i].kv_gib);
        printf("%-14s total %.3fB active %.3fB kv %.1f GiB\n", rows[i].name, pc.total / 1e9, pc.active / 1e9,
               kv / (1 << 30));
        model_free(&m);
        cJSON_Delete(j);
    }
    return check_summary();
}

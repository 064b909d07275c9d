/* The paper-scale configs shipped in configs/paper against the papers' printed
 * figures:
 *  - Jamba Table 1 (Lieber et al. 2024): total and active parameters to the
 *    printed precision and the KV cache of a 256K-token context in 16-bit;
 *  - Griffin Table 2 (De et al. 2024): every Griffin row lands on its model
 *    size at the printed precision, and the sizes Table 1 gives the MQA
 *    Transformer (1B, 3B, 6B), Hawk (1B, 3B, 7B) and Griffin (1B ... 14B);
 *  - the released Mamba-2 LMs at their names' precision (130M ... 2.7B);
 *  - the released Mamba LMs and Llama-2 13B / 70B to the parameter. */
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

/* configs/paper/<name>.json laid out (counts only: no weights are touched) */
static int load(const char *name, ModelCfg *c, Model *m)
{
    const char *root = getenv("SEQ_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/paper/%s.json", root ? root : ".", name);
    Err e = {{0}};
    cJSON *j = json_read_file(path, &e);
    int rc = !j || hf_config_from_json(j, c, path, &e) || model_layout(m, c, &e);
    cJSON_Delete(j);
    CHECK(!rc, "%s: %s", name, e.msg);
    return rc;
}

static ParamCounts counts(const char *name)
{
    ModelCfg c;
    Model m;
    ParamCounts pc = {0};
    if (load(name, &c, &m)) return pc;
    model_param_counts(&m, &pc);
    model_free(&m);
    return pc;
}

static void jamba_table1(void)
{
    /* name, total and active as printed (with their significant digits), KV GiB */
    const struct { const char *name; double total; int total_digits; double active; int active_digits; double kv_gib; } rows[] = {
        {"llama2-7b", 6.7e9, 2, 6.7e9, 2, 128}, {"mistral-7b", 7.2e9, 2, 7.2e9, 2, 32},
        {"mixtral-8x7b", 46.7e9, 3, 12.9e9, 3, 32}, {"jamba-v0.1", 52e9, 2, 12e9, 2, 4},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        ModelCfg c;
        Model m;
        if (load(rows[i].name, &c, &m)) continue;
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
        printf("%-20s total %.3fB active %.3fB kv %.1f GiB\n", rows[i].name, pc.total / 1e9, pc.active / 1e9,
               kv / (1 << 30));
        model_free(&m);
    }
}

static void griffin_tables(void)
{
    /* config, the size the paper prints for it, and that figure's significant digits */
    const struct { const char *name; double size; int digits; } rows[] = {
        /* Table 2's model-size column, for the Griffin family it was written for */
        {"griffin-100m", 100e6, 1}, {"griffin-200m", 200e6, 1}, {"griffin-400m", 400e6, 1}, {"griffin-1.3b", 1.3e9, 2},
        {"griffin-3b", 3e9, 1}, {"griffin-7b", 7e9, 1}, {"griffin-14b", 14e9, 2},
        /* Table 1's names for the models it evaluates (same Table 2 rows) */
        {"mqa-transformer-1.3b", 1e9, 1}, {"mqa-transformer-3b", 3e9, 1}, {"mqa-transformer-7b", 6e9, 1},
        {"hawk-1.3b", 1e9, 1}, {"hawk-3b", 3e9, 1}, {"hawk-7b", 7e9, 1},
        {"griffin-1.3b", 1e9, 1}, {"griffin-3b", 3e9, 1}, {"griffin-7b", 7e9, 1}, {"griffin-14b", 14e9, 2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        ParamCounts pc = counts(rows[i].name);
        CHECK(rounds_to((double)pc.total, rows[i].size, rows[i].digits), "%s: %zu parameters vs the paper's %g",
              rows[i].name, pc.total, rows[i].size);
        printf("%-20s total %.4fB (paper %gB)\n", rows[i].name, pc.total / 1e9, rows[i].size / 1e9);
    }
    /* Section 4.1: the recurrent block's gates are 16 blocks, W_a and W_x each D_RNN^2 / 16 */
    ModelCfg c;
    Model m;
    if (!load("hawk-7b", &c, &m)) {
        ParamCounts pc;
        model_param_counts(&m, &pc);
        double D = 4096, R = 5632, N = 32;
        /* linear_x, linear_y, linear_out (+ biases), conv (+ bias), two gate blocks (+ biases), Lambda */
        double rec = N * (3 * D * R + 2 * R + D + 4 * R + R + 2 * R * R / 16 + 2 * R + R);
        CHECK(fabs((double)pc.by_symbol['R'] - rec) < 0.5, "hawk-7b recurrent blocks %zu vs %.0f", pc.by_symbol['R'], rec);
        model_free(&m);
    }
}

/* the Mamba-2 paper's names for its released models */
static void mamba2_sizes(void)
{
    const struct { const char *name; double size; int digits; } rows[] = {
        {"mamba2-130m", 130e6, 2}, {"mamba2-370m", 370e6, 2}, {"mamba2-780m", 780e6, 2},
        {"mamba2-1.3b", 1.3e9, 2}, {"mamba2-2.7b", 2.7e9, 2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        ParamCounts pc = counts(rows[i].name);
        CHECK(rounds_to((double)pc.total, rows[i].size, rows[i].digits), "%s: %zu parameters vs %g", rows[i].name,
              pc.total, rows[i].size);
    }
}

static void exact_counts(void)
{
    /* the released checkpoints' parameter counts */
    const struct { const char *name; size_t total; } rows[] = {
        {"mamba-130m", 129135360}, {"mamba-370m", 371516416}, {"mamba-790m", 793204224},
        {"mamba-1.4b", 1372178432}, {"mamba-2.8b", 2768345600}, {"llama2-13b", 13015864320},
        {"llama2-70b", 68976648192},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        ParamCounts pc = counts(rows[i].name);
        CHECK(pc.total == rows[i].total, "%s: %zu vs %zu", rows[i].name, pc.total, rows[i].total);
    }
}

int main(void)
{
    jamba_table1();
    griffin_tables();
    mamba2_sizes();
    exact_counts();
    return check_summary();
}

/* models/: the pattern language, config validation, parameter counts,
 * state sizes, and the checkpoint layout (save -> load -> save identical). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/jsonio.h"
#include "models/hf.h"
#include "models/pattern.h"

static void test_pattern(void)
{
    char out[64];
    Err e = {{0}};
    CHECK(pattern_expand("*-", 3, out, sizeof out, &e) == 0 && !strcmp(out, "*-*-*-"), "expand: %s", out);
    CHECK(pattern_expand("MX-", 1, out, sizeof out, &e) == -1 &&
              strstr(e.msg, "unknown symbol 'X' at position 1") && strstr(e.msg, "M * L R - E"),
          "unknown symbol: %s", e.msg);
    CHECK(pattern_expand("M*LR-E", 1, out, sizeof out, &e) == 0, "all six symbols are built: %s", e.msg);
    CHECK(pattern_expand("", 1, out, sizeof out, &e) == -1, "empty pattern accepted");
    CHECK(pattern_expand("*-", 40, out, sizeof out, &e) == -1 && strstr(e.msg, "sublayers"), "too long: %s", e.msg);
    for (const char *s = "M*LR-E"; *s; s++) CHECK(pattern_symbol_name(*s) != NULL, "symbol %c has no name", *s);
    CHECK(pattern_for_arch("transformer") && !strcmp(pattern_for_arch("transformer"), "*-"), "transformer preset");
}

static ModelCfg small(void)
{
    ModelCfg c;
    cfg_defaults(&c);
    c.vocab_size = 50;
    c.d_model = 32;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.head_dim = 8;
    c.d_ff = 48;
    c.window = 4;
    return c;
}

static void test_validate(void)
{
    Err e = {{0}};
    ModelCfg c = small();
    CHECK(cfg_validate(&c, &e) == 0, "valid config rejected: %s", e.msg);
    c.n_kv_heads = 3;
    CHECK(cfg_validate(&c, &e) == -1 && strstr(e.msg, "multiple"), "heads %% kv: %s", e.msg);
    c = small();
    strcpy(c.pattern, "L-");
    c.window = 0;
    CHECK(cfg_validate(&c, &e) == -1 && strstr(e.msg, "window"), "window: %s", e.msg);
    c = small();
    c.vocab_size = 1 << 30;
    CHECK(cfg_validate(&c, &e) == -1 && strstr(e.msg, "vocab_size"), "vocab: %s", e.msg);
    c = small();
    c.partial_rotary_factor = 0.05;
    CHECK(cfg_validate(&c, &e) == -1 && strstr(e.msg, "rotates"), "rotary: %s", e.msg);
}

static void test_counts(void)
{
    Err e = {{0}};
    ModelCfg c = small();
    c.tie_embeddings = 0;
    hf_choose_model_type(&c);
    CHECK(!strcmp(c.model_type, "llama"), "*-*- with RoPE and SwiGLU is a llama: %s", c.model_type);
    Model m;
    CHECK(model_create(&m, &c, &e) == 0, "%s", e.msg);
    size_t D = 32, V = 50, attn = D * 32 + 2 * D * 16 + 32 * D, mlp = 3 * D * 48;
    size_t want = 2 * V * D + 2 * (attn + mlp) + 5 * D;
    CHECK(m.n_params == want, "params %zu, want %zu", m.n_params, want);
    ParamCounts pc;
    model_param_counts(&m, &pc);
    CHECK(pc.by_symbol['*'] == 2 * attn && pc.by_symbol['-'] == 2 * mlp && pc.head == V * D, "breakdown");
    CHECK(pc.embedding + pc.head + pc.norms + pc.by_symbol['*'] + pc.by_symbol['-'] == pc.total, "parts != total");
    CHECK(model_find_tensor(&m, "model.layers.1.post_attention_layernorm.weight") != NULL, "llama norm name");
    CHECK(model_find_tensor(&m, "lm_head.weight") != NULL, "untied head");
    /* KV cache: 2 (k, v) x B x ctx x G x d per attention layer, fp32 */
    double kv = model_state_bytes(&c, 3, 100);
    CHECK(kv == 2.0 * 2 * 3 * 100 * 2 * 8 * 4, "KV bytes %g", kv);
    model_free(&m);
    /* local attention: the ring buffer bounds the state at window + 1 tokens */
    strcpy(c.pattern, "L-");
    CHECK(model_state_bytes(&c, 1, 100000) == model_state_bytes(&c, 1, 5), "local state not bounded");
    CHECK(model_state_bytes(&c, 1, 3) < model_state_bytes(&c, 1, 5), "local state below the window");
}

/* Both spellings of plain RoPE that transformers has written; scaled RoPE is refused. */
static void test_rope_config(void)
{
    const char *base = "{\"model_type\": \"llama\", \"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 16, "
                       "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, %s}";
    const struct { const char *extra; int ok; double theta; } cases[] = {
        {"\"rope_theta\": 5000.0, \"rope_scaling\": null", 1, 5000},
        {"\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 7000.0}", 1, 7000},
        {"\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}", 0, 0},
        {"\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 7000.0}", 0, 0},
        {"\"rope_parameters\": 3", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[512];
        snprintf(text, sizeof text, base, cases[i].extra);
        Err e = {{0}};
        cJSON *root = cJSON_Parse(text);
        ModelCfg c;
        int rc = hf_config_from_json(root, &c, "config.json", &e);
        if (cases[i].ok) CHECK(rc == 0 && c.rope_theta == cases[i].theta, "case %zu: %s (theta %g)", i, e.msg, c.rope_theta);
        else CHECK(rc == -1 && strstr(e.msg, "rope"), "case %zu should fail naming rope: %s", i, e.msg);
        cJSON_Delete(root);
    }
}

/* Mamba paper LM shapes (Gu & Dao 2023, Table 10 sizes), vocab 50277 padded
 * to 50280 as mamba_ssm does, tied: the totals the paper names round to
 * 130M, 370M, 790M, 1.4B, 2.8B. The exact counts are pinned too. */
static void test_mamba_paper_sizes(void)
{
    const struct { int layers, d; long long exact; double named; } rows[] = {
        {24, 768, 129135360LL, 130e6}, {48, 1024, 371516416LL, 370e6}, {48, 1536, 793204224LL, 790e6},
        {48, 2048, 1372178432LL, 1.4e9}, {64, 2560, 2768345600LL, 2.8e9},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        ModelCfg c;
        cfg_defaults(&c);
        memset(c.pattern, 'M', (size_t)rows[i].layers);
        c.pattern[rows[i].layers] = '\0';
        c.vocab_size = 50280;
        c.d_model = rows[i].d;
        Err e = {{0}};
        Model m;
        CHECK(model_layout(&m, &c, &e) == 0, "%s", e.msg);
        double scale = rows[i].named >= 1e9 ? 1e8 : 1e7; /* two significant digits */
        CHECK((long long)m.n_params == rows[i].exact, "%d x %d: %zu params", rows[i].layers, rows[i].d, m.n_params);
        CHECK(fabs(round((double)m.n_params / scale) * scale - rows[i].named) < 1, "%d x %d: %zu does not round to %g",
              rows[i].layers, rows[i].d, m.n_params, rows[i].named);
        model_free(&m);
    }
}

static void test_save_load(void)
{
    Err e = {{0}};
    char base[512];
    char *d = check_tmpdir(base, sizeof base, "seqbench-test");
    CHECK(d != NULL, "mkdtemp");
    if (!d) return;
    char a[600], b[600], fa[700], fb[700];
    snprintf(a, sizeof a, "%s/a", d);
    snprintf(b, sizeof b, "%s/b", d);
    /* llama, seqbench (local + partial rotary), mamba, mamba2 (untied), seqbench (Jamba-flavoured M) */
    const struct { const char *pattern, *type; int tie; double rot; MambaVariant mamba; int inner; } cases[] = {
        {"*-*-", "llama", 0, 1.0, MAMBA1, 0}, {"L-*-", "seqbench", 1, 0.5, MAMBA1, 0}, {"MM", "mamba", 1, 1, MAMBA1, 0},
        {"MMM", "mamba2", 0, 1, MAMBA2, 0}, {"M*-", "seqbench", 0, 1, MAMBA1, 1},
        {"M-MEM-ME*-MEM-ME", "jamba", 0, 1, MAMBA1, 1}, {"R-E*L-", "seqbench", 1, 0.5, MAMBA1, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        ModelCfg c = small();
        strcpy(c.pattern, cases[k].pattern);
        c.tie_embeddings = cases[k].tie;
        c.partial_rotary_factor = cases[k].rot;
        c.mamba = cases[k].mamba;
        c.mamba_inner_norms = cases[k].inner;
        c.d_state = 4;
        c.ssm_head_dim = 8;
        c.n_groups = 2;
        if (!strcmp(cases[k].type, "jamba")) c.pos_encoding = POS_NONE;
        if (strchr(c.pattern, 'R')) { /* every Gemma switch, in seqbench's own layout */
            c.lru_width = 24;
            c.norm_plus_one = c.mlp_bias = c.attn_out_bias = 1;
            c.embed_scale = 3.5;
            c.logits_soft_cap = 7;
            c.router_renormalize = 1;
        }
        hf_choose_model_type(&c);
        CHECK(!strcmp(c.model_type, cases[k].type), "%s: layout %s, want %s", c.pattern, c.model_type, cases[k].type);
        Model m, m2;
        CHECK(model_create(&m, &c, &e) == 0, "%s", e.msg);
        model_init_weights(&m, 3);
        CHECK(hf_save(&m, a, &e) == 0, "save: %s", e.msg);
        CHECK(hf_load(&m2, a, &e) == 0, "load: %s", e.msg);
        CHECK(m2.n_params == m.n_params && !memcmp(m.params, m2.params, m.n_params * sizeof(real)), "weights differ");
        CHECK(!strcmp(m2.cfg.pattern, c.pattern) && (m2.cfg.window == c.window || !strchr(c.pattern, 'L')) && m2.cfg.tie_embeddings == c.tie_embeddings &&
                  (m2.cfg.partial_rotary_factor == c.partial_rotary_factor || !strchr(c.pattern, '*')) &&
                  m2.cfg.mamba == c.mamba && m2.cfg.mamba_inner_norms == c.mamba_inner_norms &&
                  (!strchr(c.pattern, 'M') || (m2.cfg.d_state == c.d_state && m2.cfg.d_conv == c.d_conv)) &&
                  m2.cfg.lru_width == (strchr(c.pattern, 'R') ? c.lru_width : m2.cfg.lru_width) &&
                  m2.cfg.mlp_bias == c.mlp_bias && m2.cfg.attn_out_bias == c.attn_out_bias &&
                  m2.cfg.norm_plus_one == c.norm_plus_one && m2.cfg.embed_scale == c.embed_scale &&
                  m2.cfg.logits_soft_cap == c.logits_soft_cap && m2.cfg.router_renormalize == c.router_renormalize &&
                  m2.cfg.pos_encoding == c.pos_encoding &&
                  (!strchr(c.pattern, 'E') || (m2.cfg.n_experts == c.n_experts && m2.cfg.experts_per_tok == c.experts_per_tok)),
              "config round trip (%s)", c.model_type);
        CHECK(hf_save(&m2, b, &e) == 0, "save 2: %s", e.msg);
        for (int f = 0; f < 2; f++) {
            const char *name = f ? "config.json" : "model.safetensors";
            snprintf(fa, sizeof fa, "%s/%s", a, name);
            snprintf(fb, sizeof fb, "%s/%s", b, name);
            FILE *x = fopen(fa, "rb"), *y = fopen(fb, "rb");
            int same = x && y;
            for (int cx = 0, cy = 0; same && (cx != EOF || cy != EOF);) {
                cx = fgetc(x);
                cy = fgetc(y);
                same = cx == cy;
            }
            CHECK(same, "%s differs after save -> load -> save (%s)", name, c.model_type);
            if (x) fclose(x);
            if (y) fclose(y);
            unlink(fa);
            unlink(fb);
        }
        model_free(&m);
        model_free(&m2);
    }
    rmdir(a);
    rmdir(b);
    rmdir(d);
}

/* the string value of key in the JSON file at path, or "" */
static const char *json_file_string(const char *path, const char *key, char *out, size_t cap)
{
    Err e = {{0}};
    cJSON *root = json_read_file(path, &e);
    const cJSON *v = root ? cJSON_GetObjectItemCaseSensitive(root, key) : NULL;
    snprintf(out, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
    cJSON_Delete(root);
    return out;
}

/* Mamba Table 1's "No gate" block: in_proj loses its z half (E x D fewer
 * weights per layer, nothing else changes), and since MambaConfig cannot say
 * so it is saved in seqbench's layout with "mamba_gate": "none", which
 * reloads as the same model; a mamba config claiming it is refused. */
static void test_no_gate(void)
{
    Err e = {{0}};
    char base[512];
    char *d = check_tmpdir(base, sizeof base, "seqbench-nogate");
    CHECK(d != NULL, "mkdtemp");
    if (!d) return;
    char cfg_path[700], st_path[700];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", d);
    snprintf(st_path, sizeof st_path, "%s/model.safetensors", d);
    const MambaVariant variants[] = {MAMBA1, MAMBA_LTI};
    for (int v = 0; v < 2; v++) {
        ModelCfg c = small();
        strcpy(c.pattern, "MM");
        c.mamba = variants[v];
        c.d_state = 4;
        hf_choose_model_type(&c);
        Model gated, m, m2;
        CHECK(model_layout(&gated, &c, &e) == 0, "%s", e.msg);
        c.mamba_no_gate = 1;
        hf_choose_model_type(&c);
        CHECK(!strcmp(c.model_type, "seqbench"), "no gate: layout %s, want seqbench", c.model_type);
        CHECK(model_create(&m, &c, &e) == 0, "%s", e.msg);
        size_t E = 2 * 32, D = 32;
        CHECK(gated.n_params - m.n_params == 2 * E * D, "variant %d: gated %zu - no gate %zu params, want 2 x E x D = %zu",
              v, gated.n_params, m.n_params, 2 * E * D);
        const ModelTensor *in = model_find_tensor(&m, "model.layers.0.mixer.in_proj.weight");
        CHECK(in && in->shape[0] == (int)E && in->shape[1] == (int)D, "in_proj is E x D without the gate");
        model_init_weights(&m, 4);
        CHECK(hf_save(&m, d, &e) == 0, "save: %s", e.msg);
        char gate[16];
        CHECK(!strcmp(json_file_string(cfg_path, "mamba_gate", gate, sizeof gate), "none"),
              "config.json records mamba_gate \"%s\", want none", gate);
        CHECK(hf_load(&m2, d, &e) == 0, "load: %s", e.msg);
        CHECK(m2.cfg.mamba_no_gate == 1 && m2.cfg.mamba == c.mamba && m2.n_params == m.n_params &&
                  !memcmp(m.params, m2.params, m.n_params * sizeof(real)),
              "variant %d: no-gate model does not round-trip", v);
        model_free(&m2);
        /* a checkpoint's layout chosen some other way still cannot drop the gate silently */
        strcpy(m.cfg.model_type, "mamba");
        CHECK(hf_save(&m, d, &e) == -1 && strstr(e.msg, "seqbench"), "no-gate model saved as mamba: %s", e.msg);
        model_free(&m);
        model_free(&gated);
    }
    const char *bad[] = {
        "{\"model_type\": \"mamba\", \"vocab_size\": 10, \"hidden_size\": 8, \"num_hidden_layers\": 1, "
        "\"mamba_gate\": \"none\"}",
        "{\"model_type\": \"seqbench\", \"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 16, "
        "\"num_attention_heads\": 2, \"pattern\": \"M\", \"mamba_gate\": \"tanh\"}",
        "{\"model_type\": \"seqbench\", \"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 16, "
        "\"num_attention_heads\": 2, \"pattern\": \"M\", \"mamba_variant\": \"mamba2\", \"ssm_head_dim\": 4, "
        "\"mamba_gate\": \"none\"}",
    };
    const char *why[] = {"seqbench", "silu or none", "mamba1 and lti"};
    for (int i = 0; i < 3; i++) {
        cJSON *root = cJSON_Parse(bad[i]);
        ModelCfg c;
        CHECK(root && hf_config_from_json(root, &c, "config.json", &e) == -1 && strstr(e.msg, why[i]),
              "bad config %d accepted or wrong message: %s", i, e.msg);
        cJSON_Delete(root);
    }
    unlink(cfg_path);
    unlink(st_path);
    rmdir(d);
}

/* max |w| and the std of one tensor of layer l's mixer */
static void tensor_stats(const Model *m, int l, const char *name, double *max, double *sd)
{
    char full[128];
    snprintf(full, sizeof full, "model.layers.%d.mixer.%s", l, name);
    const ModelTensor *t = model_find_tensor(m, full);
    *max = *sd = -1;
    if (!t) return;
    double s2 = 0, mx = 0;
    for (size_t i = 0; i < t->numel; i++) {
        double v = m->params[t->offset + i];
        s2 += v * v;
        mx = fabs(v) > mx ? fabs(v) : mx;
    }
    *max = mx;
    *sd = sqrt(s2 / (double)t->numel);
}

/* --mamba-init mamba_ssm draws in_proj, conv1d, x_proj and out_proj as the official code leaves them
 * (U(+-1/sqrt(fan_in)): std bound/sqrt(3); out_proj also / sqrt(Mamba layers)); the default keeps N(0, 0.02)
 * for every matrix, and the conv bias at 0. D = 32, E = 64, K = 4, two Mamba layers. */
static void test_mamba_init(void)
{
    for (int v = 0; v < 2; v++)
        for (int ssm = 0; ssm < 2; ssm++) {
            ModelCfg c = small();
            strcpy(c.pattern, "MM");
            c.mamba = v ? MAMBA_LTI : MAMBA1;
            c.mamba_init_ssm = ssm;
            Model m;
            Err e = {{0}};
            if (model_create(&m, &c, &e)) { CHECK(0, "%s", e.msg); continue; }
            model_init_weights(&m, 3);
            struct { const char *name; double bound; } want[] = {
                {"in_proj.weight", 1 / sqrt(32.0)}, {"conv1d.weight", 0.5}, {"conv1d.bias", 0.5},
                {"x_proj.weight", 1 / sqrt(64.0)}, {"out_proj.weight", 1 / sqrt(64.0) / sqrt(2.0)}};
            for (int i = 0; i < 5; i++) {
                double mx, sd;
                tensor_stats(&m, 1, want[i].name, &mx, &sd);
                if (mx < 0) { CHECK(v == 1 && i == 3, "%s missing", want[i].name); continue; } /* LTI: no x_proj */
                if (ssm)
                    CHECK(mx <= want[i].bound && mx > 0.9 * want[i].bound && fabs(sd / (want[i].bound / sqrt(3.0)) - 1) < 0.25,
                          "%s mamba_ssm %s: max %g (bound %g), std %g (want %g)", v ? "lti" : "mamba1", want[i].name, mx,
                          want[i].bound, sd, want[i].bound / sqrt(3.0));
                else if (i == 2)
                    CHECK(mx == 0, "%s normal init: conv bias %g, want 0", v ? "lti" : "mamba1", mx);
                else
                    CHECK(fabs(sd / 0.02 - 1) < 0.25, "%s normal init %s: std %g, want 0.02", v ? "lti" : "mamba1",
                          want[i].name, sd);
            }
            model_free(&m);
        }
}

int main(void)
{
    test_pattern();
    test_validate();
    test_counts();
    test_rope_config();
    test_mamba_paper_sizes();
    test_save_load();
    test_no_gate();
    test_mamba_init();
    return check_summary();
}

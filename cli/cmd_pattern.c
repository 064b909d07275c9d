/* seqbench pattern: the Mamba-2-Hybrid layer pattern Algorithm 1 gives for a
 * number of layers and attention / MLP ratios (models/hybrid.h), or a checked
 * override, with its counts of Mamba, attention and MLP layers. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "models/config.h"
#include "models/hybrid.h"
#include "models/pattern.h"

static int count(const char *p, char symbol)
{
    int c = 0;
    for (; *p; p++) c += *p == symbol;
    return c;
}

int cmd_pattern(int argc, char **argv)
{
    int layers = 0, json = 0;
    double attention = 0, mlp = 0;
    char override[SEQ_MAX_SUBLAYERS + 1] = "";
    Option opts[] = {
        OPT_I("layers", &layers, 1, SEQ_MAX_SUBLAYERS, "total sublayers L (required unless --override gives it)"),
        OPT_D("attention", &attention, 0, 1, "target attention ratio a: round(L a) attention layers"),
        OPT_D("mlp", &mlp, 0, 1, "target MLP ratio m: round(L m) MLP layers"),
        OPT_S("override", override, "use this pattern instead; same length and, with a ratio given, same counts"),
        OPT_F("json", &json, "print JSON instead of lines"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "pattern", "--layers L --attention a --mlp m [--override P] [--json]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    int has_override = options_find(opts, n, "override")->set;
    int ratios_given = options_find(opts, n, "attention")->set || options_find(opts, n, "mlp")->set;
    if (!options_find(opts, n, "layers")->set) {
        if (!has_override) die("pattern: --layers is required (or give --override)");
        if (!*override) die("pattern: --override is empty");
        layers = (int)strlen(override);
    }

    char algo[SEQ_MAX_SUBLAYERS + 1] = "";
    if ((!has_override || ratios_given) && hybrid_allocate(layers, attention, mlp, algo, sizeof algo, &e)) die_err(&e);
    if (has_override && hybrid_check_override(override, layers, attention, mlp, ratios_given, &e)) die_err(&e);
    const char *pattern = has_override ? override : algo;
    int n_mamba = count(pattern, 'M'), n_att = count(pattern, '*'), n_mlp = count(pattern, '-');
    int n_other = layers - n_mamba - n_att - n_mlp; /* L R E in an override */

    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layers", layers);
        if (ratios_given || !has_override) {
            cJSON_AddNumberToObject(o, "attention_ratio", attention);
            cJSON_AddNumberToObject(o, "mlp_ratio", mlp);
        }
        cJSON_AddStringToObject(o, "pattern", pattern);
        cJSON_AddStringToObject(o, "source", has_override ? "override" : "algorithm1");
        if (has_override && *algo) cJSON_AddStringToObject(o, "algorithm1", algo);
        cJSON *c = cJSON_AddObjectToObject(o, "counts");
        cJSON_AddNumberToObject(c, "mamba", n_mamba);
        cJSON_AddNumberToObject(c, "attention", n_att);
        cJSON_AddNumberToObject(c, "mlp", n_mlp);
        for (const char *s = "LRE"; *s; s++)
            if (count(pattern, *s)) cJSON_AddNumberToObject(c, pattern_symbol_name(*s), count(pattern, *s));
        char *text = cJSON_Print(o);
        printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(o);
        return 0;
    }
    printf("pattern    %s\n", pattern);
    if (has_override && *algo && strcmp(algo, pattern)) printf("algorithm1 %s (overridden)\n", algo);
    printf("Mamba      %d\n", n_mamba);
    printf("attention  %d\n", n_att);
    printf("MLP        %d\n", n_mlp);
    for (const char *s = "LRE"; n_other && *s; s++)
        if (count(pattern, *s)) printf("%-10c %d  %s\n", *s, count(pattern, *s), pattern_symbol_name(*s));
    return 0;
}

#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/preset.h"
#include "core/jsonio.h"
#include "core/results.h"
#include "core/threads.h"

/* "d_model" and "d-model" name the same option. */
static int same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_'))) return 0;
    return *a == *b;
}

Option *options_find(Option *opts, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (same_name(opts[i].name, name)) return &opts[i];
    return NULL;
}

/* A bound as a person reads it: integer options' bounds as integers
 * ("1048576", not "1.04858e+06"), others with every digit they have. */
static const char *bound_text(const Option *o, double v, char *buf, size_t cap)
{
    snprintf(buf, cap, o->type == OPT_DOUBLE ? "%.15g" : "%.0f", v);
    return buf;
}

static int set_number(Option *o, double v, const char *text, Err *e)
{
    if (!isfinite(v)) return err_set(e, "--%s: \"%s\" is not a finite number", o->name, text);
    if (o->type != OPT_DOUBLE && v != floor(v)) return err_set(e, "--%s: \"%s\" is not a whole number", o->name, text);
    char lo[32], hi[32];
    if (v < o->lo || v > o->hi)
        return err_set(e, "--%s: %s is out of range [%s, %s]", o->name, text, bound_text(o, o->lo, lo, sizeof lo),
                       bound_text(o, o->hi, hi, sizeof hi));
    if (o->type == OPT_INT) *(int *)o->dest = (int)v;
    else if (o->type == OPT_U64) *(uint64_t *)o->dest = (uint64_t)v;
    else *(double *)o->dest = v;
    return 0;
}

/* What is being applied (preset, config, command line): set_from_text marks each option it sets with it, and as
 * each source is applied over the one before, what stays marked is the source that won. */
static OptFrom g_from;
static const char *g_from_name;

static void applying(OptFrom from, const char *name)
{
    g_from = from;
    g_from_name = name;
}

static int set_from_text(Option *o, const char *text, Err *e)
{
    o->set = 1;
    o->from = g_from;
    o->from_name = g_from_name;
    if (o->type == OPT_STRING) {
        if (strlen(text) >= o->cap) return err_set(e, "--%s: value is longer than %zu characters", o->name, o->cap - 1);
        strcpy(o->dest, text);
        return 0;
    }
    if (o->type == OPT_FLAG) {
        if (!strcmp(text, "1") || !strcmp(text, "true")) *(int *)o->dest = 1;
        else if (!strcmp(text, "0") || !strcmp(text, "false")) *(int *)o->dest = 0;
        else return err_set(e, "--%s: expected true or false (got \"%s\")", o->name, text);
        return 0;
    }
    if (o->type == OPT_U64) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (!*text || *end || errno || text[0] == '-') return err_set(e, "--%s: \"%s\" is not a non-negative integer", o->name, text);
        *(uint64_t *)o->dest = v;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno) return err_set(e, "--%s: \"%s\" is not a number", o->name, text);
    return set_number(o, v, text, e);
}

/* Sets options from a JSON object of names and values; `path` prefixes
 * errors. Keys this command has no option for are errors when `strict`, else
 * skipped; keys in `keep` (options already set by something that wins) are
 * left alone. */
static int apply_object(Option *opts, int n, const cJSON *root, const char *path, int strict, const int *keep,
                        Err *e)
{
    int rc = 0;
    for (cJSON *it = root->child; it && !rc; it = it->next) {
        Option *o = options_find(opts, n, it->string);
        if (!o || same_name(it->string, "config") || same_name(it->string, "preset")) {
            if (!strict) continue;
            rc = err_set(e, "%s: unknown key \"%s\"", path, it->string);
            break;
        }
        if (keep && keep[o - opts]) continue;
        /* docs/failures.md promises a wrong type is an error: "10" is not a number
         * and 1 is not a flag, however they read on a command line. */
        char text[64];
        if (o->type == OPT_STRING && cJSON_IsString(it)) rc = set_from_text(o, it->valuestring, e);
        else if (o->type == OPT_FLAG && cJSON_IsBool(it)) rc = set_from_text(o, cJSON_IsTrue(it) ? "1" : "0", e);
        else if (o->type != OPT_STRING && o->type != OPT_FLAG && cJSON_IsNumber(it)) {
            snprintf(text, sizeof text, "%.17g", it->valuedouble);
            rc = set_from_text(o, text, e);
        } else if (o->type == OPT_STRING && cJSON_IsArray(it)) { /* lists: [64, 128] -> "64,128" */
            char buf[1024] = "";
            size_t k = 0;
            for (cJSON *x = it->child; x; x = x->next) {
                if (!cJSON_IsNumber(x)) { rc = err_set(e, "key \"%s\": list elements must be numbers", it->string); break; }
                k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%.17g", k ? "," : "", x->valuedouble);
                if (k >= sizeof buf) { rc = err_set(e, "key \"%s\": list too long", it->string); break; }
            }
            if (!rc) rc = set_from_text(o, buf, e);
        } else {
            const char *want = o->type == OPT_STRING ? "a string" : o->type == OPT_FLAG ? "true or false"
                             : o->type == OPT_DOUBLE ? "a number" : "an integer";
            char *got = cJSON_PrintUnformatted(it);
            rc = err_set(e, "key \"%s\" must be %s (got %.40s)", it->string, want, got ? got : "?");
            cJSON_free(got); /* the path is prefixed below */
        }
        if (rc) err_prefix(e, path);
    }
    return rc;
}

static int apply_config(Option *opts, int n, const char *path, Err *e)
{
    cJSON *root = json_read_file(path, e);
    if (!root) return -1;
    applying(OPT_FROM_CONFIG, path);
    int rc = cJSON_IsObject(root) ? apply_object(opts, n, root, path, 1, NULL, e)
                                  : err_set(e, "%s: expected a JSON object of option names and values", path);
    cJSON_Delete(root);
    return rc;
}

/* The value of `--name V` or `--name=V` in argv, or NULL. */
static const char *argv_value(int argc, char **argv, int first, const char *name)
{
    size_t len = strlen(name);
    const char *v = NULL;
    for (int i = first; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, name, len)) continue;
        if (argv[i][2 + len] == '=') v = argv[i] + 3 + len;
        else if (!argv[i][2 + len] && i + 1 < argc) v = argv[++i];
    }
    return v;
}

/* --preset NAME (configs/presets/NAME.json, cli/preset.h): its "options"
 * first, then --config and the command line over them (parsed by the caller,
 * between the two calls), then its "by_arch" entry for the final --arch where
 * neither gave a value. train takes every key a preset has; another command
 * (eval) takes the ones it has an option for, its task settings. */
static cJSON *g_preset;

static int preset_begin(Option *opts, int n, const char *name, const char *cmd, Err *e)
{
    g_preset = preset_load(name, e);
    if (!g_preset) return -1;
    char label[128];
    snprintf(label, sizeof label, "preset %s", name);
    applying(OPT_FROM_PRESET, name);
    return apply_object(opts, n, cJSON_GetObjectItemCaseSensitive(g_preset, "options"), label,
                        !strcmp(cmd, "train"), NULL, e);
}

static int preset_end(Option *opts, int n, const char *name, const int *given, const char *cmd, Err *e)
{
    const Option *arch = options_find(opts, n, "arch"), *pattern = options_find(opts, n, "pattern");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(g_preset, "by_arch");
    const cJSON *mine = arch && arch->type == OPT_STRING && !(pattern && pattern->set)
                        ? cJSON_GetObjectItemCaseSensitive(by, (const char *)arch->dest) : NULL;
    int rc = 0;
    if (cJSON_IsObject(mine)) {
        char label[160];
        snprintf(label, sizeof label, "preset %s, by_arch %s", name, (const char *)arch->dest);
        applying(OPT_FROM_PRESET_ARCH, name);
        rc = apply_object(opts, n, mine, label, !strcmp(cmd, "train"), given, e);
    }
    return rc;
}

/* More threads than cores only wait on each other at every barrier (and
 * 1000 of them on 2 cores take minutes to start a step): beyond this many per
 * core it is a mistake, not a choice. Between the cores and the cap it runs,
 * with a warning. */
#define THREADS_PER_CORE_MAX 4

static int check_threads(const Option *o, Err *e)
{
    int n = *(int *)o->dest, cores = threads_cores();
    const char *env = getenv("OMP_NUM_THREADS"), *what = "--threads";
    if (n == 0 && env && atoi(env) > 0) { /* what threads_init will use */
        n = atoi(env);
        what = "OMP_NUM_THREADS";
    }
    if (n > THREADS_PER_CORE_MAX * cores)
        return err_set(e, "%s %d is more than %d x the %d cores of this machine (at most %d; oversubscribed threads "
                          "wait on each other)", what, n, THREADS_PER_CORE_MAX, cores, THREADS_PER_CORE_MAX * cores);
    if (o->set && *(int *)o->dest > 0 && n > cores) /* asked for; OMP_NUM_THREADS is the environment's business */
        fprintf(stderr, "seqbench: warning: --threads %d is more than the %d cores; timings will suffer\n", n, cores);
    return 0;
}

static int options_parse_rest(Option *opts, int n, int argc, char **argv, int first, const char *cmd, Err *e);

int options_parse(Option *opts, int n, int argc, char **argv, int first, const char *cmd, const char *usage, Err *e)
{
    for (int i = first; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            options_usage(stdout, cmd, usage, opts, n);
            return 1;
        }
    /* --preset, then --config, then the command line: each wins over the one before */
    const char *preset = options_find(opts, n, "preset") ? argv_value(argc, argv, first, "preset") : NULL;
    if (preset && !strcmp(preset, "list")) {
        preset_list(stdout);
        return 1;
    }
    if (preset && preset_begin(opts, n, preset, cmd, e)) {
        cJSON_Delete(g_preset);
        g_preset = NULL;
        applying(OPT_FROM_DEFAULT, NULL);
        return -1;
    }
    /* which options the config and the command line set, apart from the preset's */
    size_t cnt = n > 0 ? (size_t)n : 1;
    int *given = calloc(cnt, sizeof *given), *by_preset = calloc(cnt, sizeof *by_preset);
    int rc = given && by_preset ? 0 : err_set(e, "%s: out of memory", cmd);
    for (int i = 0; i < n && !rc; i++) {
        by_preset[i] = opts[i].set;
        opts[i].set = 0;
    }
    if (!rc) rc = options_parse_rest(opts, n, argc, argv, first, cmd, e);
    for (int i = 0; i < n && given && by_preset; i++) {
        given[i] = opts[i].set;
        opts[i].set |= by_preset[i];
    }
    if (preset && !rc) rc = preset_end(opts, n, preset, given, cmd, e);
    cJSON_Delete(g_preset);
    g_preset = NULL;
    applying(OPT_FROM_DEFAULT, NULL);
    free(given);
    free(by_preset);
    if (rc) return -1;
    const Option *t = options_find(opts, n, "threads");
    if (t && t->type == OPT_INT && check_threads(t, e)) return -1;
    return 0;
}

/* --config, then the command line. */
static int options_parse_rest(Option *opts, int n, int argc, char **argv, int first, const char *cmd, Err *e)
{
    for (int i = first; i < argc; i++) {
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) return err_set(e, "--config needs a file name");
            if (apply_config(opts, n, argv[i + 1], e)) return -1;
            i++;
        }
    }
    applying(OPT_FROM_COMMAND_LINE, NULL);
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) { i++; continue; }
        if (strncmp(a, "--", 2))
            return err_set(e, "%s: unexpected argument \"%s\" (options start with --; see seqbench %s --help)", cmd, a, cmd);
        const char *name = a + 2, *eq = strchr(name, '=');
        char key[64];
        size_t klen = eq ? (size_t)(eq - name) : strlen(name);
        if (klen >= sizeof key) return err_set(e, "%s: unknown option \"%s\"", cmd, a);
        memcpy(key, name, klen);
        key[klen] = '\0';
        Option *o = options_find(opts, n, key);
        if (!o) return err_set(e, "%s: unknown option \"--%s\" (see seqbench %s --help)", cmd, key, cmd);
        const char *value;
        if (eq) value = eq + 1;
        else if (o->type == OPT_FLAG && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0 ||
                                         (strcmp(argv[i + 1], "true") && strcmp(argv[i + 1], "false"))))
            value = "1";
        else if (i + 1 < argc) value = argv[++i];
        else return err_set(e, "%s: option --%s needs a value", cmd, key);
        if (set_from_text(o, value, e)) return -1;
    }
    return 0;
}

void options_usage(FILE *f, const char *cmd, const char *usage, const Option *opts, int n)
{
    fprintf(f, "usage: seqbench %s %s\n\n", cmd, usage);
    for (int i = 0; i < n; i++) {
        const Option *o = &opts[i];
        char def[160] = "";
        switch (o->type) {
        case OPT_INT:
        case OPT_DOUBLE: {
            char lo[32], hi[32], v[32];
            if (o->type == OPT_INT) snprintf(v, sizeof v, "%d", *(int *)o->dest);
            else snprintf(v, sizeof v, "%g", *(double *)o->dest);
            if (!strcmp(o->name, "threads")) /* the cap check_threads enforces on this machine */
                snprintf(hi, sizeof hi, "%.0f", fmin(o->hi, THREADS_PER_CORE_MAX * threads_cores()));
            else bound_text(o, o->hi, hi, sizeof hi);
            snprintf(def, sizeof def, " (default %s, range [%s, %s])", v, bound_text(o, o->lo, lo, sizeof lo), hi);
            break;
        }
        case OPT_U64: snprintf(def, sizeof def, " (default %llu)", (unsigned long long)*(uint64_t *)o->dest); break;
        case OPT_STRING: if (*(char *)o->dest) snprintf(def, sizeof def, " (default %s)", (char *)o->dest); break;
        case OPT_FLAG: break;
        }
        fprintf(f, "  --%-16s %s%s\n", o->name, o->help, def);
    }
    fprintf(f, "  --%-16s %s\n", "config FILE", "read options from a JSON object first (command line wins)");
}

/* The value as it would be typed: numbers as the shortest decimal that reads back the same. */
static void value_text(const Option *o, char *buf, size_t cap)
{
    switch (o->type) {
    case OPT_INT: snprintf(buf, cap, "%d", *(int *)o->dest); break;
    case OPT_U64: snprintf(buf, cap, "%llu", (unsigned long long)*(uint64_t *)o->dest); break;
    case OPT_FLAG: snprintf(buf, cap, "%s", *(int *)o->dest ? "true" : "false"); break;
    case OPT_STRING: snprintf(buf, cap, "%s", (char *)o->dest); break;
    case OPT_DOUBLE: {
        double v = *(double *)o->dest;
        for (int digits = 6; digits <= 17; digits++) {
            snprintf(buf, cap, "%.*g", digits, v);
            if (strtod(buf, NULL) == v) break;
        }
        break;
    }
    }
}

/* The value as a shell reads it back: quoted when it holds anything but plain characters (pattern "*-", a path with a
 * space), so a resolved line can be pasted into a command */
static void shell_word(const char *value, char *buf, size_t cap)
{
    if (*value && strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:/+=@%-") ==
                  strlen(value)) {
        snprintf(buf, cap, "%s", value);
        return;
    }
    size_t k = 0;
    if (k + 1 < cap) buf[k++] = '\'';
    for (const char *p = value; *p && k + 5 < cap; p++) {
        if (*p == '\'') { memcpy(buf + k, "'\\''", 4); k += 4; }
        else buf[k++] = *p;
    }
    if (k + 1 < cap) buf[k++] = '\'';
    buf[k] = '\0';
}

static void from_text(const Option *o, const Option *opts, int n, char *buf, size_t cap)
{
    const Option *arch = options_find((Option *)opts, n, "arch");
    switch (o->from) {
    case OPT_FROM_DEFAULT: snprintf(buf, cap, "default"); break;
    case OPT_FROM_PRESET: snprintf(buf, cap, "preset %s", o->from_name); break;
    case OPT_FROM_PRESET_ARCH:
        snprintf(buf, cap, "preset %s, by_arch %s", o->from_name,
                 arch && arch->type == OPT_STRING ? (const char *)arch->dest : "?");
        break;
    case OPT_FROM_CONFIG: snprintf(buf, cap, "--config %s", o->from_name); break;
    case OPT_FROM_COMMAND_LINE: snprintf(buf, cap, "command line"); break;
    }
}

void options_print_resolved(FILE *f, const char *cmd, const Option *opts, int n)
{
    int given = 0;
    for (int i = 0; i < n; i++) given += opts[i].from != OPT_FROM_DEFAULT;
    fprintf(f, "# seqbench %s: resolved settings, %d given, %d at their defaults (# where each came from)\n", cmd,
            given, n - given);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            const Option *o = &opts[i];
            if ((o->from == OPT_FROM_DEFAULT) != pass) continue;
            char value[1100], word[2200], from[400], line[2300];
            value_text(o, value, sizeof value);
            shell_word(value, word, sizeof word);
            from_text(o, opts, n, from, sizeof from);
            snprintf(line, sizeof line, "--%s %s", o->name, word);
            fprintf(f, "%-36s # %s\n", line, from);
        }
    /* what a result of this run would record, for `experiment` to tell a result made under other settings */
    char hex[17], *text = options_digest(cmd, opts, n, hex);
    fprintf(f, "# settings digest %s: %s\n", hex, text ? text : "");
    cJSON_free(text);
    fflush(f);
}

cJSON *options_to_json(const Option *opts, int n)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        const Option *p = &opts[i];
        switch (p->type) {
        case OPT_INT: cJSON_AddNumberToObject(o, p->name, *(int *)p->dest); break;
        case OPT_DOUBLE: cJSON_AddNumberToObject(o, p->name, *(double *)p->dest); break;
        case OPT_U64: cJSON_AddNumberToObject(o, p->name, (double)*(uint64_t *)p->dest); break;
        case OPT_STRING: cJSON_AddStringToObject(o, p->name, (char *)p->dest); break;
        case OPT_FLAG: cJSON_AddBoolToObject(o, p->name, *(int *)p->dest); break;
        }
    }
    return o;
}

cJSON *options_digest_json(const char *command, const Option *opts, int n)
{
    static const char *const not_settings[] = {"out", "save", "dry-run", "config", "preset", "roofline"};
    cJSON *all = options_to_json(opts, n);
    for (size_t i = 0; i < sizeof not_settings / sizeof *not_settings; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(all, not_settings[i]);
    /* the count the run has (0 means all cores, which differ between machines); the rounding of every sum
     * follows it, so two thread counts are two settings */
    if (cJSON_GetObjectItemCaseSensitive(all, "threads"))
        cJSON_ReplaceItemInObjectCaseSensitive(all, "threads", cJSON_CreateNumber(threads_count()));
    /* Options added after results were recorded: at the value that does what seqbench did before them they stay
     * out of the digest, so those results still count as made under these settings (they were); any other
     * value is a setting like every other. */
    static const struct { const char *name, *as_before; } added_later[] = {
        {"mamba-init", "normal"}, {"data", ""}, {"decay-steps", "0"}, {"bpe", "0"}, {"dtype", "fp32"}};
    for (size_t i = 0; i < sizeof added_later / sizeof *added_later; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(all, added_later[i].name);
        const char *was = added_later[i].as_before;
        int as_before = cJSON_IsString(v) ? !strcmp(v->valuestring, was)
                                          : cJSON_IsNumber(v) && *was && v->valuedouble == strtod(was, NULL);
        if (as_before) cJSON_DeleteItemFromObjectCaseSensitive(all, added_later[i].name);
    }
    for (int i = 0; i < n; i++)
        if (opts[i].digest_as && cJSON_GetObjectItemCaseSensitive(all, opts[i].name))
            cJSON_ReplaceItemInObjectCaseSensitive(all, opts[i].name, cJSON_CreateString(opts[i].digest_as));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "command", command);
    cJSON_AddItemToObject(o, "settings", all);
    return o;
}

char *options_digest(const char *command, const Option *opts, int n, char hex[17])
{
    cJSON *o = options_digest_json(command, opts, n);
    char *text = cJSON_PrintUnformatted(o);
    results_digest(text ? text : "", hex);
    cJSON_Delete(o);
    return text;
}

void options_add_digest(cJSON *res, const char *command, const Option *opts, int n)
{
    char hex[17];
    cJSON_free(options_digest(command, opts, n, hex));
    cJSON_AddStringToObject(res, "settings_digest", hex);
}

int parse_int_list(const char *s, int *out, int cap, int lo, int hi, const char *what, Err *e)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || (*end && *end != ','))
            return err_set(e, "%s: \"%s\" is not a comma-separated list of integers", what, s);
        if (v < lo || v > hi) return err_set(e, "%s: %ld is out of range [%d, %d]", what, v, lo, hi);
        if (n >= cap) return err_set(e, "%s: more than %d values", what, cap);
        out[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (!n) return err_set(e, "%s: empty list", what);
    return n;
}

/* seqbench experiment: runs one experiment spec, experiments/NAME.json (DESIGN §9).
 *
 * A spec names a command (train), base options, per-profile options
 * ("quick" fits a laptop, "paper" follows the paper where a CPU can), a
 * list of cells (option overrides with a name) and seeds. Each (cell, seed)
 * is one result file <results>/<experiment>/<cell>.seed<k>.json, written
 * atomically by the command itself, so an interrupted run resumes where it
 * stopped: finished cells are skipped. Each cell runs in a child process so
 * one failing cell (a diverged run, a bad option) does not end the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/atomic.h"
#include "core/jsonio.h"

#define MAX_ARGS 256

/* Appends "--key value" for every entry of obj to argv. */
static int push_options(const cJSON *obj, char **argv, int argc, const char *spec, Err *e)
{
    for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next) {
        if (!strcmp(it->string, "name")) continue;
        if (argc + 2 >= MAX_ARGS) return err_set(e, "%s: too many options", spec);
        char value[1024];
        if (cJSON_IsString(it)) snprintf(value, sizeof value, "%s", it->valuestring);
        else if (cJSON_IsBool(it)) snprintf(value, sizeof value, "%s", cJSON_IsTrue(it) ? "true" : "false");
        else if (cJSON_IsNumber(it)) snprintf(value, sizeof value, "%.17g", it->valuedouble);
        else if (cJSON_IsArray(it)) {
            size_t k = 0;
            value[0] = '\0';
            for (const cJSON *x = it->child; x && k < sizeof value; x = x->next)
                k += (size_t)snprintf(value + k, sizeof value - k, "%s%.17g", k ? "," : "", x->valuedouble);
        } else
            return err_set(e, "%s: option \"%s\" must be a string, number, boolean or list", spec, it->string);
        char flag[128];
        snprintf(flag, sizeof flag, "--%s", it->string);
        argv[argc++] = strdup(flag);
        argv[argc++] = strdup(value);
    }
    return argc;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int cmd_experiment(int argc, char **argv)
{
    char spec_path[1024] = "", profile[32] = "quick", results[1024] = "results";
    int threads = 0, dry = 0;
    Option opts[] = {
        OPT_S("spec", spec_path, "experiment spec (experiments/NAME.json)"),
        OPT_S("profile", profile, "quick or paper"),
        OPT_S("results", results, "results directory"),
        OPT_I("threads", &threads, 0, 1024, "threads per cell (0 = all cores)"),
        OPT_F("dry-run", &dry, "print the commands without running them"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "experiment", "--spec experiments/NAME.json [--profile quick|paper]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    if (!*spec_path) die("experiment: --spec FILE is required");
    cJSON *spec = json_read_file(spec_path, &e);
    if (!spec) die_err(&e);
    char name[128] = "", command[32] = "";
    if (json_get_string(spec, "name", 1, name, sizeof name, spec_path, &e) ||
        json_get_string(spec, "command", 1, command, sizeof command, spec_path, &e))
        die_err(&e);
    if (strcmp(command, "train")) die("%s: command \"%s\" is not supported (train)", spec_path, command);
    for (const char *c = name; *c; c++)
        if (!(*c == '_' || *c == '-' || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
            die("%s: name \"%s\" may only use a-z 0-9 _ -", spec_path, name);
    const cJSON *profiles = cJSON_GetObjectItemCaseSensitive(spec, "profiles");
    const cJSON *prof = cJSON_GetObjectItemCaseSensitive(profiles, profile);
    if (!cJSON_IsObject(prof)) die("%s: no profile \"%s\"", spec_path, profile);
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(spec, "cells");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(spec, "seeds");
    if (!cJSON_IsArray(cells) || !cJSON_GetArraySize(cells)) die("%s: \"cells\" must be a non-empty array", spec_path);
    if (!cJSON_IsArray(seeds) || !cJSON_GetArraySize(seeds)) die("%s: \"seeds\" must be a non-empty array", spec_path);
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", results, name);
    if (mkdir_p(dir, &e)) die_err(&e);

    int total = cJSON_GetArraySize(cells) * cJSON_GetArraySize(seeds), done = 0, failed = 0, skipped = 0;
    for (const cJSON *cell = cells->child; cell; cell = cell->next) {
        char cell_name[128] = "";
        if (json_get_string(cell, "name", 1, cell_name, sizeof cell_name, spec_path, &e)) die_err(&e);
        for (const cJSON *seed = seeds->child; seed; seed = seed->next) {
            long long s;
            if (json_whole_number(seed, &s) || s < 0) die("%s: seeds must be non-negative integers", spec_path);
            char out[1500], seed_s[32], threads_s[16];
            snprintf(out, sizeof out, "%s/%s.seed%lld.json", dir, cell_name, s);
            done++;
            if (file_exists(out)) {
                skipped++;
                fprintf(stderr, "[%d/%d] %s/%s seed %lld: done already\n", done, total, name, cell_name, s);
                continue;
            }
            char *args[MAX_ARGS] = {"seqbench", "train"};
            int ac = 2;
            if ((ac = push_options(cJSON_GetObjectItemCaseSensitive(spec, "base"), args, ac, spec_path, &e)) < 0 ||
                (ac = push_options(prof, args, ac, spec_path, &e)) < 0 ||
                (ac = push_options(cell, args, ac, spec_path, &e)) < 0)
                die_err(&e);
            snprintf(seed_s, sizeof seed_s, "%lld", s);
            snprintf(threads_s, sizeof threads_s, "%d", threads);
            const char *tail[] = {"--seed", seed_s, "--threads", threads_s, "--out", out};
            for (int i = 0; i < 6; i++) args[ac++] = (char *)tail[i];
            args[ac] = NULL;
            fprintf(stderr, "[%d/%d] %s/%s seed %lld:", done, total, name, cell_name, s);
            for (int i = 1; i < ac; i++) fprintf(stderr, " %s", args[i]);
            fputc('\n', stderr);
            if (dry) continue;
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) die("experiment: fork failed");
            if (pid == 0) _exit(cmd_train(ac, args));
            int status;
            waitpid(pid, &status, 0);
            if (!WIFEXITED(status) || WEXITSTATUS(status)) {
                failed++;
                fprintf(stderr, "[%d/%d] %s/%s seed %lld failed (status %d)\n", done, total, name, cell_name, s,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            }
        }
    }
    fprintf(stderr, "%s: %d cells, %d already done, %d failed\n", name, total, skipped, failed);
    cJSON_Delete(spec);
    return failed ? 1 : 0;
}

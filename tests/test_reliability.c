/* Reliability: a run killed with SIGKILL at any moment leaves every result
 * file and checkpoint either as it was or complete, never torn; a diverging
 * run stops with status "diverged" and the step, not a table of NaNs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/jsonio.h"
#include "core/safetensors.h"

static const char *bin;
static char dir[512];

static pid_t spawn(char *const argv[], int quiet)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (quiet) {
            freopen("/dev/null", "w", stdout);
            freopen("/dev/null", "w", stderr);
        }
        execv(bin, argv);
        _exit(127);
    }
    return pid;
}

/* every file a killed run may have been replacing is still whole */
static int outputs_whole(const char *model, const char *result, char *why, size_t cap)
{
    char path[700];
    Err e = {{0}};
    StFile f;
    snprintf(path, sizeof path, "%s/model.safetensors", model);
    if (st_open(&f, path, &e)) { snprintf(why, cap, "%s", e.msg); return 0; }
    st_close(&f);
    const char *jsons[] = {"config.json", "seqbench_train.json"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", model, jsons[i]);
        cJSON *j = json_read_file(path, &e);
        if (!j) { snprintf(why, cap, "%s", e.msg); return 0; }
        cJSON_Delete(j);
    }
    cJSON *r = json_read_file(result, &e);
    if (!r) { snprintf(why, cap, "%s", e.msg); return 0; }
    cJSON_Delete(r);
    return 1;
}

static void kill_mid_write(void)
{
    char model[600], result[600];
    snprintf(model, sizeof model, "%s/model", dir);
    snprintf(result, sizeof result, "%s/result.json", dir);
    /* d_model 384: a ~20 MB checkpoint, so a kill often lands inside its write */
    char *argv[] = {(char *)bin, "train", "--task", "copy", "--max-len", "4", "--alphabet", "4", "--steps", "2",
                    "--d-model", "384", "--heads", "4", "--eval-lengths", "4", "--eval-seqs", "4", "--threads", "1",
                    "--save", model, "--out", result, NULL};
    int status;
    waitpid(spawn(argv, 1), &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "first run failed (status %d)", status);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    waitpid(spawn(argv, 1), &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long run_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    srand(7);
    int killed = 0, whole = 0;
    for (int i = 0; i < 24; i++) {
        pid_t pid = spawn(argv, 1);
        usleep((useconds_t)(run_us * (0.3 + 0.8 * rand() / (double)RAND_MAX))); /* mostly during the writes at the end */
        killed += kill(pid, SIGKILL) == 0;
        waitpid(pid, &status, 0);
        char why[600] = "";
        if (outputs_whole(model, result, why, sizeof why)) whole++;
        else CHECK(0, "after a SIGKILL at run %d: %s", i, why);
    }
    printf("kill mid-write: %d kills over a %.2f s run, outputs whole after %d\n", killed, run_us / 1e6, whole);
}

static void divergence(void)
{
    char result[600], err_path[600];
    snprintf(result, sizeof result, "%s/diverged.json", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", dir);
    /* lr x weight decay = 90: parameters grow 89-fold a step until they overflow */
    char *argv[] = {(char *)bin, "train", "--task", "copy", "--max-len", "4", "--alphabet", "4", "--steps", "60",
                    "--lr", "9", "--weight-decay", "10", "--warmup", "0", "--d-model", "16", "--heads", "2",
                    "--threads", "1", "--out", result, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        freopen(err_path, "w", stderr);
        execv(bin, argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1, "a diverged run must exit 1 (status %d)", status);
    Err e = {{0}};
    cJSON *r = json_read_file(result, &e);
    CHECK(r != NULL, "no result file for the diverged run: %s", e.msg);
    if (r) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status"), *step = cJSON_GetObjectItemCaseSensitive(r, "diverged_step");
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "metrics"), "eval");
        CHECK(cJSON_IsString(st) && !strcmp(st->valuestring, "diverged"), "status is not \"diverged\"");
        CHECK(cJSON_IsNumber(step) && step->valueint >= 0 && step->valueint < 60, "no diverged_step");
        CHECK(cJSON_GetArraySize(ev) == 0, "a diverged run must not report accuracies");
        cJSON_Delete(r);
    }
    FILE *f = fopen(err_path, "r");
    char line[512] = "";
    int found = 0;
    while (f && fgets(line, sizeof line, f)) found |= strstr(line, "diverged at step") != NULL;
    if (f) fclose(f);
    CHECK(found, "stderr does not say where training diverged");
}

static void cleanup(void) { check_rmtree(dir); }

int main(void)
{
    bin = getenv("SEQ_BINARY");
    if (!bin) bin = "build/seqbench";
    if (!check_tmpdir(dir, sizeof dir, "seqbench-rel")) return 1;
    divergence();
    kill_mid_write();
    cleanup();
    return check_summary();
}

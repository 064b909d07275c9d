/* make reproduce end to end at the smoke profile (scripts/reproduce.sh,
 * the driver `make reproduce` runs, pointed at a temporary results and
 * build directory), killed after its first result and run again:
 *   - no result file is ever half-written (every *.json seen parses);
 *   - the rerun redoes no finished cell (same inode and mtime) and loses
 *     none (every cell --list-cells names has its result at the end);
 *   - REPORT.md is written, and a PNG when gnuplot is installed.
 * Polls for the first result; nothing depends on how fast the machine is. */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/jsonio.h"
#include "check.h"

#define MAX_FILES 512

static const char *bin, *src;
static char tmp[200];

typedef struct {
    char path[600];
    ino_t ino;
    struct timespec mtime;
} Seen;

/* Every RESULTS/<experiment>/<cell>.seed<k>.json; each must parse (a result is written whole or not at all). */
static int scan(Seen *out, int cap, int *unparsable)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/results", tmp);
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *x; d && (x = readdir(d));) {
        if (x->d_name[0] == '.') continue;
        char sub[700];
        snprintf(sub, sizeof sub, "%s/%s", dir, x->d_name);
        DIR *s = opendir(sub);
        for (struct dirent *y; s && (y = readdir(s));) {
            size_t len = strlen(y->d_name);
            if (len < 5 || strcmp(y->d_name + len - 5, ".json") || n >= cap) continue;
            Seen *f = &out[n];
            snprintf(f->path, sizeof f->path, "%.400s/%.190s", sub, y->d_name);
            struct stat st;
            if (stat(f->path, &st)) continue;
            f->ino = st.st_ino;
            f->mtime = st.st_mtim;
            Err e;
            cJSON *j = json_read_file(f->path, &e);
            if (!j) {
                fprintf(stderr, "half-written? %s\n", e.msg);
                ++*unparsable;
            }
            cJSON_Delete(j);
            n++;
        }
        if (s) closedir(s);
    }
    if (d) closedir(d);
    return n;
}

/* Starts the driver in its own process group, output to log; returns its pid. */
static pid_t start(const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        char cmd[2000];
        /* two cells at once whatever the machine; MAKEFLAGS from an enclosing make would set it otherwise */
        snprintf(cmd, sizeof cmd,
                 "MAKEFLAGS=-j2 PROFILE=smoke RESULTS=%s/results ONLY= %s/scripts/reproduce.sh %s %s/build >%s/%s 2>&1",
                 tmp, src, bin, tmp, tmp, log);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

int main(void)
{
    if (!check_cli_env(&bin, &src)) return 1;
    if (!check_tmpdir(tmp, sizeof tmp, "seq-reproduce")) return 1;
    /* 0. a wrong PROFILE or ONLY name: one line, status 2, nothing run or made */
    static const char *wrong[][2] = {{"PROFILE=nope", "no profile \"nope\""}, {"ONLY=copy_length,nope", "no experiment \"nope\""}};
    for (int i = 0; i < 2; i++) {
        char cmd[2000];
        snprintf(cmd, sizeof cmd, "MAKEFLAGS= RESULTS=%s/results %s %s/scripts/reproduce.sh %s %s/build >%s/bad.log 2>&1",
                 tmp, wrong[i][0], src, bin, tmp, tmp);
        int st = system(cmd);
        char *log = check_slurp(tmp, "bad.log"), results[400];
        int lines = 0;
        for (const char *c = log; *c; c++) lines += *c == '\n';
        snprintf(results, sizeof results, "%s/results", tmp);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2 && lines == 1 && strstr(log, wrong[i][1]) &&
                  access(results, F_OK) != 0,
              "%s: status %d, want 2 and one line with '%s', no results directory: %s", wrong[i][0], st, wrong[i][1], log);
        free(log);
    }
    /* 0b. a second run into the same results folder while one holds it: one line, status 2, nothing run */
    {
        char results[400], gen[1200], cmd[4000];
        snprintf(results, sizeof results, "%s/results", tmp);
        int k = snprintf(gen, sizeof gen, "%s/build/reproduce-", tmp);
        for (const char *c = results; *c && k < (int)sizeof gen - 1; c++) /* scripts/reproduce.sh's name for it */
            gen[k++] = (isalnum((unsigned char)*c) || strchr("_.-", *c)) ? *c : '_';
        gen[k] = '\0';
        snprintf(cmd, sizeof cmd,
                 "mkdir -p '%s' && flock '%s/lock' sh -c \"MAKEFLAGS= PROFILE=smoke RESULTS='%s' '%s/scripts/reproduce.sh' "
                 "'%s' '%s/build'\" >%s/locked.log 2>&1",
                 gen, gen, results, src, bin, tmp, tmp);
        int st = system(cmd);
        char *log = check_slurp(tmp, "locked.log");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(log, "another make reproduce is running into it") &&
                  !strchr(log, '\n')[1] && access(results, F_OK) != 0,
              "a run while another holds the results folder: status %d, want 2, one line, nothing made: %s", st, log);
        free(log);
    }
    static Seen before[MAX_FILES], after[MAX_FILES];
    int bad = 0, n_before = 0;

    /* 1. killed (the whole process group, SIGKILL: no chance to tidy up) once the first result exists */
    pid_t pid = start("first.log");
    CHECK(pid > 0, "fork");
    int status = 0, exited = 0;
    for (long polls = 0; pid > 0; polls++) {
        n_before = scan(before, MAX_FILES, &bad);
        if (n_before > 0) break;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (polls > 30000) break; /* 10 minutes: something is stuck; the checks below fail */
    }
    if (!exited && pid > 0) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    char *log = check_slurp(tmp, "first.log");
    CHECK(!exited, "the driver ended before any result appeared (status %d): %s", status, log);
    free(log);
    n_before = scan(before, MAX_FILES, &bad);
    CHECK(n_before > 0, "no result before the kill");
    fprintf(stderr, "killed with %d results written\n", n_before);

    /* 2. the rerun: the finished cells are counted done and not redone, the rest run, then report and plots */
    pid = start("second.log");
    waitpid(pid, &status, 0);
    log = check_slurp(tmp, "second.log");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rerun: status %d: %s", status, log);
    char want[64];
    snprintf(want, sizeof want, " cells, %d done, ", n_before);
    CHECK(strstr(log, want) != NULL, "the rerun does not count the %d finished cells as done: %s", n_before, log);
    CHECK(strstr(log, "ETA") != NULL, "no progress line with an ETA: %s", log);
    int n_after = scan(after, MAX_FILES, &bad);
    CHECK(bad == 0, "%d result files did not parse", bad);
    for (int i = 0; i < n_before; i++) {
        int same = 0;
        for (int j = 0; j < n_after; j++)
            if (!strcmp(before[i].path, after[j].path))
                same = before[i].ino == after[j].ino && before[i].mtime.tv_sec == after[j].mtime.tv_sec &&
                       before[i].mtime.tv_nsec == after[j].mtime.tv_nsec;
        CHECK(same, "%s was redone or lost by the rerun", before[i].path);
    }
    /* every cell the specs list has its result */
    char cmd[2000];
    snprintf(cmd, sizeof cmd,
             "cd %s && for s in experiments/*.json; do %s experiment --spec $s --profile smoke --results %s/results "
             "--list-cells; done | cut -f4 | while read p; do test -f \"$p\" || echo \"$p\"; done >%s/missing.txt",
             src, bin, tmp, tmp);
    CHECK(system(cmd) == 0, "listing the cells");
    char *missing = check_slurp(tmp, "missing.txt");
    CHECK(!*missing && n_after >= 10, "cells without a result after the rerun (%d results): %s", n_after, missing);
    free(missing);
    char report[400];
    snprintf(report, sizeof report, "%s/results/REPORT.md", tmp);
    CHECK(access(report, R_OK) == 0, "no REPORT.md: %s", log);
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd, "ls %s/results/plots/*.png >/dev/null 2>&1", tmp);
        CHECK(system(cmd) == 0, "gnuplot is installed but no PNG in results/plots: %s", log);
    }
    free(log);

    /* 3. a third run has nothing to do */
    pid = start("third.log");
    waitpid(pid, &status, 0);
    log = check_slurp(tmp, "third.log");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(log, " 0 to run, ") && strstr(log, "nothing to run"),
          "third run: status %d: %s", status, log);
    free(log);
    check_rmtree(tmp);
    return check_summary();
}

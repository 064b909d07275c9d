#include "results.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/sysinfo.h"
#include "core/threads.h"
#include "core/timer.h"

static double g_started = -1; /* now_seconds() at results_new */

cJSON *results_new(const char *command, int argc, char **argv)
{
    g_started = now_seconds();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "seqbench_version", sysinfo_version());
    cJSON_AddStringToObject(o, "command", command);
    cJSON *args = cJSON_AddArrayToObject(o, "argv");
    for (int i = 0; i < argc; i++) cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
    cJSON_AddNumberToObject(o, "threads", threads_count());
    cJSON_AddStringToObject(o, "blas_threading", threads_blas_kind());
    char cpu[256];
    sysinfo_cpu_model(cpu, sizeof cpu);
    cJSON_AddStringToObject(o, "cpu", cpu);
    cJSON_AddStringToObject(o, "compiler", sysinfo_compiler());
    cJSON_AddStringToObject(o, "compiler_flags", sysinfo_compiler_flags());
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(o, "started_at", when);
    /* another process on the cores skews every timing: say how busy the machine was */
    double load;
    if (getloadavg(&load, 1) == 1) cJSON_AddNumberToObject(o, "load_average_1m_at_start", load);
    return o;
}

void results_finish(cJSON *res)
{
    cJSON_DeleteItemFromObjectCaseSensitive(res, "wall_time_s");
    cJSON_AddNumberToObject(res, "wall_time_s", g_started >= 0 ? now_seconds() - g_started : 0);
}

/* The directory part of path ("." for a bare name, "/" for "/x"). */
static void parent_of(const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0'; /* "a/b/" names b */
    char *slash = strrchr(buf, '/');
    if (!slash) snprintf(buf, cap, ".");
    else if (slash == buf) buf[1] = '\0';
    else *slash = '\0';
}

int results_check_file(const char *opt, const char *path, Err *e)
{
    struct stat st;
    char parent[1100];
    if (!*path) return err_set(e, "%s: empty file name", opt);
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return err_set(e, "%s %s: is a directory; give a file name such as %s/result.json", opt, path, path);
        /* rename() would replace a device or pipe (think /dev/null) with a plain file */
        if (!S_ISREG(st.st_mode)) return err_set(e, "%s %s: exists and is not a regular file", opt, path);
    }
    parent_of(path, parent, sizeof parent);
    if (stat(parent, &st) != 0) /* made with its parents when the file is written (atomic_open) */
        return results_check_dir(opt, parent, NULL, e);
    if (!S_ISDIR(st.st_mode)) return err_set(e, "%s %s: %s is not a directory", opt, path, parent);
    AtomicFile *probe = atomic_open(path, e); /* permissions, read-only or full file systems */
    if (!probe) return err_prefix(e, opt);
    atomic_abort(probe);
    return 0;
}

int results_check_dir(const char *opt, const char *dir, const char *const *files, Err *e)
{
    struct stat st;
    if (!*dir) return err_set(e, "%s: empty directory name", opt);
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return err_set(e, "%s %s: exists and is not a directory", opt, dir);
        for (int i = 0; files && files[i]; i++) {
            char path[1200];
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            if (results_check_file(opt, path, e)) return -1;
        }
        return 0;
    }
    /* not there yet: it will be made with its parents, so the nearest existing ancestor decides */
    char up[1100];
    snprintf(up, sizeof up, "%s", dir);
    for (;;) {
        char parent[1100];
        parent_of(up, parent, sizeof parent);
        if (stat(parent, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) return err_set(e, "%s %s: %s is not a directory", opt, dir, parent);
            if (access(parent, W_OK | X_OK))
                return err_set(e, "%s %s: cannot create it in %s: %s", opt, dir, parent, strerror(errno));
            return 0;
        }
        if (!strcmp(parent, up)) return err_set(e, "%s %s: no existing parent directory", opt, dir);
        snprintf(up, sizeof up, "%s", parent);
    }
}

void results_digest(const char *text, char hex[17])
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
}

const char *results_count(double n, char *buf, size_t cap)
{
    static const char unit[] = "KMBT";
    if (n < 1000) {
        snprintf(buf, cap, "%.0f", n);
        return buf;
    }
    int k = 0;
    while (k < 3 && n >= 999.995e3) { /* 999995 prints as 1000.00K otherwise */
        n /= 1000;
        k++;
    }
    snprintf(buf, cap, "%.2f%c", n / 1000, unit[k]);
    return buf;
}

/* Replays fuzz inputs without libFuzzer, so the committed corpus (crash
 * regressions included) runs under ctest with any compiler, and under ASan
 * with `make test SANITIZE=1`. Arguments are files or directories of files;
 * each is fed once to the target's LLVMFuzzerTestOneInput. A bad input
 * crashes (FUZZ_CHECK aborts, sanitizers report); otherwise this prints
 * "N passed, 0 failed" like every seqbench test. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int n_run;

static void run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        exit(1);
    }
    size_t len = 0, cap = 4096;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len, fp)) > 0;) {
        len += got;
        if (len == cap) buf = realloc(buf, cap *= 2);
    }
    if (!buf || ferror(fp)) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(1);
    }
    fclose(fp);
    /* an exact-size copy, so ASan sees a read one past the input */
    uint8_t *input = malloc(len ? len : 1);
    if (!input) exit(1);
    memcpy(input, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(input, len);
    free(input);
    n_run++;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(1);
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        exit(1);
    }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        size_t k = strlen(path) + strlen(de->d_name) + 2;
        if (!names || !(names[n] = malloc(k))) exit(1);
        snprintf(names[n++], k, "%s/%s", path, de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name); /* same order every run */
    for (size_t i = 0; i < n; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) run_path(argv[i]);
    if (n_run == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    printf("%d passed, 0 failed\n", n_run);
    return 0;
}

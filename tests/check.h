/* A minimal test harness: CHECK records a failure and goes on, so one run
 * reports every broken property; check_summary prints "N passed, N failed"
 * and is the test program's exit status. Each test is its own executable
 * registered with ctest. */
#ifndef SEQ_CHECK_H
#define SEQ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            check_passed++;                                                \
        } else {                                                           \
            check_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* A fresh directory $TMPDIR/PREFIX-XXXXXX (/tmp without TMPDIR) into dir;
 * NULL, with the reason on stderr, if it cannot be made. */
static inline char *check_tmpdir(char *dir, size_t cap, const char *prefix)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, cap, "%s/%s-XXXXXX", t && *t ? t : "/tmp", prefix);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return NULL;
    }
    return dir;
}

/* Removes what check_tmpdir made, with everything in it. */
static inline void check_rmtree(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
}

/* The whole file dir/name as a malloc'd string ("" if it cannot be read): the
 * out.txt / err.txt a command under test left behind. */
static inline char *check_slurp(const char *dir, const char *name)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    size_t n = 0, cap = 1 << 12;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (size_t got; f && (got = fread(buf + n, 1, cap - 1 - n, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *more = realloc(buf, cap *= 2);
            if (!more) break;
            buf = more;
        }
    }
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The binary under test and the source tree, which ctest passes to the tests
 * that run seqbench; 0 (with the reason on stderr) when either is missing. */
static inline int check_cli_env(const char **bin, const char **src)
{
    *bin = getenv("SEQ_BINARY");
    *src = getenv("SEQ_SOURCE_DIR");
    if (*bin && *src) return 1;
    fprintf(stderr, "SEQ_BINARY and SEQ_SOURCE_DIR must be set (ctest sets them)\n");
    return 0;
}

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif

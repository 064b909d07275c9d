/* Reading a corpus: a file, a directory of files, or a text made from a
 * Debian package, into one buffer, checked to be text, with its identity. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "tasks/corpus.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Texts Debian ships in a form a program turns back into plain text. The
 * King James Bible (public domain, 4.4 MB) is stored compressed for random
 * access by bible-kjv-text; its reader prints it, one verse a line with its
 * reference ("Ge1:1 In the beginning ..."), given -f (plain, not
 * pretty-printed) and the whole range. */
static const struct {
    const char *name, *package, *program, *args;
} DEBIAN[] = {
    {"bible-kjv", "bible-kjv-text", "/usr/bin/bible", "-f gen1:1-rev22:21"},
};

const char *corpus_debian_list(void) { return "debian:bible-kjv"; }

/* Appends what f holds to c's buffer. */
static int read_stream(Corpus *c, FILE *f, const char *what, Err *e)
{
    size_t cap = c->n_bytes + (1 << 16);
    for (;;) {
        unsigned char *more = realloc(c->bytes, cap);
        if (!more) return err_set(e, "--data %s: out of memory after %zu bytes", what, c->n_bytes);
        c->bytes = more;
        size_t got = fread(c->bytes + c->n_bytes, 1, cap - c->n_bytes, f);
        c->n_bytes += got;
        if (c->n_bytes < cap) break;
        cap *= 2;
    }
    if (ferror(f)) return err_set(e, "--data %s: read error: %s", what, strerror(errno));
    return 0;
}

static int read_file(Corpus *c, const char *path, Err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(e, "--data %s: cannot open: %s", path, strerror(errno));
    int rc = read_stream(c, f, path, e);
    fclose(f);
    c->n_files++;
    return rc;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The regular files directly in dir, in strcmp order so that the corpus,
 * and so its split, does not depend on the order the file system lists them. */
static int read_dir(Corpus *c, const char *dir, Err *e)
{
    DIR *d = opendir(dir);
    if (!d) return err_set(e, "--data %s: cannot open the directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *de; !rc && (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) || !S_ISREG(st.st_mode)) continue;
        if (n == cap) {
            char **more = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
            if (!more) { rc = err_set(e, "--data %s: out of memory", dir); break; }
            names = more;
        }
        if (!(names[n] = malloc(strlen(path) + 1))) { rc = err_set(e, "--data %s: out of memory", dir); break; }
        strcpy(names[n++], path);
    }
    closedir(d);
    if (!rc && !n) rc = err_set(e, "--data %s: the directory has no files", dir);
    if (!rc) qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        if (!rc) rc = read_file(c, names[i], e);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Runs a fixed command (no user text reaches the shell) and reads its output. */
static int read_command(Corpus *c, const char *cmd, const char *what, Err *e)
{
    FILE *p = popen(cmd, "r");
    if (!p) return err_set(e, "--data %s: cannot run %s: %s", what, cmd, strerror(errno));
    int rc = read_stream(c, p, what, e), st = pclose(p);
    if (!rc && st) rc = err_set(e, "--data %s: \"%s\" failed (status %d)", what, cmd, st);
    return rc;
}

static int read_debian(Corpus *c, const char *name, Err *e)
{
    for (size_t i = 0; i < sizeof DEBIAN / sizeof *DEBIAN; i++) {
        if (strcmp(DEBIAN[i].name, name)) continue;
        if (access(DEBIAN[i].program, X_OK))
            return err_set(e, "--data debian:%s: %s is missing: install Debian's %s and bible-kjv "
                              "(scripts/install-deps.sh does)", name, DEBIAN[i].program, DEBIAN[i].package);
        char cmd[512], what[128];
        snprintf(what, sizeof what, "debian:%s", name);
        snprintf(cmd, sizeof cmd, "%s %s </dev/null 2>/dev/null", DEBIAN[i].program, DEBIAN[i].args);
        if (read_command(c, cmd, what, e)) return -1;
        /* the version, for the result; the checksum is what identifies the text */
        snprintf(cmd, sizeof cmd, "dpkg-query -W -f='${Version}' %s 2>/dev/null", DEBIAN[i].package);
        char version[64] = "";
        FILE *p = popen(cmd, "r");
        if (p) {
            if (!fgets(version, sizeof version, p)) version[0] = '\0';
            pclose(p);
        }
        snprintf(c->package, sizeof c->package, "%s %s", DEBIAN[i].package, *version ? version : "(version unknown)");
        c->n_files = 1;
        return 0;
    }
    return err_set(e, "--data debian:%s: unknown (known: %s)", name, corpus_debian_list());
}

/* Bytes that are not part of a well-formed UTF-8 sequence (overlong forms
 * and surrogates are not told apart: the tokenizer is bytes, and this only
 * tells text from a binary file). */
static size_t invalid_utf8(const unsigned char *p, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b = p[i];
        int k = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : (b & 0xF8) == 0xF0 ? 3 : -1;
        int ok = k >= 0 && i + (size_t)k < n;
        for (int j = 1; ok && j <= k; j++) ok = (p[i + (size_t)j] & 0xC0) == 0x80;
        if (ok) i += (size_t)k + 1;
        else { bad++; i++; }
    }
    return bad;
}

static int check_text(const Corpus *c, Err *e)
{
    if (!c->n_bytes) return err_set(e, "--data %s: empty: no text to train on", c->name);
    const unsigned char *nul = memchr(c->bytes, 0, c->n_bytes);
    if (nul)
        return err_set(e, "--data %s: a binary file, not text (a NUL byte at offset %zu)", c->name,
                       (size_t)(nul - c->bytes));
    size_t bad = invalid_utf8(c->bytes, c->n_bytes);
    if (bad * 100 > c->n_bytes)
        return err_set(e, "--data %s: a binary file, not UTF-8 text (%zu of %zu bytes are not valid UTF-8)", c->name,
                       bad, c->n_bytes);
    return 0;
}

Corpus *corpus_load(const char *data, Err *e)
{
    Corpus *c = calloc(1, sizeof *c);
    if (!c) { err_set(e, "--data: out of memory"); return NULL; }
    if (strlen(data) >= sizeof c->name) { err_set(e, "--data: the name is too long"); free(c); return NULL; }
    strcpy(c->name, data);
    struct stat st;
    int rc;
    if (!strncmp(data, "debian:", 7)) rc = read_debian(c, data + 7, e);
    else if (!stat(data, &st) && S_ISDIR(st.st_mode)) rc = read_dir(c, data, e);
    else rc = read_file(c, data, e);
    if (!rc) rc = check_text(c, e);
    if (rc) { corpus_free(c); return NULL; }
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < c->n_bytes; i++) h = (h ^ c->bytes[i]) * 0x100000001b3ull;
    c->fnv1a64 = h;
    return c;
}

void corpus_identity(const Corpus *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "fnv1a64:%016llx/%zu", (unsigned long long)c->fnv1a64, c->n_bytes);
}

void corpus_free(Corpus *c)
{
    if (!c) return;
    free(c->bytes);
    free(c->spans);
    free(c->tokens);
    free(c->tok_spans);
    bpe_free(&c->bpe);
    free(c);
}

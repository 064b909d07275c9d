/* fsync, fdopen, fileno, O_CLOEXEC are POSIX, not C11. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct AtomicFile {
    FILE *fp;    /* NULL once closed */
    char *path;  /* the target */
    char *tmp;   /* "<path>.tmp.<pid>" */
    int failed;  /* an I/O error happened; tmp is already gone */
};

static void atomic_free(AtomicFile *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

/* Records the failed operation while errno still describes it, then removes
 * the temporary at once so a later crash cannot leave it behind. */
static int fail_io(AtomicFile *f, Err *e, const char *op)
{
    int saved = errno;
    err_set(e, "%s: %s failed: %s", f->path, op, strerror(saved));
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
    unlink(f->tmp);
    f->failed = 1;
    return -1;
}

/* The directory holding path, as a malloc'd string ("." if none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, slash ? path : ".", len);
    d[len] = '\0';
    return d;
}

/* The directory of path and its missing parents. */
static int make_parent(const char *path, Err *e)
{
    char *dir = dir_of(path);
    if (!dir) return err_set(e, "%s: out of memory", path);
    int rc = mkdir_p(dir, e);
    free(dir);
    return rc;
}

AtomicFile *atomic_open(const char *path, Err *e)
{
    if (!path || !*path) {
        err_set(e, "atomic_open: empty file name");
        return NULL;
    }
    AtomicFile *f = calloc(1, sizeof *f);
    size_t len = strlen(path);
    char *p = f ? malloc(len + 1) : NULL;
    char *tmp = p ? malloc(len + 32) : NULL;
    if (!tmp) {
        free(p);
        free(f);
        err_set(e, "%s: out of memory", path);
        return NULL;
    }
    memcpy(p, path, len + 1);
    snprintf(tmp, len + 32, "%s.tmp.%ld", path, (long)getpid());
    f->path = p;
    f->tmp = tmp;

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 && errno == ENOENT && make_parent(path, e) == 0) /* --out runs/x.json on a fresh clone */
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        err_set(e, "%s: cannot create temporary file \"%s\": %s", path, tmp, strerror(errno));
        atomic_free(f);
        return NULL;
    }
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        err_set(e, "%s: fdopen failed: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        atomic_free(f);
        return NULL;
    }
    return f;
}

static int check_usable(AtomicFile *f, Err *e)
{
    if (!f) return err_set(e, "atomic file: NULL handle");
    if (f->failed) return err_set(e, "%s: an earlier write failed", f->path);
    return 0;
}

int atomic_write(AtomicFile *f, const void *data, size_t n, Err *e)
{
    if (check_usable(f, e)) return -1;
    if (n && fwrite(data, 1, n, f->fp) != n) return fail_io(f, e, "write");
    return 0;
}

int atomic_printf(AtomicFile *f, Err *e, const char *fmt, ...)
{
    if (check_usable(f, e)) return -1;
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f->fp, fmt, ap);
    va_end(ap);
    return r < 0 ? fail_io(f, e, "write") : 0;
}

/* Without this the rename may still be only in the page cache: after a power
 * cut the old file could come back even though commit returned 0. */
static int fsync_dir(const char *path, Err *e)
{
    char *dir = dir_of(path);
    if (!dir) return err_set(e, "%s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    /* Some file systems cannot fsync a directory (EINVAL); that is not an
     * error we can do anything about, the rename itself has succeeded. */
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
        rc = err_set(e, "%s: written, but syncing directory \"%s\" failed: %s", path, dir,
                     strerror(errno));
    if (fd >= 0) close(fd);
    free(dir);
    return rc;
}

int atomic_commit(AtomicFile *f, Err *e)
{
    if (!f) return err_set(e, "atomic file: NULL handle");
    int rc = check_usable(f, e);
    if (rc == 0 && fflush(f->fp) != 0) rc = fail_io(f, e, "write");
    if (rc == 0 && fsync(fileno(f->fp)) != 0) rc = fail_io(f, e, "fsync");
    if (rc == 0) {
        FILE *fp = f->fp;
        f->fp = NULL;
        if (fclose(fp) != 0) rc = fail_io(f, e, "close");
    }
    if (rc == 0 && rename(f->tmp, f->path) != 0) rc = fail_io(f, e, "rename");
    if (rc == 0) rc = fsync_dir(f->path, e);
    atomic_free(f);
    return rc;
}

void atomic_abort(AtomicFile *f)
{
    if (!f) return;
    if (f->fp) fclose(f->fp);
    if (!f->failed) unlink(f->tmp);
    atomic_free(f);
}

int write_file_atomic(const char *path, const void *data, size_t n, Err *e)
{
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    if (atomic_write(f, data, n, e)) {
        atomic_abort(f);
        return -1;
    }
    return atomic_commit(f, e);
}

static int mkdir_one(const char *p, Err *e)
{
    if (mkdir(p, 0755) == 0) return 0;
    int saved = errno;
    struct stat st;
    if (saved == EEXIST) {
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        return err_set(e, "cannot create directory \"%s\": it exists and is not a directory", p);
    }
    return err_set(e, "cannot create directory \"%s\": %s", p, strerror(saved));
}

int mkdir_p(const char *dir, Err *e)
{
    if (!dir || !*dir) return err_set(e, "mkdir_p: empty directory name");
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    if (!p) return err_set(e, "mkdir_p: out of memory");
    memcpy(p, dir, len + 1);
    int rc = 0;
    /* Each prefix ending before a '/' is a parent; position 0 is the root. */
    for (size_t i = 1; i < len && rc == 0; i++) {
        if (p[i] != '/' || p[i - 1] == '/') continue;
        p[i] = '\0';
        rc = mkdir_one(p, e);
        p[i] = '/';
    }
    if (rc == 0) rc = mkdir_one(p, e);
    free(p);
    return rc;
}

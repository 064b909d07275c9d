/* Atomic file replacement.
 *
 * A result file or checkpoint must never be seen half-written, even after a
 * crash or a full disk: the bytes go to "<path>.tmp.<pid>" in the same
 * directory (rename is only atomic within one file system), which is fsynced,
 * renamed over the target, and then the directory is fsynced so the rename
 * itself survives a power cut. Until atomic_commit succeeds the old target is
 * untouched. */
#ifndef SEQ_ATOMIC_H
#define SEQ_ATOMIC_H

#include <stddef.h>

#include "err.h"

typedef struct AtomicFile AtomicFile;

/* Creates the temporary file next to `path`, making path's directory and
 * its parents first if they are missing; NULL + Err if that fails. */
AtomicFile *atomic_open(const char *path, Err *e);

/* Append bytes / formatted text. On an I/O error they return -1, remove the
 * temporary file at once and make every later call fail; the caller still
 * releases f with atomic_abort (or atomic_commit, which then returns -1). */
int atomic_write(AtomicFile *f, const void *data, size_t n, Err *e);
int atomic_printf(AtomicFile *f, Err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Flushes, fsyncs, renames over the target and fsyncs the directory. Always
 * frees f; on failure the temporary file is removed and -1 returned. */
int atomic_commit(AtomicFile *f, Err *e);

/* Discards everything written: removes the temporary file, frees f. NULL ok. */
void atomic_abort(AtomicFile *f);

/* open + write + commit in one call. */
int write_file_atomic(const char *path, const void *data, size_t n, Err *e);

/* Like `mkdir -p`: creates dir and missing parents with mode 0755 (minus
 * umask); succeeds if dir already exists as a directory. */
int mkdir_p(const char *dir, Err *e);

#endif

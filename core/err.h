/* Error reporting.
 *
 * Library code never exits: a function that can fail on user input returns
 * -1 (or NULL) and fills an Err with one line saying what was wrong and with
 * which value. Only the CLI turns an Err into "seqbench: <msg>" on stderr and
 * exit status 2 (die_err). Internal invariants use assert(). */
#ifndef SEQ_ERR_H
#define SEQ_ERR_H

#include <stddef.h>

typedef struct { char msg[512]; } Err;

/* Formats into e->msg (if e is non-NULL) and returns -1 so callers can write
 * `return err_set(e, "...", ...);`. */
int err_set(Err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes e->msg with "<prefix>: " (e.g. a file name) and returns -1. */
int err_prefix(Err *e, const char *prefix);

/* User error: prints "seqbench: <msg>" to stderr and exits with status 2. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_err(const Err *e);

/* Overflow-checked size arithmetic: return 0 on success, -1 on overflow. */
int size_mul(size_t a, size_t b, size_t *out);
int size_add(size_t a, size_t b, size_t *out);

#endif

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An Err is one line by contract, but its message may quote what the user
 * wrote (a JSON key, a file name), which can hold a newline: those become '?'. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = '?';
}

int err_set(Err *e, const char *fmt, ...)
{
    if (!e) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    one_line(e->msg);
    return -1;
}

int err_prefix(Err *e, const char *prefix)
{
    if (!e) return -1;
    size_t cap = sizeof e->msg, p = strlen(prefix), m = strlen(e->msg);
    if (p > cap - 3) p = cap - 3;
    if (p + 2 + m > cap - 1) m = cap - 1 - p - 2; /* keep the prefix, cut the tail */
    memmove(e->msg + p + 2, e->msg, m);
    memcpy(e->msg, prefix, p);
    e->msg[p] = ':';
    e->msg[p + 1] = ' ';
    e->msg[p + 2 + m] = '\0';
    one_line(e->msg);
    return -1;
}

_Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("seqbench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

_Noreturn void die_err(const Err *e) { die("%s", e->msg); }

int size_mul(size_t a, size_t b, size_t *out)
{
    if (a && b > (size_t)-1 / a) return -1;
    *out = a * b;
    return 0;
}

int size_add(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a) return -1;
    *out = a + b;
    return 0;
}

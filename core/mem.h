/* Allocation with a budget. Sizes computed from user input (model width,
 * batch, sequence length) go through mem_alloc, which checks for overflow
 * and refuses anything larger than the memory this machine has available,
 * so "--seq-len 100000000" is a one-line error, not an OOM kill. */
#ifndef SEQ_MEM_H
#define SEQ_MEM_H

#include <stddef.h>

#include "err.h"

/* Bytes the allocator may hand out: MemAvailable from /proc/meminfo, or
 * SEQ_MEM_LIMIT (bytes, for tests) when set and smaller; and a limit set by
 * mem_set_limit (--mem-limit) when smaller still. */
size_t mem_available(void);

/* --mem-limit: every later mem_check/mem_alloc counts against `bytes` (0: no limit). */
void mem_set_limit(size_t bytes);

/* "500M", "8G", "1.5GiB", "1048576" (bytes; K/M/G/T are powers of 1024). */
int mem_parse_size(const char *s, size_t *out, Err *e);

/* Zeroed allocation of n elements of `size` bytes for `what`; NULL + Err if the
 * product overflows or exceeds mem_available(). */
void *mem_alloc(size_t n, size_t size, const char *what, Err *e);

/* Checks a planned total in bytes against the budget without allocating. */
int mem_check(double bytes, const char *what, Err *e);

/* "1.50 GiB" style formatting into buf. */
const char *mem_human(double bytes, char *buf, size_t cap);

#endif

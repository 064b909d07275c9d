/* JSON files (config.json, token files, results) through cJSON, with errors
 * a user can act on: which file, which key, what was found instead.
 *
 * `what` names the source in messages (usually the file name); NULL reads as
 * "json". A JSON null counts as a missing key, as Hugging Face configs write
 * `"rope_scaling": null` to mean "not set". */
#ifndef SEQ_JSONIO_H
#define SEQ_JSONIO_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

/* Reads and parses a JSON file of at most 64 MiB. Errors: cannot open
 * (strerror), too large, or the line and column where parsing failed. Only
 * whitespace may follow the value. Free the result with cJSON_Delete. */
cJSON *json_read_file(const char *path, Err *e);

/* The same from memory; text need not be NUL-terminated. */
cJSON *json_parse_text(const char *text, size_t len, const char *what, Err *e);

/* Pretty-printed with a trailing newline, written atomically. */
int json_write_file(const char *path, const cJSON *root, Err *e);

/* Typed getters for obj[key]. required = 0: a missing key leaves *out
 * unchanged and returns 0. Integers must be whole numbers in [lo, hi] and
 * within +-2^53 (beyond that a double no longer holds every integer, so the
 * file's digits might not be what we read). Doubles must be finite. Strings
 * longer than cap - 1 bytes are an error, not silently truncated. */
int json_get_int(const cJSON *obj, const char *key, int required, long long lo, long long hi,
                 long long *out, const char *what, Err *e);
/* The same into an int field (lo and hi must fit in int). */
int json_get_int32(const cJSON *obj, const char *key, int required, long long lo, long long hi, int *out,
                   const char *what, Err *e);
int json_get_double(const cJSON *obj, const char *key, int required, double *out,
                    const char *what, Err *e);
int json_get_bool(const cJSON *obj, const char *key, int required, int *out, const char *what,
                  Err *e);
int json_get_string(const cJSON *obj, const char *key, int required, char *out, size_t cap,
                    const char *what, Err *e);

/* Adds a number that always prints as a float ("30.0", not "30"): the
 * transformers config classes type-check fields such as logits_soft_cap and
 * reject an integer where a float is declared. */
void json_add_float(cJSON *obj, const char *key, double v);
/* v in the fewest digits (15 to 17) that read back exactly: 0.003, not
 * 0.0030000000000000001. */
void json_format_double(char *buf, size_t cap, double v);

/* A JSON array of token ids, each in [0, hi) (hi is capped at INT_MAX + 1),
 * at most max_n of them. Returns the count and a malloc'd *out (non-NULL even
 * for an empty array), or -1 with *out = NULL. */
long json_read_int_array(const cJSON *arr, long long hi, long max_n, int **out, const char *what,
                         Err *e);

/* 0 and the value in *out if v is a number holding a whole value within
 * +-2^53; -1 otherwise. Shared by the getters and the safetensors header. */
int json_whole_number(const cJSON *v, long long *out);

#endif

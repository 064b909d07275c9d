/* fsync, fdopen, fileno, O_CLOEXEC are POSIX, not C11. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "jsonio.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"

#define JSON_FILE_LIMIT ((size_t)64 << 20)
/* 2^53: the largest range in which a double holds every integer. */
#define JSON_EXACT_INT 9007199254740992.0

static const char *name_of(const char *what) { return what ? what : "json"; }

int json_whole_number(const cJSON *v, long long *out)
{
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > JSON_EXACT_INT) return -1;
    *out = (long long)d;
    return 0;
}

/* The character at text[pos] as a person can find it in an editor: 'x',
 * '\n' or '\x01' for control bytes, the character itself and its code point
 * for UTF-8 ('“' (U+201C): a word processor's quote), '\xNN' for a byte
 * that is not UTF-8, or "the end of the file". */
static void describe_char(const char *text, size_t len, size_t pos, char *buf, size_t cap)
{
    if (pos >= len) {
        snprintf(buf, cap, "the end of the file");
        return;
    }
    const unsigned char *u = (const unsigned char *)text + pos;
    unsigned c = u[0];
    if (c == '\'') snprintf(buf, cap, "\"'\"");
    else if (c >= 0x20 && c < 0x7f) snprintf(buf, cap, "'%c'", c);
    else if (c == '\n') snprintf(buf, cap, "'\\n' (a line break)");
    else if (c == '\t') snprintf(buf, cap, "'\\t'");
    else if (c == '\r') snprintf(buf, cap, "'\\r'");
    else if (c < 0x80) snprintf(buf, cap, "'\\x%02x' (a control character)", c);
    else {
        int k = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        unsigned cp = k == 4 ? c & 7 : k == 3 ? c & 15 : c & 31;
        for (int i = 1; i < k; i++) {
            if (pos + (size_t)i >= len || (u[i] & 0xc0) != 0x80) { k = 0; break; }
            cp = cp << 6 | (u[i] & 0x3f);
        }
        if (k) snprintf(buf, cap, "'%.*s' (U+%04X)", k, (const char *)u, cp);
        else snprintf(buf, cap, "'\\x%02x' (not UTF-8)", c);
    }
}

/* Names the place where parsing stopped: line and column (1-based, counting
 * characters, not bytes), the character found there and, when known, what
 * JSON expected instead, so a stray comma can be found without a linter. */
static void report_at(const char *text, size_t len, size_t pos, const char *problem, const char *want,
                      const char *what, Err *e)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < len; i++) {
        if (text[i] == '\n') { line++; col = 1; }
        else if (((unsigned char)text[i] & 0xc0) != 0x80) col++; /* UTF-8 continuation bytes share a column */
    }
    char found[64];
    describe_char(text, len, pos, found, sizeof found);
    if (want)
        err_set(e, "%s: %s at line %zu, column %zu: expected %s, found %s", name_of(what), problem, line, col, want,
                found);
    else
        err_set(e, "%s: %s at line %zu, column %zu: found %s", name_of(what), problem, line, col, found);
}

/* A strict JSON (RFC 8259) syntax scan that stops at the first error. It
 * runs only after cJSON has refused a text, to say where and why: cJSON
 * reports where it gave up, which is sometimes a character past the culprit,
 * and not what it wanted. */
typedef struct {
    const char *t;
    size_t n, i;
    int depth;
    const char *want;
} Scan;

#define SCAN_MAX_DEPTH 1000 /* cJSON's CJSON_NESTING_LIMIT */

static int scan_fail(Scan *s, const char *want)
{
    s->want = want;
    return -1;
}

static int scan_at(const Scan *s, char c) { return s->i < s->n && s->t[s->i] == c; }
static int scan_digit(const Scan *s) { return s->i < s->n && s->t[s->i] >= '0' && s->t[s->i] <= '9'; }

static void scan_space(Scan *s)
{
    while (s->i < s->n && (s->t[s->i] == ' ' || s->t[s->i] == '\t' || s->t[s->i] == '\n' || s->t[s->i] == '\r'))
        s->i++;
}

static int scan_string(Scan *s, const char *want)
{
    if (!scan_at(s, '"')) return scan_fail(s, want);
    for (s->i++; s->i < s->n; s->i++) {
        unsigned char c = (unsigned char)s->t[s->i];
        if (c == '"') {
            s->i++;
            return 0;
        }
        if (c < 0x20) return scan_fail(s, "the string to go on (a control character in a string must be escaped)");
        if (c != '\\') continue;
        s->i++;
        if (scan_at(s, 'u')) {
            for (int k = 0; k < 4; k++) {
                s->i++;
                if (s->i >= s->n || !strchr("0123456789abcdefABCDEF", s->t[s->i]) || !s->t[s->i])
                    return scan_fail(s, "four hex digits after \\u");
            }
        } else if (s->i >= s->n || !s->t[s->i] || !strchr("\"\\/bfnrt", s->t[s->i]))
            return scan_fail(s, "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)");
    }
    return scan_fail(s, "a closing '\"'");
}

static int scan_number(Scan *s)
{
    if (scan_at(s, '-')) s->i++;
    if (scan_at(s, '0')) s->i++;
    else if (scan_digit(s)) while (scan_digit(s)) s->i++;
    else return scan_fail(s, "a digit");
    if (scan_at(s, '.')) {
        s->i++;
        if (!scan_digit(s)) return scan_fail(s, "a digit after the decimal point");
        while (scan_digit(s)) s->i++;
    }
    if (scan_at(s, 'e') || scan_at(s, 'E')) {
        s->i++;
        if (scan_at(s, '+') || scan_at(s, '-')) s->i++;
        if (!scan_digit(s)) return scan_fail(s, "a digit in the exponent");
        while (scan_digit(s)) s->i++;
    }
    return 0;
}

static int scan_value(Scan *s);

/* The members of an object ('{' ... '}') or the elements of an array. */
static int scan_container(Scan *s, char close)
{
    int object = close == '}';
    if (++s->depth > SCAN_MAX_DEPTH) return scan_fail(s, "at most 1000 nested objects and arrays");
    s->i++;
    scan_space(s);
    if (scan_at(s, close)) {
        s->i++;
        s->depth--;
        return 0;
    }
    for (;;) {
        if (object) {
            scan_space(s);
            if (scan_string(s, "a key in double quotes")) return -1;
            scan_space(s);
            if (!scan_at(s, ':')) return scan_fail(s, "':' after the key");
            s->i++;
        }
        if (scan_value(s)) return -1;
        scan_space(s);
        if (scan_at(s, close)) break;
        if (!scan_at(s, ',')) return scan_fail(s, object ? "',' or '}'" : "',' or ']'");
        s->i++;
        scan_space(s);
        if (scan_at(s, close)) return scan_fail(s, object ? "another key after ',' (JSON has no trailing commas)"
                                                          : "another value after ',' (JSON has no trailing commas)");
    }
    s->i++;
    s->depth--;
    return 0;
}

static int scan_value(Scan *s)
{
    static const char *const words[] = {"true", "false", "null"};
    scan_space(s);
    if (scan_at(s, '{')) return scan_container(s, '}');
    if (scan_at(s, '[')) return scan_container(s, ']');
    if (scan_at(s, '"')) return scan_string(s, "a string");
    if (scan_at(s, '-') || scan_digit(s)) return scan_number(s);
    for (int w = 0; w < 3; w++) {
        size_t k = strlen(words[w]);
        if (!scan_at(s, words[w][0])) continue;
        for (size_t j = 0; j < k; j++, s->i++)
            if (!scan_at(s, words[w][j])) return scan_fail(s, words[w]);
        return 0;
    }
    return scan_fail(s, "a value (a string, number, object, array, true, false or null)");
}

/* 1 and the offset and expectation of the first syntax error, 0 if none
 * (then the text is JSON and cJSON refused it for another reason). */
static int json_syntax_error(const char *text, size_t len, size_t *pos, const char **want)
{
    Scan s = {text, len, 0, 0, NULL};
    if (!scan_value(&s)) {
        scan_space(&s);
        if (s.i >= len) return 0;
        s.want = "the end of the file after the JSON value";
    }
    *pos = s.i;
    *want = s.want;
    return 1;
}

static cJSON *json_parse_text_exact(const char *text, size_t len, const char *what, Err *e);

/* Python's json module (and so every Hugging Face config) writes infinite
 * floats as the bare tokens Infinity / -Infinity, e.g. Mamba2Config's
 * "time_step_limit": [0.0, Infinity]. Outside strings they become 1e999
 * (which strtod reads as inf), padded with spaces so every offset, and so
 * every error position, stays where it was. */
static char *python_infinities(const char *text, size_t len)
{
    static const char token[] = "Infinity";
    const size_t tl = sizeof token - 1;
    char *copy = NULL;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (ch == '\\') i++;
            else if (ch == '"') in_string = 0;
            continue;
        }
        if (ch == '"') { in_string = 1; continue; }
        if (ch != 'I' || len - i < tl || memcmp(text + i, token, tl)) continue;
        if (!copy) {
            copy = malloc(len);
            if (!copy) return NULL;
            memcpy(copy, text, len);
        }
        memcpy(copy + i, "1e999   ", tl);
        i += tl - 1;
    }
    return copy;
}

cJSON *json_parse_text(const char *text, size_t len, const char *what, Err *e)
{
    if (!text || len == 0) {
        err_set(e, "%s: empty, expected a JSON value", name_of(what));
        return NULL;
    }
    char *rewritten = python_infinities(text, len);
    if (rewritten) {
        cJSON *root = json_parse_text_exact(rewritten, len, what, e);
        free(rewritten);
        return root;
    }
    return json_parse_text_exact(text, len, what, e);
}

static cJSON *json_parse_text_exact(const char *text, size_t len, const char *what, Err *e)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t pos = end ? (size_t)(end - text) : 0;
    if (!root) {
        const char *want = NULL;
        json_syntax_error(text, len, &pos, &want); /* keeps cJSON's position if it finds nothing */
        report_at(text, len, pos, "invalid JSON", want, what, e);
        return NULL;
    }
    /* cJSON stops after the first value; anything but whitespace after it
     * means the file is not what its writer intended. */
    while (pos < len && text[pos] != '\0' && strchr(" \t\r\n", text[pos])) pos++;
    if (pos < len) {
        report_at(text, len, pos, "unexpected data after the JSON value", NULL, what, e);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

cJSON *json_read_file(const char *path, Err *e)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        err_set(e, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int too_large = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) &&
                    (unsigned long long)st.st_size > JSON_FILE_LIMIT;
    /* Read in growing chunks rather than trusting st_size: pipes and files
     * that change while we read must not overrun the buffer. */
    while (!too_large) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                err_set(e, "%s: out of memory reading %zu bytes", path, cap);
                goto fail;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (len > JSON_FILE_LIMIT) too_large = 1;
        if (got == 0) break;
    }
    if (too_large) {
        err_set(e, "%s: file is larger than the 64 MiB limit for JSON", path);
        goto fail;
    }
    if (ferror(fp)) {
        err_set(e, "%s: read failed: %s", path, strerror(errno));
        goto fail;
    }
    fclose(fp);
    cJSON *root = json_parse_text(buf, len, path, e);
    free(buf);
    return root;
fail:
    fclose(fp);
    free(buf);
    return NULL;
}

int json_write_file(const char *path, const cJSON *root, Err *e)
{
    char *text = cJSON_Print(root);
    if (!text) return err_set(e, "%s: cannot format JSON (out of memory)", path);
    AtomicFile *f = atomic_open(path, e);
    int rc = f ? 0 : -1;
    if (rc == 0) rc = atomic_write(f, text, strlen(text), e);
    if (rc == 0) rc = atomic_write(f, "\n", 1, e);
    if (rc == 0) rc = atomic_commit(f, e);
    else atomic_abort(f);
    cJSON_free(text);
    return rc;
}

/* Short rendering of a value for "(got ...)" in messages. */
static const char *render(const cJSON *v, char *buf, size_t cap)
{
    char *s = cJSON_PrintUnformatted(v);
    if (!s) {
        snprintf(buf, cap, "?");
        return buf;
    }
    if (strlen(s) >= cap) snprintf(buf, cap, "%.*s...", (int)(cap - 4), s);
    else snprintf(buf, cap, "%s", s);
    cJSON_free(s);
    return buf;
}

/* 1 and *item if present, 0 if absent and optional, -1 on error. */
static int lookup(const cJSON *obj, const char *key, int required, const cJSON **item,
                  const char *what, Err *e)
{
    if (!cJSON_IsObject(obj))
        return err_set(e, "%s: expected a JSON object holding key \"%s\"", name_of(what), key);
    *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (*item && !cJSON_IsNull(*item)) return 1;
    if (required) return err_set(e, "%s: missing required key \"%s\"", name_of(what), key);
    return 0;
}

static int wrong_type(const cJSON *v, const char *key, const char *expected, const char *what,
                      Err *e)
{
    char got[56];
    return err_set(e, "%s: key \"%s\" must be %s (got %s)", name_of(what), key, expected,
                   render(v, got, sizeof got));
}

int json_get_int(const cJSON *obj, const char *key, int required, long long lo, long long hi,
                 long long *out, const char *what, Err *e)
{
    const cJSON *v;
    int r = lookup(obj, key, required, &v, what, e);
    if (r <= 0) return r;
    long long x;
    if (json_whole_number(v, &x)) {
        int huge = cJSON_IsNumber(v) && fabs(v->valuedouble) > JSON_EXACT_INT;
        return wrong_type(v, key, huge ? "an integer within +-2^53" : "an integer", what, e);
    }
    if (x < lo || x > hi)
        return err_set(e, "%s: key \"%s\" = %lld is out of range [%lld, %lld]", name_of(what), key,
                       x, lo, hi);
    *out = x;
    return 0;
}

int json_get_double(const cJSON *obj, const char *key, int required, double *out,
                    const char *what, Err *e)
{
    const cJSON *v;
    int r = lookup(obj, key, required, &v, what, e);
    if (r <= 0) return r;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return wrong_type(v, key, "a finite number", what, e);
    *out = v->valuedouble;
    return 0;
}

int json_get_bool(const cJSON *obj, const char *key, int required, int *out, const char *what,
                  Err *e)
{
    const cJSON *v;
    int r = lookup(obj, key, required, &v, what, e);
    if (r <= 0) return r;
    if (!cJSON_IsBool(v)) return wrong_type(v, key, "true or false", what, e);
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 0;
}

int json_get_string(const cJSON *obj, const char *key, int required, char *out, size_t cap,
                    const char *what, Err *e)
{
    const cJSON *v;
    int r = lookup(obj, key, required, &v, what, e);
    if (r <= 0) return r;
    if (!cJSON_IsString(v) || !v->valuestring) return wrong_type(v, key, "a string", what, e);
    size_t len = strlen(v->valuestring);
    if (len >= cap)
        return err_set(e, "%s: key \"%s\" is %zu bytes long, the limit is %zu", name_of(what), key,
                       len, cap ? cap - 1 : 0);
    memcpy(out, v->valuestring, len + 1);
    return 0;
}

long json_read_int_array(const cJSON *arr, long long hi, long max_n, int **out, const char *what,
                         Err *e)
{
    char got[56];
    *out = NULL;
    if (!cJSON_IsArray(arr)) {
        err_set(e, "%s: expected a JSON array of token ids (got %s)", name_of(what),
                render(arr, got, sizeof got));
        return -1;
    }
    long n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) n++;
    if (n > max_n) {
        err_set(e, "%s: %ld token ids, more than the limit of %ld", name_of(what), n, max_n);
        return -1;
    }
    if (hi > (long long)INT_MAX + 1) hi = (long long)INT_MAX + 1;
    int *ids = malloc(n ? (size_t)n * sizeof *ids : 1);
    if (!ids) {
        err_set(e, "%s: out of memory for %ld token ids", name_of(what), n);
        return -1;
    }
    long i = 0;
    cJSON_ArrayForEach(v, arr) {
        long long x;
        if (json_whole_number(v, &x)) {
            err_set(e, "%s: element %ld must be an integer (got %s)", name_of(what), i,
                    render(v, got, sizeof got));
            free(ids);
            return -1;
        }
        if (x < 0 || x >= hi) {
            err_set(e, "%s: element %ld = %lld is out of range [0, %lld)", name_of(what), i, x, hi);
            free(ids);
            return -1;
        }
        ids[i++] = (int)x;
    }
    *out = ids;
    return n;
}

int json_get_int32(const cJSON *obj, const char *key, int required, long long lo, long long hi, int *out,
                   const char *what, Err *e)
{
    long long v = *out;
    if (json_get_int(obj, key, required, lo, hi, &v, what, e)) return -1;
    *out = (int)v;
    return 0;
}

void json_format_double(char *buf, size_t cap, double v)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, cap, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) return;
    }
}

void json_add_float(cJSON *obj, const char *key, double v)
{
    char text[64];
    json_format_double(text, sizeof text, v);
    if (!strpbrk(text, ".eEn")) strcat(text, ".0"); /* whole numbers; "inf"/"nan" never reach a config */
    cJSON_AddRawToObject(obj, key, text);
}

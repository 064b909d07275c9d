/* open, read, open_memstream, O_CLOEXEC are POSIX, not C11. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "atomic.h"
#include "jsonio.h"

/* Same cap as the reference implementation: a bigger header is a corrupt or
 * hostile file, not a model. */
#define ST_HEADER_LIMIT ((uint64_t)100 << 20)

static const struct { const char *name; size_t size; } dtypes[] = {
    [ST_F32] = {"F32", 4}, [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2}, [ST_F64] = {"F64", 8},
    [ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4}, [ST_I16] = {"I16", 2},   [ST_I8] = {"I8", 1},
    [ST_U8] = {"U8", 1},   [ST_BOOL] = {"BOOL", 1},
};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

const char *st_dtype_name(StDtype d) { return (unsigned)d < N_DTYPES ? dtypes[d].name : "?"; }
size_t st_dtype_size(StDtype d) { return (unsigned)d < N_DTYPES ? dtypes[d].size : 0; }

static const char *shape_str(int rank, const long long *shape, char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, i ? ", %lld" : "%lld", shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
    return buf;
}

void st_close(StFile *f)
{
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    free(f->t);
    free(f->buf);
    free(f->what);
    memset(f, 0, sizeof *f);
}

/* ---- header validation ---- */

/* Reads a JSON array of at most max non-negative whole numbers into out.
 * On failure *why describes the first problem, for the message. */
static int read_index_array(const cJSON *arr, int max, long long *out, int *count, char *why,
                            size_t cap)
{
    if (!cJSON_IsArray(arr)) return snprintf(why, cap, "not an array"), -1;
    int k = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        if (k == max) return snprintf(why, cap, "more than %d elements", max - 1), -1;
        if (json_whole_number(v, &out[k]) || out[k] < 0) {
            if (cJSON_IsNumber(v)) snprintf(why, cap, "element %d is %.17g", k, v->valuedouble);
            else snprintf(why, cap, "element %d is not a number", k);
            return -1;
        }
        k++;
    }
    *count = k;
    return 0;
}

static int parse_tensor(const cJSON *entry, StTensor *t, size_t buflen, const char *what, Err *e)
{
    const char *nm = t->name;
    if (!cJSON_IsObject(entry))
        return err_set(e, "%s: tensor \"%s\": entry is not an object", what, nm);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    if (!cJSON_IsString(dt) || !dt->valuestring)
        return err_set(e, "%s: tensor \"%s\": \"dtype\" missing or not a string", what, nm);
    size_t d = 0;
    while (d < N_DTYPES && strcmp(dtypes[d].name, dt->valuestring) != 0) d++;
    if (d == N_DTYPES)
        return err_set(e, "%s: tensor \"%s\": unknown dtype \"%.32s\"", what, nm, dt->valuestring);
    t->dtype = (StDtype)d;

    /* One extra slot so a rank of 9 is reported as such, not as garbage. */
    long long sh[ST_MAX_RANK + 1];
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    char why[64];
    if (read_index_array(shape, ST_MAX_RANK + 1, sh, &t->rank, why, sizeof why))
        return err_set(e, "%s: tensor \"%s\": \"shape\" must be an array of integers in "
                       "[0, 2^53] (%s)", what, nm, why);
    if (t->rank > ST_MAX_RANK)
        return err_set(e, "%s: tensor \"%s\": rank %d exceeds the maximum of %d", what, nm,
                       t->rank, ST_MAX_RANK);
    memcpy(t->shape, sh, sizeof t->shape);
    char ss[160];
    shape_str(t->rank, t->shape, ss, sizeof ss);
    t->numel = 1;
    for (int i = 0; i < t->rank; i++)
        if (size_mul(t->numel, (size_t)t->shape[i], &t->numel))
            return err_set(e, "%s: tensor \"%s\": shape %s has too many elements", what, nm, ss);

    long long off[3];
    int n_off = 0;
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (read_index_array(offs, 3, off, &n_off, why, sizeof why) ||
        (n_off != 2 && snprintf(why, sizeof why, "%d element%s", n_off, n_off == 1 ? "" : "s")))
        return err_set(e, "%s: tensor \"%s\": \"data_offsets\" must be two integers in "
                       "[0, 2^53] (%s)", what, nm, why);
    if (off[0] > off[1])
        return err_set(e, "%s: tensor \"%s\": data_offsets [%lld, %lld] have begin > end", what,
                       nm, off[0], off[1]);
    if ((unsigned long long)off[1] > buflen)
        return err_set(e, "%s: tensor \"%s\": data_offsets [%lld, %lld] end beyond the %zu-byte "
                       "data buffer", what, nm, off[0], off[1], buflen);
    t->begin = (size_t)off[0];
    t->end = (size_t)off[1];
    size_t bytes;
    if (size_mul(t->numel, dtypes[d].size, &bytes))
        return err_set(e, "%s: tensor \"%s\": %s %s is too large", what, nm, dtypes[d].name, ss);
    if (bytes != t->end - t->begin)
        return err_set(e, "%s: tensor \"%s\": data_offsets [%zu, %zu] need %zu bytes for %s %s",
                       what, nm, t->begin, t->end, bytes, dtypes[d].name, ss);
    return 0;
}

static int check_metadata(const cJSON *meta, const char *what, Err *e)
{
    if (!cJSON_IsObject(meta))
        return err_set(e, "%s: \"__metadata__\" must be an object of strings", what);
    const cJSON *v;
    cJSON_ArrayForEach(v, meta) {
        if (!cJSON_IsString(v))
            return err_set(e, "%s: \"__metadata__\" key \"%s\" is not a string", what,
                           v->string ? v->string : "");
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const StTensor *)a)->name, ((const StTensor *)b)->name);
}

static int by_offsets(const void *a, const void *b)
{
    const StTensor *x = *(const StTensor *const *)a, *y = *(const StTensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Two tensors sharing bytes would alias each other's weights; empty tensors
 * own no bytes and may sit anywhere. */
static int check_overlap(const StFile *f, Err *e)
{
    const StTensor **ord = malloc((size_t)(f->n ? f->n : 1) * sizeof *ord);
    if (!ord) return err_set(e, "%s: out of memory", f->what);
    for (int i = 0; i < f->n; i++) ord[i] = &f->t[i];
    qsort(ord, (size_t)f->n, sizeof *ord, by_offsets);
    const StTensor *reach = NULL; /* non-empty tensor ending furthest so far */
    int rc = 0;
    for (int i = 0; i < f->n && rc == 0; i++) {
        const StTensor *c = ord[i];
        if (c->begin == c->end) continue;
        if (reach && reach->end > c->begin)
            rc = err_set(e, "%s: tensor \"%s\": data_offsets [%zu, %zu] overlap tensor \"%s\" "
                         "[%zu, %zu]", f->what, c->name, c->begin, c->end, reach->name,
                         reach->begin, reach->end);
        if (!reach || c->end > reach->end) reach = c;
    }
    free(ord);
    return rc;
}

/* Explicit little-endian decoding: the file format fixes the byte order,
 * the host does not, and p need not be aligned. */
static uint64_t le_uint(const unsigned char *p, size_t width)
{
    uint64_t v = 0;
    for (size_t k = width; k > 0; k--) v = v << 8 | p[k - 1];
    return v;
}

/* f->buf, f->size and f->what are set; fills the rest or fails. */
static int st_parse(StFile *f, Err *e)
{
    const char *what = f->what;
    if (f->size < 8)
        return err_set(e, "%s: file is %zu bytes, too short for the 8-byte header length", what,
                       f->size);
    uint64_t hn = le_uint(f->buf, 8);
    if (hn == 0) return err_set(e, "%s: header length is 0", what);
    if (hn > ST_HEADER_LIMIT)
        return err_set(e, "%s: header length %llu exceeds the 100 MiB limit", what,
                       (unsigned long long)hn);
    if (hn > f->size - 8)
        return err_set(e, "%s: header length %llu exceeds the %zu bytes after the length prefix "
                       "(truncated file?)", what, (unsigned long long)hn, f->size - 8);
    f->data_start = 8 + (size_t)hn;
    size_t buflen = f->size - f->data_start;

    char hwhat[300];
    snprintf(hwhat, sizeof hwhat, "%s: header", what);
    cJSON *root = json_parse_text((const char *)f->buf + 8, (size_t)hn, hwhat, e);
    if (!root) return -1;
    int rc = 0, count = 0;
    const cJSON *c;
    if (!cJSON_IsObject(root)) rc = err_set(e, "%s: header is not a JSON object", what);
    for (c = rc ? NULL : root->child; c && rc == 0; c = c->next) {
        if (!c->string) rc = err_set(e, "%s: header entry without a name", what);
        else if (strcmp(c->string, "__metadata__") == 0) rc = check_metadata(c, what, e);
        else count++;
    }
    if (rc == 0 && !(f->t = calloc((size_t)(count ? count : 1), sizeof *f->t)))
        rc = err_set(e, "%s: out of memory for %d tensors", what, count);
    for (c = rc ? NULL : root->child; c && rc == 0; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) continue;
        StTensor *t = &f->t[f->n];
        if (!(t->name = malloc(strlen(c->string) + 1))) {
            rc = err_set(e, "%s: out of memory", what);
            break;
        }
        strcpy(t->name, c->string);
        f->n++;
        rc = parse_tensor(c, t, buflen, what, e);
    }
    cJSON_Delete(root);
    if (rc) return -1;

    qsort(f->t, (size_t)f->n, sizeof *f->t, by_name);
    for (int i = 1; i < f->n; i++)
        if (strcmp(f->t[i - 1].name, f->t[i].name) == 0)
            return err_set(e, "%s: duplicate tensor name \"%s\"", what, f->t[i].name);
    return check_overlap(f, e);
}

/* Takes ownership of buf (malloc'd, size bytes) so st_open does not hold the
 * file twice; on failure everything is freed. */
static int st_adopt(StFile *f, unsigned char *buf, size_t size, const char *what, Err *e)
{
    memset(f, 0, sizeof *f);
    f->buf = buf;
    f->size = size;
    f->what = malloc(strlen(what) + 1);
    int rc = f->what ? 0 : err_set(e, "%s: out of memory", what);
    if (rc == 0) {
        strcpy(f->what, what);
        rc = st_parse(f, e);
    }
    if (rc) st_close(f);
    return rc;
}

int st_open_memory(StFile *f, const void *data, size_t size, const char *what, Err *e)
{
    if (!what) what = "safetensors";
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        memset(f, 0, sizeof *f);
        return err_set(e, "%s: out of memory for %zu bytes", what, size);
    }
    if (size) memcpy(buf, data, size);
    return st_adopt(f, buf, size, what, e);
}

int st_open(StFile *f, const char *path, Err *e)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) rc = err_set(e, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode)) rc = err_set(e, "%s: not a regular file", path);
    size_t size = rc ? 0 : (size_t)st.st_size;
    unsigned char *buf = rc ? NULL : malloc(size ? size : 1);
    if (rc == 0 && !buf) rc = err_set(e, "%s: out of memory reading %zu bytes", path, size);
    for (size_t got = 0; rc == 0 && got < size;) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = err_set(e, "%s: read failed: %s", path, strerror(errno));
        else if (r == 0) rc = err_set(e, "%s: file shrank to %zu bytes while reading", path, got);
        else got += (size_t)r;
    }
    close(fd);
    if (rc == 0) return st_adopt(f, buf, size, path, e);
    free(buf);
    return -1;
}

const StTensor *st_find(const StFile *f, const char *name)
{
    StTensor key = {.name = (char *)name};
    return f->n ? bsearch(&key, f->t, (size_t)f->n, sizeof *f->t, by_name) : NULL;
}

/* ---- conversion ---- */

static float f32_bits(uint32_t b)
{
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static float f16_to_f32(uint32_t h)
{
    uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return f32_bits(sign | 0x7f800000u | man << 13); /* inf, nan payload kept */
    if (exp) return f32_bits(sign | (exp + 127 - 15) << 23 | man << 13);
    float sub = ldexpf((float)man, -24); /* subnormal (or zero): exact in f32 */
    return sign ? -sub : sub;
}

/* Decodes element i of t, little-endian, as a double (exact for all float
 * dtypes). Callers have checked the dtype. */
static double element(const unsigned char *p, StDtype d, size_t i)
{
    uint64_t v = le_uint(p + i * dtypes[d].size, dtypes[d].size);
    switch (d) {
    case ST_F16: return f16_to_f32((uint32_t)v);
    case ST_BF16: return f32_bits((uint32_t)v << 16);
    case ST_F32: return f32_bits((uint32_t)v);
    default: {
        double x;
        memcpy(&x, &v, sizeof x);
        return x;
    }
    }
}

static const unsigned char *checked_data(const StFile *f, const StTensor *t, size_t n, Err *e)
{
    if (!t) {
        err_set(e, "%s: no tensor given", f->what ? f->what : "safetensors");
        return NULL;
    }
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16 && t->dtype != ST_F64) {
        err_set(e, "%s: tensor \"%s\" has dtype %s, expected a float type", f->what, t->name,
                st_dtype_name(t->dtype));
        return NULL;
    }
    if (n != t->numel) {
        err_set(e, "%s: tensor \"%s\" has %zu elements, caller expected %zu", f->what, t->name,
                t->numel, n);
        return NULL;
    }
    return f->buf + f->data_start + t->begin;
}

int st_read_f32(const StFile *f, const StTensor *t, float *dst, size_t n, Err *e)
{
    const unsigned char *p = checked_data(f, t, n, e);
    if (!p) return -1;
    if (t->dtype == ST_F32) { /* bit copy: keeps nan payloads and avoids double rounding */
        for (size_t i = 0; i < n; i++) dst[i] = f32_bits((uint32_t)le_uint(p + 4 * i, 4));
        return 0;
    }
    /* F64 -> float rounds to nearest; out of range gives +-inf (IEEE 754,
     * which gcc's __STDC_IEC_559__ guarantees for this conversion). */
    for (size_t i = 0; i < n; i++) dst[i] = (float)element(p, t->dtype, i);
    return 0;
}

int st_read_f64(const StFile *f, const StTensor *t, double *dst, size_t n, Err *e)
{
    const unsigned char *p = checked_data(f, t, n, e);
    if (!p) return -1;
    for (size_t i = 0; i < n; i++) dst[i] = element(p, t->dtype, i);
    return 0;
}

/* ---- writer ---- */

/* Names are written as JSON strings; other bytes (UTF-8) pass through. */
static void put_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(fp, "\\%c", c);
        else if (c < 0x20) fprintf(fp, "\\u%04x", c);
        else fputc(c, fp);
    }
    fputc('"', fp);
}

static int by_write_name(const void *a, const void *b)
{
    return strcmp((*(const StWrite *const *)a)->name, (*(const StWrite *const *)b)->name);
}

/* Rejects what st_open would reject, so every file we write reads back. */
static int check_write(const StWrite *w, const char *path, size_t *bytes, Err *e)
{
    if (strcmp(w->name, "__metadata__") == 0)
        return err_set(e, "%s: \"__metadata__\" is reserved, not a tensor name", path);
    if (w->rank < 0 || w->rank > ST_MAX_RANK)
        return err_set(e, "%s: tensor \"%s\": rank %d outside [0, %d]", path, w->name, w->rank,
                       ST_MAX_RANK);
    size_t numel = 1;
    for (int i = 0; i < w->rank; i++) {
        if (w->shape[i] < 0 || w->shape[i] > (1LL << 53) ||
            size_mul(numel, (size_t)w->shape[i], &numel))
            return err_set(e, "%s: tensor \"%s\": bad dimension %lld at axis %d", path, w->name,
                           w->shape[i], i);
    }
    if (size_mul(numel, 4, bytes))
        return err_set(e, "%s: tensor \"%s\": too many elements", path, w->name);
    if (*bytes && !w->data) return err_set(e, "%s: tensor \"%s\": no data", path, w->name);
    return 0;
}

/* Compact JSON in the key order save_pretrained produces, padded with
 * spaces to a multiple of 8 bytes. Returns a malloc'd text in *text. */
static int write_header(const StWrite **ord, int n, const char *path, char **text, size_t *len,
                        Err *e)
{
    FILE *fp = open_memstream(text, len);
    if (!fp) return err_set(e, "%s: cannot build header: %s", path, strerror(errno));
    size_t pos = 0, bytes;
    int rc = 0;
    fputs("{\"__metadata__\":{\"format\":\"pt\"}", fp);
    for (int i = 0; i < n && rc == 0; i++) {
        const StWrite *w = ord[i];
        if ((rc = check_write(w, path, &bytes, e))) break;
        if (i && strcmp(ord[i - 1]->name, w->name) == 0)
            rc = err_set(e, "%s: duplicate tensor name \"%s\"", path, w->name);
        fputc(',', fp);
        put_json_string(fp, w->name);
        fputs(":{\"dtype\":\"F32\",\"shape\":[", fp);
        for (int k = 0; k < w->rank; k++) fprintf(fp, k ? ",%lld" : "%lld", w->shape[k]);
        fprintf(fp, "],\"data_offsets\":[%zu,", pos);
        if (rc == 0 && size_add(pos, bytes, &pos))
            rc = err_set(e, "%s: total size overflows", path);
        fprintf(fp, "%zu]}", pos);
    }
    fputc('}', fp);
    for (long at = ftell(fp); at >= 0 && (8 + at) % 8; at++) fputc(' ', fp);
    if (rc == 0 && ferror(fp)) rc = err_set(e, "%s: out of memory building the header", path);
    if (fclose(fp) != 0 && rc == 0) rc = err_set(e, "%s: out of memory building the header", path);
    return rc;
}

static int write_data(AtomicFile *f, const StWrite *w, Err *e)
{
    size_t numel = 1;
    for (int i = 0; i < w->rank; i++) numel *= (size_t)w->shape[i]; /* checked in write_header */
    unsigned char chunk[1 << 14];
    size_t k = 0;
    for (size_t i = 0; i < numel; i++) {
        uint32_t b;
        memcpy(&b, &w->data[i], 4);
        for (int j = 0; j < 4; j++) chunk[k++] = (unsigned char)(b >> (8 * j));
        if (k == sizeof chunk) {
            if (atomic_write(f, chunk, k, e)) return -1;
            k = 0;
        }
    }
    return atomic_write(f, chunk, k, e);
}

int st_write_f32(const char *path, const StWrite *tensors, int n, Err *e)
{
    if (n < 0 || (n > 0 && !tensors))
        return err_set(e, "%s: invalid tensor list (n = %d)", path, n);
    const StWrite **ord = malloc((size_t)(n ? n : 1) * sizeof *ord);
    if (!ord) return err_set(e, "%s: out of memory", path);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        ord[i] = &tensors[i];
        if (!tensors[i].name) rc = err_set(e, "%s: tensor %d has no name", path, i);
    }
    if (rc == 0) qsort(ord, (size_t)n, sizeof *ord, by_write_name);
    char *header = NULL;
    size_t hlen = 0;
    if (rc == 0) rc = write_header(ord, n, path, &header, &hlen, e);
    AtomicFile *f = rc ? NULL : atomic_open(path, e);
    if (!f) rc = -1;
    unsigned char len8[8];
    for (int j = 0; j < 8; j++) len8[j] = (unsigned char)((uint64_t)hlen >> (8 * j));
    if (rc == 0) rc = atomic_write(f, len8, 8, e);
    if (rc == 0) rc = atomic_write(f, header, hlen, e);
    for (int i = 0; i < n && rc == 0; i++) rc = write_data(f, ord[i], e);
    if (rc == 0) rc = atomic_commit(f, e);
    else atomic_abort(f);
    free(header);
    free(ord);
    return rc;
}

/* safetensors reader and writer: exact round trips, byte-identical re-save,
 * F16/BF16/F64 conversion against known bit patterns, one test per header
 * validation rule, and every truncation of a valid file. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/err.h"
#include "core/safetensors.h"

static char dir[512];

static void make_tmpdir(void)
{
    if (!check_tmpdir(dir, sizeof dir, "seqbench_st")) exit(1);
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[1024];
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    if (d) closedir(d);
    rmdir(dir);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *b = NULL;
    long n = -1;
    if (fp && fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0
        && (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, fp) == (size_t)n) {
        *size = (size_t)n;
    } else {
        free(b);
        b = NULL;
    }
    if (fp) fclose(fp);
    return b;
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* A file image from a header text and n_data bytes of buffer (filled by data
 * if given, else zero). */
static unsigned char *make_file(const char *header, const void *data, size_t n_data, size_t *size)
{
    size_t hn = strlen(header);
    *size = 8 + hn + n_data;
    unsigned char *b = calloc(1, *size);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)hn >> (8 * i));
    memcpy(b + 8, header, hn);
    if (data) memcpy(b + 8 + hn, data, n_data);
    return b;
}

/* Opens the image; expects failure with every substring in `want` (NULL-ended). */
static void expect_bad_image(const unsigned char *b, size_t size, int line, const char **want)
{
    StFile f;
    Err e = {{0}};
    int rc = st_open_memory(&f, b, size, "bad.safetensors", &e);
    CHECK(rc == -1, "line %d: expected failure", line);
    CHECK(f.n == 0 && f.buf == NULL && f.t == NULL, "line %d: StFile not emptied", line);
    CHECK(strstr(e.msg, "bad.safetensors") != NULL, "line %d: no file name in: %s", line, e.msg);
    for (; *want; want++)
        CHECK(strstr(e.msg, *want) != NULL, "line %d: \"%s\" missing from: %s", line, *want, e.msg);
    if (rc == 0) st_close(&f);
}

#define EXPECT_BAD(header, n_data, ...)                                             \
    do {                                                                            \
        size_t sz_;                                                                 \
        unsigned char *b_ = make_file(header, NULL, n_data, &sz_);                  \
        expect_bad_image(b_, sz_, __LINE__, (const char *[]){__VA_ARGS__, NULL});   \
        free(b_);                                                                   \
    } while (0)

static void test_validation(void)
{
    unsigned char raw[16] = {0};
    expect_bad_image(raw, 5, __LINE__, (const char *[]){"5 bytes", NULL});
    expect_bad_image(raw, 16, __LINE__, (const char *[]){"header length is 0", NULL});
    raw[0] = 100;
    expect_bad_image(raw, 16, __LINE__, (const char *[]){"header length 100", "8 bytes", NULL});
    raw[0] = 0, raw[3] = 0x10; /* 256 MiB */
    expect_bad_image(raw, 16, __LINE__, (const char *[]){"268435456", "100 MiB", NULL});

    EXPECT_BAD("{\"a\": ", 0, "invalid JSON", "line 1");
    EXPECT_BAD("{}\n\n x", 0, "unexpected data", "line 3");
    EXPECT_BAD("[1, 2]", 0, "not a JSON object");
    EXPECT_BAD("{\"w\": 5}", 0, "tensor \"w\"", "not an object");
    EXPECT_BAD("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"w\"", "dtype");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "\"w\"",
               "unknown dtype \"F8\"");
    const char *bad_shapes[] = {"3", "[-1]", "[1, 1.5]", "[\"2\"]", "[1e16]", "[1e400]", "null"};
    const char *shape_why[] = {"not an array", "element 0 is -1", "element 1 is 1.5",
                               "element 0 is not a number", "element 0 is 10000000000000000",
                               "element 0 is inf", "not an array"};
    for (size_t i = 0; i < sizeof bad_shapes / sizeof *bad_shapes; i++) {
        char h[160];
        snprintf(h, sizeof h, "{\"w\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[0,4]}}",
                 bad_shapes[i]);
        EXPECT_BAD(h, 4, "tensor \"w\"", "\"shape\"", shape_why[i]);
    }
    EXPECT_BAD("{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}",
               1, "\"w\"", "rank 9");
    const char *bad_offs[] = {"[0]", "[0,4,8]", "[-4,4]", "[0,4.5]", "[\"0\",4]", "{}", "[0,1e20]"};
    const char *offs_why[] = {"1 element)", "3 elements", "element 0 is -4",
                              "element 1 is 4.5", "element 0 is not a number", "not an array",
                              "element 1 is 1e+20"};
    for (size_t i = 0; i < sizeof bad_offs / sizeof *bad_offs; i++) {
        char h[160];
        snprintf(h, sizeof h, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":%s}}",
                 bad_offs[i]);
        EXPECT_BAD(h, 4, "tensor \"w\"", "\"data_offsets\" must be two integers", offs_why[i]);
    }
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "\"w\"",
               "[8, 4]", "begin > end");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "\"w\"",
               "[0, 16]", "8-byte data buffer");
    EXPECT_BAD("{\"lm_head.weight\":{\"dtype\":\"F32\",\"shape\":[5,6],\"data_offsets\":[0,100]}}",
               120, "tensor \"lm_head.weight\": data_offsets [0, 100] need 120 bytes for F32 [5, 6]");
    EXPECT_BAD("{\"w\":{\"dtype\":\"BF16\",\"shape\":[4294967296,4294967296,16],"
               "\"data_offsets\":[0,0]}}", 0, "\"w\"", "too many elements");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[9007199254740992,1024],"
               "\"data_offsets\":[0,0]}}", 0, "\"w\"", "too large");
    EXPECT_BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24,
               "tensor \"b\"", "[8, 24]", "overlap tensor \"a\" [0, 16]");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
               "duplicate tensor name \"w\"");
    EXPECT_BAD("{\"__metadata__\":{\"format\":1}}", 0, "__metadata__", "\"format\"");
    EXPECT_BAD("{\"__metadata__\":[]}", 0, "__metadata__");
}

/* Header padding, metadata, empty and zero-size tensors sharing an offset
 * are all legal. */
static void test_valid_variants(void)
{
    const char *h = "{\"__metadata__\":{\"format\":\"pt\",\"x\":\"y\"},"
                    "\"e1\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                    "\"e2\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[4,4]},"
                    "\"s\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}    ";
    size_t sz;
    unsigned char *b = make_file(h, "\1\0\0\0", 4, &sz);
    StFile f;
    Err e = {{0}};
    CHECK(st_open_memory(&f, b, sz, "ok.safetensors", &e) == 0, "%s", e.msg);
    CHECK(f.n == 3, "n = %d", f.n);
    const StTensor *s = st_find(&f, "s");
    CHECK(s && s->rank == 0 && s->numel == 1 && s->dtype == ST_I32, "scalar I32");
    float x;
    CHECK(st_read_f32(&f, s, &x, 1, &e) == -1 &&
              strstr(e.msg, "tensor \"s\" has dtype I32, expected a float type"), "%s", e.msg);
    const StTensor *e1 = st_find(&f, "e1");
    CHECK(e1 && e1->numel == 0 && st_read_f32(&f, e1, &x, 0, &e) == 0, "empty tensor");
    CHECK(st_read_f32(&f, e1, &x, 1, &e) == -1 && strstr(e.msg, "\"e1\" has 0 elements") &&
              strstr(e.msg, "expected 1"), "%s", e.msg);
    CHECK(st_find(&f, "nope") == NULL && st_find(&f, "__metadata__") == NULL, "st_find miss");
    st_close(&f);
    free(b);
}

static void test_half_types(void)
{
    const uint16_t f16[] = {0x3C00, 0xC100, 0x7BFF, 0x0001, 0x03FF, 0x0400,
                            0x8000, 0x7C00, 0xFC00, 0x7E00, 0x3555};
    const float f16_want[] = {1.0f, -2.5f, 65504.0f, 0x1p-24f, 0x3ffp-24f, 0x1p-14f,
                              -0.0f, INFINITY, -INFINITY, NAN, 0.333251953125f};
    const uint16_t bf16[] = {0x3F80, 0xC020, 0x477F, 0x0001, 0x8000, 0x7F80, 0xFF80, 0x7FC0};
    const float bf16_want[] = {1.0f, -2.5f, 65280.0f, 0x1p-133f, -0.0f, INFINITY, -INFINITY, NAN};
    const double f64[] = {0.1, 1e300, -1e-300, -2.5, 0x1.fffffffp+127};
    enum { N16 = 11, NB = 8, N64 = 5 };
    unsigned char data[N16 * 2 + NB * 2 + N64 * 8];
    size_t k = 0;
    for (int i = 0; i < N16; i++) data[k++] = (unsigned char)f16[i], data[k++] = (unsigned char)(f16[i] >> 8);
    for (int i = 0; i < NB; i++) data[k++] = (unsigned char)bf16[i], data[k++] = (unsigned char)(bf16[i] >> 8);
    for (int i = 0; i < N64; i++) {
        uint64_t u;
        memcpy(&u, &f64[i], 8);
        for (int j = 0; j < 8; j++) data[k++] = (unsigned char)(u >> (8 * j));
    }
    const char *h = "{\"h\":{\"dtype\":\"F16\",\"shape\":[11],\"data_offsets\":[0,22]},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[8],\"data_offsets\":[22,38]},"
                    "\"d\":{\"dtype\":\"F64\",\"shape\":[5],\"data_offsets\":[38,78]}}";
    size_t sz;
    unsigned char *img = make_file(h, data, sizeof data, &sz);
    StFile f;
    Err e = {{0}};
    CHECK(st_open_memory(&f, img, sz, "half.safetensors", &e) == 0, "%s", e.msg);
    float out[16];
    double dout[16];
    CHECK(st_read_f32(&f, st_find(&f, "h"), out, N16, &e) == 0, "%s", e.msg);
    CHECK(st_read_f64(&f, st_find(&f, "h"), dout, N16, &e) == 0, "%s", e.msg);
    for (int i = 0; i < N16; i++) {
        int ok = isnan(f16_want[i]) ? isnan(out[i]) : same_bits(out[i], f16_want[i]);
        CHECK(ok, "F16 0x%04x -> %a, want %a", f16[i], (double)out[i], (double)f16_want[i]);
        CHECK(isnan(out[i]) ? isnan(dout[i]) : dout[i] == (double)out[i], "F16 as f64 %d", i);
    }
    CHECK(signbit(out[6]), "F16 -0 keeps its sign");
    CHECK(st_read_f32(&f, st_find(&f, "b"), out, NB, &e) == 0, "%s", e.msg);
    for (int i = 0; i < NB; i++) {
        int ok = isnan(bf16_want[i]) ? isnan(out[i]) : same_bits(out[i], bf16_want[i]);
        CHECK(ok, "BF16 0x%04x -> %a, want %a", bf16[i], (double)out[i], (double)bf16_want[i]);
    }
    CHECK(st_read_f32(&f, st_find(&f, "d"), out, N64, &e) == 0, "%s", e.msg);
    CHECK(out[0] == 0.1f && out[1] == INFINITY && out[2] == 0.0f && signbit(out[2]) &&
              out[3] == -2.5f && out[4] == INFINITY, "F64 rounding: %a %a %a %a %a",
          (double)out[0], (double)out[1], (double)out[2], (double)out[3], (double)out[4]);
    CHECK(st_read_f64(&f, st_find(&f, "d"), dout, N64, &e) == 0 && dout[0] == 0.1 &&
              dout[4] == f64[4], "F64 read exact");
    CHECK(st_read_f32(&f, st_find(&f, "d"), out, 4, &e) == -1 && strstr(e.msg, "\"d\"") &&
              strstr(e.msg, "5 elements"), "%s", e.msg);
    st_close(&f);
    free(img);
}

static void test_round_trip(void)
{
    float w[6] = {1.5f, -0.0f, INFINITY, NAN, 0x1p-149f, -3.25e38f}, bias[3] = {0.1f, 0.2f, 0.3f};
    float s = 42.0f;
    StWrite in[4] = {
        {"model.layers.0.weight", 2, {2, 3}, w},
        {"empty", 2, {0, 4}, NULL},
        {"model.layers.0.bias", 1, {3}, bias},
        {"a_scalar", 0, {0}, &s},
    };
    char p1[600], p2[600], p3[600];
    snprintf(p1, sizeof p1, "%s/model.safetensors", dir);
    snprintf(p2, sizeof p2, "%s/resaved.safetensors", dir);
    snprintf(p3, sizeof p3, "%s/reordered.safetensors", dir);
    Err e = {{0}};
    CHECK(st_write_f32(p1, in, 4, &e) == 0, "%s", e.msg);
    StFile f;
    CHECK(st_open(&f, p1, &e) == 0, "%s", e.msg);
    const char *names[] = {"a_scalar", "empty", "model.layers.0.bias", "model.layers.0.weight"};
    CHECK(f.n == 4, "n = %d", f.n);
    for (int i = 0; i < f.n && i < 4; i++)
        CHECK(strcmp(f.t[i].name, names[i]) == 0, "t[%d] = %s, want %s", i, f.t[i].name, names[i]);
    CHECK(f.data_start % 8 == 0, "data_start %zu not 8-aligned", f.data_start);
    const char *meta = "{\"__metadata__\":{\"format\":\"pt\"},";
    CHECK(f.size > 8 + strlen(meta) && memcmp(f.buf + 8, meta, strlen(meta)) == 0, "metadata");
    const StTensor *tw = st_find(&f, "model.layers.0.weight");
    CHECK(tw && tw->rank == 2 && tw->shape[0] == 2 && tw->shape[1] == 3 && tw->numel == 6, "shape");
    float got[6];
    CHECK(st_read_f32(&f, tw, got, 6, &e) == 0, "%s", e.msg);
    for (int i = 0; i < 6; i++) CHECK(same_bits(got[i], w[i]), "w[%d] = %a", i, (double)got[i]);
    CHECK(st_read_f32(&f, st_find(&f, "a_scalar"), got, 1, &e) == 0 && got[0] == 42.0f, "scalar");

    /* Re-save what was read: the bytes must not change. */
    StWrite out[4];
    float *bufs[4];
    for (int i = 0; i < f.n && i < 4; i++) {
        const StTensor *t = &f.t[i];
        bufs[i] = malloc((t->numel ? t->numel : 1) * sizeof(float));
        CHECK(st_read_f32(&f, t, bufs[i], t->numel, &e) == 0, "%s", e.msg);
        out[i] = (StWrite){t->name, t->rank, {0}, bufs[i]};
        memcpy(out[i].shape, t->shape, sizeof t->shape);
    }
    CHECK(st_write_f32(p2, out, f.n, &e) == 0, "%s", e.msg);
    StWrite rev[4] = {in[3], in[1], in[0], in[2]};
    CHECK(st_write_f32(p3, rev, 4, &e) == 0, "%s", e.msg);
    size_t s1 = 0, s2 = 0, s3 = 0;
    unsigned char *b1 = read_all(p1, &s1), *b2 = read_all(p2, &s2), *b3 = read_all(p3, &s3);
    CHECK(b1 && b2 && s1 == s2 && memcmp(b1, b2, s1) == 0, "re-save differs (%zu vs %zu)", s1, s2);
    CHECK(b3 && s1 == s3 && memcmp(b1, b3, s1) == 0, "input order changed the bytes");

    /* Every proper prefix of a valid file is an error, not a crash: each
     * copy is exactly L bytes so ASan sees any read past the end. */
    int accepted = 0;
    for (size_t len = 0; b1 && len < s1; len++) {
        unsigned char *cut = malloc(len ? len : 1);
        memcpy(cut, b1, len);
        StFile g;
        Err ge = {{0}};
        if (st_open_memory(&g, cut, len, "cut.safetensors", &ge) == 0) {
            accepted++;
            st_close(&g);
        } else if (!ge.msg[0]) accepted++;
        free(cut);
    }
    CHECK(accepted == 0, "%d truncated lengths of %zu accepted", accepted, s1);
    for (int i = 0; i < f.n && i < 4; i++) free(bufs[i]);
    free(b1), free(b2), free(b3);
    st_close(&f);
}

static void test_errors(void)
{
    Err e = {{0}};
    StFile f;
    char p[600];
    snprintf(p, sizeof p, "%s/missing.safetensors", dir);
    CHECK(st_open(&f, p, &e) == -1 && strstr(e.msg, "cannot open") &&
              strstr(e.msg, "No such file"), "%s", e.msg);
    float x[2] = {0};
    StWrite dup[2] = {{"w", 1, {1}, x}, {"w", 1, {1}, x + 1}};
    CHECK(st_write_f32(p, dup, 2, &e) == -1 && strstr(e.msg, "duplicate tensor name \"w\""), "%s",
          e.msg);
    StWrite neg = {"n", 2, {2, -1}, x}, deep = {"d", 9, {1}, x}, meta = {"__metadata__", 0, {0}, x};
    CHECK(st_write_f32(p, &neg, 1, &e) == -1 && strstr(e.msg, "-1"), "%s", e.msg);
    CHECK(st_write_f32(p, &deep, 1, &e) == -1 && strstr(e.msg, "rank 9"), "%s", e.msg);
    CHECK(st_write_f32(p, &meta, 1, &e) == -1 && strstr(e.msg, "reserved"), "%s", e.msg);
    CHECK(access(p, F_OK) != 0, "failed write left a file behind");
    CHECK(st_write_f32(p, NULL, 0, &e) == 0 && st_open(&f, p, &e) == 0 && f.n == 0, "empty file");
    st_close(&f);
    snprintf(p, sizeof p, "%s/missing.safetensors/x.safetensors", dir); /* under a file: no directory to make */
    CHECK(st_write_f32(p, NULL, 0, &e) == -1 && strstr(e.msg, "x.safetensors"), "%s", e.msg);
}

int main(void)
{
    make_tmpdir();
    test_validation();
    test_valid_variants();
    test_half_types();
    test_round_trip();
    test_errors();
    remove_tmpdir();
    return check_summary();
}

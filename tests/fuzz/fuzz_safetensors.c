/* core/safetensors.c on arbitrary bytes: st_open_memory, then st_read_f32
 * and st_read_f64 of every tensor it accepts. What opens must be
 * consistent (offsets inside the buffer, sizes matching shapes, names
 * unique and found), and both readers must agree. */
#include <math.h>
#include <string.h>

#include "core/safetensors.h"
#include "fuzz.h"

static int is_float(StDtype d) { return d == ST_F32 || d == ST_F16 || d == ST_BF16 || d == ST_F64; }

static void read_tensor(const StFile *f, const StTensor *t)
{
    size_t n = t->numel;
    /* one spare element each: a reader must not write past n */
    float *x = malloc((n + 1) * sizeof *x);
    double *y = malloc((n + 1) * sizeof *y);
    FUZZ_CHECK(x && y, "out of memory for %zu elements", n);
    x[n] = 1234.5f;
    y[n] = 1234.5;
    Err e;
    int rf = st_read_f32(f, t, x, n, &e), rd = st_read_f64(f, t, y, n, &e);
    FUZZ_CHECK(rf == (is_float(t->dtype) ? 0 : -1) && rd == rf, "\"%s\" %s: f32 %d, f64 %d", t->name,
               st_dtype_name(t->dtype), rf, rd);
    FUZZ_CHECK(x[n] == 1234.5f && y[n] == 1234.5, "\"%s\": written past %zu elements", t->name, n);
    for (size_t i = 0; rf == 0 && i < n; i++)
        FUZZ_CHECK(isnan(x[i]) ? isnan(y[i]) : x[i] == (float)y[i], "\"%s\"[%zu]: f32 %.9g, f64 %.17g", t->name, i,
                   x[i], y[i]);
    /* a caller expecting another size gets an error, not a partial copy */
    FUZZ_CHECK(st_read_f32(f, t, x, n + 1, &e) == -1 && st_read_f64(f, t, y, n + 1, &e) == -1, "\"%s\": n + 1 accepted",
               t->name);
    free(x);
    free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    StFile f;
    Err e;
    if (st_open_memory(&f, data, size, "fuzz.safetensors", &e)) {
        FUZZ_CHECK(f.n == 0 && !f.buf && !f.t && !f.what, "failed open left state behind: %s", e.msg);
        st_close(&f);
        return 0;
    }
    FUZZ_CHECK(f.data_start >= 8 && f.data_start <= f.size, "data_start %zu of %zu bytes", f.data_start, f.size);
    for (int i = 0; i < f.n; i++) {
        const StTensor *t = &f.t[i];
        FUZZ_CHECK(st_find(&f, t->name) == t, "\"%s\" not found by name", t->name);
        FUZZ_CHECK(t->begin <= t->end && t->end <= f.size - f.data_start, "\"%s\" [%zu, %zu] outside %zu bytes",
                   t->name, t->begin, t->end, f.size - f.data_start);
        FUZZ_CHECK(t->end - t->begin == t->numel * st_dtype_size(t->dtype), "\"%s\": %zu bytes for %zu elements",
                   t->name, t->end - t->begin, t->numel);
        FUZZ_CHECK(t->rank >= 0 && t->rank <= ST_MAX_RANK, "\"%s\": rank %d", t->name, t->rank);
        read_tensor(&f, t);
    }
    const StTensor *none = st_find(&f, "not.a.tensor");
    FUZZ_CHECK(!none || !strcmp(none->name, "not.a.tensor"), "looked up \"not.a.tensor\", found \"%s\"", none->name);
    st_close(&f);
    st_close(&f); /* closing twice is harmless */
    return 0;
}

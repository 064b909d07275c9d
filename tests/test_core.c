/* core/: the seeded generator is pinned (results must not change with the
 * machine or libc), streams are independent, the memory budget refuses
 * absurd sizes with a message, overflow-checked size arithmetic. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/rng.h"

static void test_rng(void)
{
    /* xoshiro256** seeded through splitmix64(42): changing these changes every result ever recorded */
    Rng r;
    rng_seed(&r, 42);
    const uint64_t want[3] = {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull};
    for (int i = 0; i < 3; i++) {
        uint64_t got = rng_u64(&r);
        CHECK(got == want[i], "draw %d: %016llx", i, (unsigned long long)got);
    }
    Rng f = rng_fork(42, 1);
    CHECK(rng_u64(&f) == 0xf207f3b88ea5129aull, "fork(42, 1) first draw changed");
    Rng a = rng_fork(7, 1), b = rng_fork(7, 2);
    int same = 0;
    for (int i = 0; i < 100; i++) same += rng_u64(&a) == rng_u64(&b);
    CHECK(same == 0, "streams 1 and 2 of one seed collide %d times", same);

    long counts[5] = {0};
    double sum = 0, sq = 0;
    rng_seed(&r, 3);
    int out_of_range = 0;
    for (int i = 0; i < 100000; i++) {
        uint32_t k = rng_below(&r, 5);
        out_of_range += k >= 5;
        counts[k < 5 ? k : 0]++;
        double z = rng_normal(&r);
        sum += z;
        sq += z * z;
        double u = rng_uniform(&r);
        out_of_range += !(u >= 0 && u < 1);
    }
    CHECK(out_of_range == 0, "%d draws out of range", out_of_range);
    for (int k = 0; k < 5; k++) CHECK(labs(counts[k] - 20000) < 1000, "rng_below bucket %d: %ld", k, counts[k]);
    CHECK(fabs(sum / 1e5) < 0.02 && fabs(sq / 1e5 - 1) < 0.03, "normal mean %g var %g", sum / 1e5, sq / 1e5);
}

static void test_mem(void)
{
    Err e = {{0}};
    setenv("SEQ_MEM_LIMIT", "1000000", 1);
    CHECK(mem_available() == 1000000, "SEQ_MEM_LIMIT not honoured: %zu", mem_available());
    void *p = mem_alloc(2000000, 1, "test buffer", &e);
    CHECK(p == NULL && strstr(e.msg, "test buffer") && strstr(e.msg, "available"), "msg: %s", e.msg);
    p = mem_alloc((size_t)1 << 62, 16, "huge", &e);
    CHECK(p == NULL && strstr(e.msg, "overflows"), "overflow msg: %s", e.msg);
    p = mem_alloc(1000, 4, "small", &e);
    CHECK(p != NULL, "small allocation refused: %s", e.msg);
    free(p);
    unsetenv("SEQ_MEM_LIMIT");
    size_t out;
    CHECK(size_mul((size_t)-1 / 2, 3, &out) == -1, "size_mul overflow not caught");
    CHECK(size_mul(6, 7, &out) == 0 && out == 42, "size_mul");
    CHECK(size_add((size_t)-1, 1, &out) == -1, "size_add overflow not caught");
    char buf[32];
    CHECK(!strcmp(mem_human(1536.0 * 1024 * 1024, buf, sizeof buf), "1.50 GiB"), "mem_human: %s", buf);
}

static void test_err(void)
{
    Err e;
    err_set(&e, "tensor \"%s\" missing", "x");
    err_prefix(&e, "dir/model.safetensors");
    CHECK(!strcmp(e.msg, "dir/model.safetensors: tensor \"x\" missing"), "prefix: %s", e.msg);
    char long_prefix[600];
    memset(long_prefix, 'a', sizeof long_prefix - 1);
    long_prefix[sizeof long_prefix - 1] = '\0';
    err_prefix(&e, long_prefix);
    CHECK(strlen(e.msg) < sizeof e.msg, "prefix overflowed");
}

int main(void)
{
    test_rng();
    test_mem();
    test_err();
    return check_summary();
}

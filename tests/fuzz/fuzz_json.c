/* core/jsonio.c on arbitrary bytes: json_parse_text, then every typed getter
 * under the document's own keys and a few fixed ones, with wide and narrow
 * ranges, and json_read_int_array on the root and on every member. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/jsonio.h"
#include "fuzz.h"

static const char *const FIXED_KEYS[] = {"model_type", "vocab_size", "rope_theta", "tie_word_embeddings", ""};

static void get_all(const cJSON *obj, const char *key, int required)
{
    Err e;
    long long ll = 7;
    if (json_get_int(obj, key, required, LLONG_MIN, LLONG_MAX, &ll, "fuzz.json", &e) == 0)
        FUZZ_CHECK(ll >= -(1LL << 53) && ll <= (1LL << 53), "\"%s\" = %lld", key, ll);
    ll = 7;
    if (json_get_int(obj, key, required, -3, 5, &ll, NULL, &e) == 0)
        FUZZ_CHECK(ll == 7 || (ll >= -3 && ll <= 5), "\"%s\" = %lld", key, ll);
    int i32 = 7;
    if (json_get_int32(obj, key, required, INT_MIN, INT_MAX, &i32, "fuzz.json", &e) == 0) (void)i32;
    i32 = 7;
    if (json_get_int32(obj, key, required, 1, 1 << 16, &i32, "fuzz.json", NULL) == 0)
        FUZZ_CHECK(i32 == 7 || (i32 >= 1 && i32 <= 1 << 16), "\"%s\" = %d", key, i32);
    double d = 0.5;
    if (json_get_double(obj, key, required, &d, "fuzz.json", &e) == 0)
        FUZZ_CHECK(isfinite(d), "\"%s\" = %g", key, d);
    int b = 7;
    if (json_get_bool(obj, key, required, &b, "fuzz.json", &e) == 0)
        FUZZ_CHECK(b == 7 || b == 0 || b == 1, "\"%s\" = %d", key, b);
    /* small buffers: a long string must be refused, never truncated or overrun */
    char s[8] = "unset", one[1] = {'x'};
    if (json_get_string(obj, key, required, s, sizeof s, "fuzz.json", &e) == 0)
        FUZZ_CHECK(memchr(s, '\0', sizeof s), "\"%s\" not terminated", key);
    if (json_get_string(obj, key, required, one, sizeof one, "fuzz.json", &e) == 0)
        FUZZ_CHECK(one[0] == 'x' || one[0] == '\0', "\"%s\": 1-byte buffer holds %d", key, one[0]);
}

static void read_ids(const cJSON *arr)
{
    static const long long HI[] = {0, 1, 50257, (long long)INT_MAX + 1, LLONG_MAX};
    static const long MAX_N[] = {0, 3, 1L << 20};
    for (size_t h = 0; h < sizeof HI / sizeof *HI; h++)
        for (size_t k = 0; k < sizeof MAX_N / sizeof *MAX_N; k++) {
            Err e;
            int *ids = (int *)&e; /* must be reset on every path */
            long n = json_read_int_array(arr, HI[h], MAX_N[k], &ids, "tokens.json", &e);
            if (n < 0) {
                FUZZ_CHECK(n == -1 && ids == NULL, "failure returned %ld, ids %p", n, (void *)ids);
                continue;
            }
            FUZZ_CHECK(ids != NULL && n <= MAX_N[k], "%ld ids, ids %p", n, (void *)ids);
            for (long i = 0; i < n; i++)
                FUZZ_CHECK(ids[i] >= 0 && ids[i] < HI[h], "id %ld = %d, hi %lld", i, ids[i], HI[h]);
            free(ids);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Err e;
    cJSON *root = json_parse_text((const char *)data, size, "fuzz.json", &e);
    if (!root) {
        FUZZ_CHECK(memchr(e.msg, '\0', sizeof e.msg) && e.msg[0], "empty error message");
        return 0;
    }
    for (size_t k = 0; k < sizeof FIXED_KEYS / sizeof *FIXED_KEYS; k++) get_all(root, FIXED_KEYS[k], (int)(k & 1));
    read_ids(root);
    long long x;
    int n = 0;
    for (const cJSON *c = root->child; c && n < 64; c = c->next, n++) {
        if (c->string) {
            get_all(root, c->string, 1);
            get_all(c, c->string, 0); /* c is rarely an object: the "expected an object" path */
        }
        if (json_whole_number(c, &x) == 0) FUZZ_CHECK(llabs(x) <= 1LL << 53, "whole number %lld", x);
        if (cJSON_IsArray(c)) read_ids(c);
    }
    cJSON_Delete(root);
    return 0;
}

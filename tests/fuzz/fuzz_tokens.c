/* Token files (tokens.json, read by `seqbench logits` and the golden tests):
 * json_parse_text then json_read_int_array. Byte 0 picks the vocabulary
 * size, byte 1 the maximum count; the rest is the file. Every id returned
 * must be in [0, vocab), the count within the maximum, and a failure must
 * leave no array behind. */
#include <limits.h>

#include "core/jsonio.h"
#include "fuzz.h"

static long long vocab_of(uint8_t b)
{
    static const long long SPECIAL[] = {-1, LLONG_MIN, 1 << 24, 32000, 50257, 65536, INT_MAX, (long long)INT_MAX + 1,
                                        (long long)INT_MAX + 2, 1LL << 53, (1LL << 53) + 1, LLONG_MAX};
    enum { N_SPECIAL = sizeof SPECIAL / sizeof *SPECIAL };
    return b >= 256 - N_SPECIAL ? SPECIAL[b - (256 - N_SPECIAL)] : b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    long long vocab = vocab_of(data[0]);
    long max_n = data[1] == 255 ? LONG_MAX : data[1] == 254 ? -1 : data[1] == 253 ? 1L << 20 : data[1];
    Err e;
    cJSON *root = json_parse_text((const char *)data + 2, size - 2, "tokens.json", &e);
    if (!root) return 0;
    int *ids = (int *)&e; /* must be reset on every path */
    long n = json_read_int_array(root, vocab, max_n, &ids, "tokens.json", &e);
    long long hi = vocab < (long long)INT_MAX + 1 ? vocab : (long long)INT_MAX + 1;
    if (n < 0) {
        FUZZ_CHECK(n == -1 && ids == NULL && e.msg[0], "failure returned %ld, ids %p", n, (void *)ids);
    } else {
        FUZZ_CHECK(ids != NULL && n <= max_n, "%ld ids (max %ld), ids %p", n, max_n, (void *)ids);
        for (long i = 0; i < n; i++) FUZZ_CHECK(ids[i] >= 0 && ids[i] < hi, "id %ld = %d, vocab %lld", i, ids[i], vocab);
        free(ids);
    }
    cJSON_Delete(root);
    return 0;
}

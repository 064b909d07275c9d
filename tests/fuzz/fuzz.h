/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c): each defines
 * LLVMFuzzerTestOneInput, which libFuzzer drives under `make fuzz` and
 * replay.c drives over the committed corpus under ctest.
 *
 * A target fails only by crashing. FUZZ_CHECK states a property the code
 * promises (a getter that succeeds wrote a value in range, a file that opens
 * reads back); unlike assert it stays on under NDEBUG. */
#ifndef SEQ_FUZZ_H
#define SEQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            abort();                                                                 \
        }                                                                            \
    } while (0)

#endif

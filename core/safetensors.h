/* The safetensors format (Hugging Face), as used by save_pretrained for
 * model.safetensors:
 *
 *   u64 little-endian N | N bytes of JSON header | byte buffer
 *
 * The header maps tensor name -> {"dtype", "shape", "data_offsets": [begin,
 * end]} with offsets relative to the byte buffer, plus an optional
 * "__metadata__" object of string -> string. Files come from elsewhere, so
 * st_open checks every number before any byte of the buffer is touched: a
 * damaged or truncated file is a one-line error, never a crash. */
#ifndef SEQ_SAFETENSORS_H
#define SEQ_SAFETENSORS_H

#include <stddef.h>

#include "err.h"

typedef enum { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL } StDtype;

#define ST_MAX_RANK 8

typedef struct {
    char *name;
    StDtype dtype;
    int rank;
    long long shape[ST_MAX_RANK];
    size_t numel;       /* product of shape; 1 for rank 0 */
    size_t begin, end;  /* data_offsets, relative to data_start */
} StTensor;

/* The whole file is held in buf. t is sorted by name (st_find bisects). */
typedef struct {
    unsigned char *buf;
    size_t size;
    size_t data_start;  /* 8 + N */
    int n;
    StTensor *t;
    char *what;         /* file name, for messages from st_read_* */
} StFile;

/* On failure f is left empty (st_close on it is harmless). */
int st_open(StFile *f, const char *path, Err *e);
/* Copies data; `what` names the source in messages. For tests and fuzzing. */
int st_open_memory(StFile *f, const void *data, size_t size, const char *what, Err *e);
const StTensor *st_find(const StFile *f, const char *name);
const char *st_dtype_name(StDtype d);
size_t st_dtype_size(StDtype d);

/* Converts t to float. F32 is copied bit for bit, F16 and BF16 are widened
 * exactly (subnormals, inf, nan included), F64 is rounded to nearest.
 * n must equal t->numel; integer dtypes are an error. */
int st_read_f32(const StFile *f, const StTensor *t, float *dst, size_t n, Err *e);
/* Same into doubles: every float dtype is exact. */
int st_read_f64(const StFile *f, const StTensor *t, double *dst, size_t n, Err *e);
void st_close(StFile *f);

/* Writer: F32 only, deterministic bytes (save -> load -> save is identical). */
typedef struct {
    const char *name;
    int rank;
    long long shape[ST_MAX_RANK];
    const float *data;
} StWrite;

/* Writes atomically. Tensors are sorted by name in the header and laid out in
 * that order; the header starts with "__metadata__": {"format": "pt"} as
 * save_pretrained writes it, and is padded with spaces so the byte buffer
 * starts at an 8-byte-aligned offset (lets readers mmap and use it in place). */
int st_write_f32(const char *path, const StWrite *tensors, int n, Err *e);

#endif

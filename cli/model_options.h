/* The model options shared by train, params, gradcheck and bench: each
 * field of a ModelArgs (models/model_args.h) as a command-line option. */
#ifndef SEQ_MODEL_OPTIONS_H
#define SEQ_MODEL_OPTIONS_H

#include "cli/options.h"
#include "models/model_args.h"

#define MODEL_OPTIONS_N 45

/* Writes the option table entries into out (MODEL_OPTIONS_N of them). */
int model_options(ModelArgs *a, Option *out);

/* --dtype of the inference commands (bench's sweeps, eval, logits) */
#define DTYPE_HELP                                                                                                 \
    "weights for inference: fp32, or bf16 (matrices stored in bf16 and widened to fp32 as they are read; "        \
    "accumulation in fp32; norms, biases, convolutions and SSM parameters stay fp32)"
/* 1 for "bf16", 0 for "fp32"; dies with one line (status 2) on anything else. */
int dtype_is_bf16(const char *dtype);

#endif

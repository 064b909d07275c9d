/* The model options shared by train, params, gradcheck and bench: each
 * field of a ModelArgs (models/model_args.h) as a command-line option. */
#ifndef SEQ_MODEL_OPTIONS_H
#define SEQ_MODEL_OPTIONS_H

#include "cli/options.h"
#include "models/model_args.h"

#define MODEL_OPTIONS_N 45

/* Writes the option table entries into out (MODEL_OPTIONS_N of them). */
int model_options(ModelArgs *a, Option *out);

#endif

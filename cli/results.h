/* Result files (DESIGN §9): every JSON a run writes starts with the same
 * provenance block, so a number can always be traced to the code, command,
 * machine and settings that produced it. */
#ifndef SEQ_RESULTS_H
#define SEQ_RESULTS_H

#include <cjson/cJSON.h>

#include "models/model.h"
#include "tasks/eval.h"

/* {"seqbench_version", "command", "argv", "threads", "blas_threading", "cpu", "compiler", "compiler_flags", "started_at"} */
cJSON *results_new(const char *command, int argc, char **argv);
/* {"pattern", "model_type", "config": {...}, "params": {total, embedding, head, norms, by sublayer}} */
cJSON *results_model(const Model *m);

/* The accuracy table on stdout (header, then one row per length as it is
 * measured) and its JSON twin in the result's metrics.eval array. */
void results_eval_header(void);
void results_add_eval(cJSON *evals, const EvalResult *er);

#endif

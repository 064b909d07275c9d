/* `bench roofline`: what this machine allows with the configured threads
 * (core/roofline.h): the FMA and sgemm peaks and sustained memory bandwidth, as a table
 * and as JSON another benchmark can take with --roofline FILE. */
#ifndef SEQ_BENCH_ROOFLINE_H
#define SEQ_BENCH_ROOFLINE_H

#include <cjson/cJSON.h>

#include "core/err.h"
#include "core/roofline.h"

/* Measures (o checked by roofline_check first), prints the table, adds "roofline" to res. */
int bench_roofline_table(const RooflineOpts *o, cJSON *res, Err *e);

#endif

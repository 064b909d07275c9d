/* Result files (DESIGN §9): every JSON a run writes starts with the same
 * provenance block, so a number can always be traced to the code, command,
 * machine and settings that produced it. */
#ifndef SEQ_RESULTS_H
#define SEQ_RESULTS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"

/* {"seqbench_version", "command", "argv", "threads", "blas_threading", "cpu", "compiler", "compiler_flags",
 *  "started_at", "load_average_1m_at_start"}. Call it when the command starts: the load average and start time
 * describe the run, and results_finish's wall time counts from here. */
cJSON *results_new(const char *command, int argc, char **argv);
/* Adds "wall_time_s": seconds since results_new. */
void results_finish(cJSON *res);

/* Outputs are checked before any work, so a run never ends in "rename
 * failed: Is a directory" with its result lost. `opt` names the option in
 * messages ("--out").
 *   results_check_file: path names a file (new, or an existing regular file)
 *     in a writable directory, or in one that can be made with its parents
 *     (atomic_open makes it when the file is written; nothing is created here).
 *   results_check_dir: dir is an existing directory, or can be made with its
 *     parents (the nearest existing ancestor is a writable directory); if it
 *     exists, none of `files` (NULL-terminated) in it is a directory, and a
 *     file can be written there. Nothing is created. */
int results_check_file(const char *opt, const char *path, Err *e);
int results_check_dir(const char *opt, const char *dir, const char *const *files, Err *e);

/* What identifies the settings of a result: 16 hex digits of a 64-bit
 * FNV-1a hash of text (the canonical JSON of the settings that change its
 * numbers). Two results with one digest were made under the same settings. */
void results_digest(const char *text, char hex[17]);

/* A count as a person reads it: 2320, 133.25K, 129.14M, 51.57B, 1.20T. */
const char *results_count(double n, char *buf, size_t cap);

#endif

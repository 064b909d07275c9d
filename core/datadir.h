/* Where the data seqbench ships beside the binary (configs/paper, experiments)
 * is found, so an installed binary works from any directory. */
#ifndef SEQ_DATADIR_H
#define SEQ_DATADIR_H

#include <stddef.h>

/* Writes to buf the path of `rel` (e.g. "configs/paper") in the first of:
 * $SEQBENCH_DATA_DIR (taken as given, so a wrong value shows up in the error
 * that names the path), the installed data directory beside the binary
 * (<prefix>/share/seqbench for <prefix>/bin/seqbench), the working directory,
 * the source tree the binary was built from. When rel exists in none of them
 * the source-tree path is returned. Returns buf. */
const char *data_path(const char *rel, char *buf, size_t cap);

#endif

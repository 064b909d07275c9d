/* Presets (`--preset NAME`): the papers' task settings, and CPU-sized ones
 * beside them, shipped as data in configs/presets/NAME.json:
 *
 *   {"description": "one line", "source": "paper, section",
 *    "options": {option: value, ...},
 *    "by_arch": {"transformer": {option: value, ...}, ...}}
 *
 * "options" is applied like a --config file; "by_arch" adds the settings a
 * paper gives per architecture (Mamba Table 2: lr 1e-3 for Mamba, 2e-4 for
 * attention), chosen by the final --arch. A --config file and the command
 * line win over both. */
#ifndef SEQ_PRESET_H
#define SEQ_PRESET_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "core/err.h"

/* The preset's JSON; an unknown name is an error listing the known ones. */
cJSON *preset_load(const char *name, Err *e);
/* One line per preset: name, description, source. */
void preset_list(FILE *f);

#endif

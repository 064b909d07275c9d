/* seqbench experiment: runs one experiment spec, experiments/NAME.json (DESIGN §9).
 *
 * A spec names a command (train, bench or params), base options,
 * per-profile options ("smoke" for the tests, "quick" fits a laptop, "paper"
 * follows the paper where a CPU can), a list of cells (option overrides with
 * a name, and each cell's measured "seconds" per profile) and seeds
 * (reproduce/plan.c). Each (cell, seed) is one result file
 * <results>/<experiment>/<cell>.seed<k>.json, written atomically by the
 * command itself; the runner (reproduce/run.c) runs each cell in a child
 * process and skips finished ones. --list-cells and --cell/--seed are the
 * interface for other drivers (make, Slurm): list the cells, run one.
 * `compare` (cmd_compare.c) runs its specs through the same runner. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "reproduce/experiment.h"
#include "core/jsonio.h"

int run_cell_command(int argc, char **argv)
{
    if (!strcmp(argv[1], "bench")) return cmd_bench(argc, argv);
    if (!strcmp(argv[1], "params")) return cmd_params(argc, argv);
    return cmd_train(argc, argv);
}

int cmd_experiment(int argc, char **argv)
{
    char spec_path[1024] = "", profile[32] = "quick", results[1024] = "results", cell[128] = "", seed[32] = "";
    char seeds[256] = "";
    int threads = 0, dry = 0, jobs = 1, list = 0, move_stale = 0;
    Option opts[] = {
        OPT_S("spec", spec_path, "experiment spec (experiments/NAME.json)"),
        OPT_S("profile", profile, "a profile of the spec (smoke, quick or paper)"),
        OPT_S("results", results, "results directory"),
        OPT_I("threads", &threads, 0, 1024, "threads per cell (0 = all cores, divided by --jobs)"),
        OPT_I("jobs", &jobs, 1, 256, "cells run at once (an \"exclusive\" spec runs one at a time)"),
        OPT_F("dry-run", &dry, "print each cell's command and check its options, without running it"),
        OPT_F("list-cells", &list, "print one line per (cell, seed), tab-separated: experiment, cell, seed, result "
                                   "file, estimated seconds (- if none), exclusive (1/0); run nothing"),
        OPT_F("move-stale", &move_stale, "with --list-cells: first move each result made under other settings than "
                                         "its cell's now aside (FILE.stale), as a run would, so a driver that skips "
                                         "existing files runs the cell again"),
        OPT_S("cell", cell, "run only this cell (all its seeds unless --seed)"),
        OPT_S("seed", seed, "run only this seed"),
        OPT_S("seeds", seeds, "replace every training cell's seeds, e.g. 4,5,6 (an independent second run; "
                              "timing and params specs keep theirs)"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "experiment",
                           "--spec experiments/NAME.json [--profile P] [--list-cells | --cell NAME [--seed K]]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    if (!*spec_path) die("experiment: --spec FILE is required");
    cJSON *spec = json_read_file(spec_path, &e);
    if (!spec) die_err(&e);
    ExpRun r = {.cmd = "experiment", .spec_path = spec_path, .spec = spec, .profile = profile, .results = results,
                .threads = threads, .dry = dry, .jobs = jobs, .cell = *cell ? cell : NULL, .seed = *seed ? seed : NULL,
                .seeds = *seeds ? seeds : NULL,
                .run_command = run_cell_command, .move_stale = move_stale};
    if (list) {
        if (experiment_list_cells(&r, &e)) die_err(&e);
        cJSON_Delete(spec);
        return 0;
    }
    ExpCell *cells;
    int n_cells;
    char dir[1200];
    rc = experiment_run(&r, &cells, &n_cells, dir, sizeof dir, &e);
    if (rc < 0) die_err(&e);
    free(cells);
    cJSON_Delete(spec);
    return rc;
}

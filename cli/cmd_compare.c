/* seqbench compare: the command line of compare_run (reproduce/compare.c):
 * several architectures trained under the same settings, each over k seeds,
 * summarised side by side (issue 16). */
#include "cli/commands.h"
#include "cli/options.h"
#include "reproduce/compare.h"

int cmd_compare(int argc, char **argv)
{
    char spec_path[1024] = "", profile[32] = "", results[1024] = "results", preset[64] = "", metric[16] = "";
    char seeds[256] = "";
    int threads = 0, dry = 0, jobs = 1;
    Option opts[] = {
        OPT_S("spec", spec_path, "compare spec: an experiment spec whose cells are the architectures"),
        OPT_S("profile", profile, "a profile of the spec (default: quick if the spec has profiles, else none)"),
        OPT_S("preset", preset, "configs/presets/NAME.json under every cell's options (--preset list)"),
        OPT_S("results", results, "results directory; the cells and summary.json go to RESULTS/<spec name>/"),
        OPT_S("metric", metric, "accuracy the table shows: token_acc or string_acc (default: the spec's \"metric\", "
                                "else token_acc); the summary holds both"),
        OPT_S("seeds", seeds, "replace every cell's seeds, e.g. 4,5,6 (an independent second run)"),
        OPT_I("threads", &threads, 0, 1024, "threads per cell (0 = all cores, divided by --jobs)"),
        OPT_I("jobs", &jobs, 1, 256, "cells trained at once"),
        OPT_F("dry-run", &dry, "print each cell's command and check its options, without training"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "compare", "--spec FILE.json [--profile P] [--preset NAME]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    if (!*spec_path) die("compare: --spec FILE is required");
    CompareSettings s = {.spec_path = spec_path, .profile = profile, .preset = preset, .results = results,
                         .metric = metric, .seeds = *seeds ? seeds : NULL, .threads = threads, .jobs = jobs,
                         .dry = dry, .argc = argc, .argv = argv,
                         .run_command = run_cell_command};
    rc = compare_run(&s, &e);
    if (rc < 0) die_err(&e);
    return rc;
}

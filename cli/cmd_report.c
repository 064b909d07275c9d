/* seqbench report: the command line of report_write (reproduce/report.c),
 * which turns every experiment spec and its result files into
 * results/REPORT.md and the tables the plots draw. */
#include "cli/commands.h"
#include "cli/options.h"
#include "reproduce/report.h"

int cmd_report(int argc, char **argv)
{
    char experiments[1024] = "experiments", results[1024] = "results", profile[32] = "quick", plots[1024] = "plots";
    char seeds[256] = "";
    int no_times = 0, any = 0;
    Option opts[] = {
        OPT_S("experiments", experiments, "directory of experiment specs"),
        OPT_S("results", results, "results directory (REPORT.md and the .tsv tables go here)"),
        OPT_S("profile", profile, "profile the results were run at (smoke, quick or paper), for the settings lines"),
        OPT_S("plots", plots, "path from the results directory to the rendered plots, for the image links"),
        OPT_S("seeds", seeds, "the seeds the run had (make reproduce SEEDS=..., experiment --seeds); default: each "
                              "spec's at the profile"),
        OPT_F("any-settings", &any, "count every result file in the folder, without checking that it is one the "
                                    "specs plan at this profile and seeds, made under the settings its cell has now"),
        OPT_F("no-times", &no_times, "leave out training times and bench speeds, so the reports of two runs of the same cells compare equal"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "report", "[--experiments DIR] [--results DIR] [--profile P]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    ReportSettings s = {.experiments = experiments, .results = results, .profile = profile, .plots = plots,
                        .no_times = no_times, .seeds = *seeds ? seeds : NULL,
                        .run_command = any ? NULL : run_cell_command};
    if (report_write(&s, &e)) die_err(&e);
    return 0;
}

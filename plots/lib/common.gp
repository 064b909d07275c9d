# Shared by the plot scripts: where the tables are, where the pictures go,
# and a check that the table exists. Callers set `name` (the experiment);
# `figure` names the pictures (<figure>.png and .svg; default the
# experiment's name), so one experiment can have several figures.
# Defaults: tables in results/, pictures in results/plots/ beside the report
# that links them, run from the repository root; override with
#   gnuplot -e "results='DIR'; outdir='DIR'" plots/NAME.gp
if (!exists("results")) results = "results"
if (!exists("outdir")) outdir = results."/plots"
exists_file(f) = system("test -s '".f."' && echo y") eq "y"
# colours that stay apart in print and for most colour-blind readers (Okabe-Ito)
colours = "#0072B2 #D55E00 #009E73 #CC79A7 #E69F00 #56B4E9 #000000 #F0E442 #882255 #999999"
colour(i) = word(colours, (i % 10) + 1)
# past ten series the colours repeat with another dash and point
dash(i) = 1 + int(i / 10)
point(i) = word("7 5 9 11 13", int(i / 10) % 5 + 1) + 0
set datafile separator "\t"
set datafile missing "NaN"
# the number of tab-separated fields on a table's first line (its header)
columns_of(f) = int(system("head -n 1 '".f."' | awk -F'\t' '{ print NF }'"))
# which columns (from `first`) hold at least one number, as a list "5 7"
columns_with_data(f, first) = system("awk -F'\t' -v first=".first." 'NR > 1 { for (i = first; i <= NF; i++) if ($i != \"NaN\" && $i != \"\") seen[i] = 1 } END { for (i = first; i <= 64; i++) if (seen[i]) printf \"%d \", i }' '".f."'")
# a smoke run's timings are single, unrepeated runs of tiny settings: its timing plots say so
# (seqbench report writes the profile to results/profile.txt)
profile_file = results."/profile.txt"
smoke_run = exists_file(profile_file) && system("head -n 1 '".profile_file."'") eq "smoke"

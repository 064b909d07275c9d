# Loss against position in the window: one line per cell of
# results/<name>_position.tsv (blocks separated by two blank lines, each
# headed "position<TAB>cell": the bucket's last position, then the mean, min
# and max over seeds of its bits per byte), the seeds' spread as a band, a
# dotted line at the training length. Log x, as the Griffin paper draws it.
# Set before loading: name, plot_title, train_len; optional: figure, ylabel_text.
load "plots/lib/common.gp"
if (!exists("figure")) figure = name
file = results."/".name."_position.tsv"
if (!exists_file(file)) { print "plots/".figure.".gp: no ".file." yet (seqbench report writes it once the experiment has results); skipped"; exit }
blocks = int(system("awk -F'\t' '$1 == \"position\"' '".file."' | wc -l"))
if (!exists("ylabel_text")) ylabel_text = "test bits per byte (lower is better)"
set title plot_title noenhanced
set xlabel "position in the window (log scale; each point the mean over a doubling bucket ending there)"
set ylabel ylabel_text
set logscale x 2
set grid
set key outside right top noenhanced spacing 1.2
set style fill transparent solid 0.2 noborder
if (exists("train_len")) { set arrow from first train_len, graph 0 to first train_len, graph 1 nohead dashtype 3 lc rgb "#555555"; set label 98 "training length" at first train_len, graph 0.97 left offset 0.5, 0 font ",9" }
if (smoke_run) { set label 99 "smoke profile: a few steps (this tests the pipeline, not the claim)" at graph 0.01, graph 1.03 left font ",9" tc rgb "#D55E00" }
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 font ",11" } else { set terminal svg size 960,540 dynamic font ",11" }
    set output outdir."/".figure.".".fmt
    plot for [i=0:blocks-1] file index i using 1:3:4 with filledcurves lc rgb colour(i) notitle, \
         for [i=0:blocks-1] file index i using 1:2 with linespoints lw 2 dt dash(i) pt point(i) ps 0.7 lc rgb colour(i) title columnheader(2)
}

# Learning curves: validation string accuracy (%) against training steps,
# one line per cell of results/<name>_curve.tsv (blocks separated by two
# blank lines, each headed "step<TAB>cell": step, mean, min, max over seeds)
# with its min..max over seeds as a band. A seed that stopped at its target
# (train --stop-acc) counts at its last check from there on.
# Set before loading: name, plot_title; optional: figure, xlabel_text,
# ylabel_text, threshold (a dotted line at that accuracy, 0..1), logx (1: log steps),
# percent (0: the curve is a text model's loss or bits per byte, drawn as it is).
load "plots/lib/common.gp"
if (!exists("figure")) figure = name."_curve"
file = results."/".name."_curve.tsv"
if (!exists_file(file)) { print "plots/".figure.".gp: no ".file." yet (seqbench report writes it once the experiment has results); skipped"; exit }
blocks = int(system("awk -F'\t' '$1 == \"step\"' '".file."' | wc -l"))
if (!exists("xlabel_text")) xlabel_text = "training steps"
if (!exists("percent")) percent = 1
if (!exists("ylabel_text")) ylabel_text = percent ? "validation string accuracy (%)" : "validation bits per byte"
k = percent ? 100 : 1
set title plot_title noenhanced
set xlabel xlabel_text
set ylabel ylabel_text
if (exists("logx") && logx) { set logscale x 10 }
if (percent) { set yrange [-2:105]; set ytics 0, 20, 100 }
set grid
set key outside right top noenhanced spacing 1.2
set style fill transparent solid 0.2 noborder
if (exists("threshold")) { set arrow from graph 0, first k*threshold to graph 1, first k*threshold nohead dashtype 3 lc rgb "#555555" }
if (smoke_run) { set label 99 "smoke profile: a few steps (this tests the pipeline, not the claim)" at graph 0.01, graph 1.03 left font ",9" tc rgb "#D55E00" }
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 font ",11" } else { set terminal svg size 960,540 dynamic font ",11" }
    set output outdir."/".figure.".".fmt
    plot for [i=0:blocks-1] file index i using 1:(k*$3):(k*$4) with filledcurves lc rgb colour(i) notitle, \
         for [i=0:blocks-1] file index i using 1:(k*$2) with lines lw 2 dt dash(i) lc rgb colour(i) title columnheader(2)
}

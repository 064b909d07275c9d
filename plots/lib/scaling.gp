# Scaling: one line per series of results/<name>_scaling.tsv (blocks separated
# by two blank lines, each headed "params<TAB>series": non-embedding
# parameters, then the test metric's mean, min and max over seeds, training
# FLOPs, tokens, and the last validation check's mean, min and max), the
# seeds' spread as error bars. Log x, as the scaling papers draw it.
# Set before loading: name, plot_title; optional: xcol (1 parameters, the
# default; 5 training FLOPs), figure, ylabel_text.
load "plots/lib/common.gp"
if (!exists("figure")) figure = name
if (!exists("xcol")) xcol = 1
file = results."/".name."_scaling.tsv"
if (!exists_file(file)) { print "plots/".figure.".gp: no ".file." yet (seqbench report writes it once the experiment has results); skipped"; exit }
blocks = int(system("awk -F'\t' '$1 == \"params\"' '".file."' | wc -l"))
if (!exists("ylabel_text")) ylabel_text = "test bits per byte (lower is better)"
set title plot_title noenhanced
set xlabel xcol == 5 ? "training FLOPs (log scale)" : "parameters without the embedding (log scale)"
set ylabel ylabel_text
set logscale x 10
set format x "10^{%T}"
set grid
set key outside right top noenhanced spacing 1.2
if (smoke_run) { set label 99 "smoke profile: a few steps (this tests the pipeline, not the claim)" at graph 0.01, graph 1.03 left font ",9" tc rgb "#D55E00" }
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 font ",11" } else { set terminal svg size 960,540 dynamic font ",11" }
    set output outdir."/".figure.".".fmt
    plot for [i=0:blocks-1] file index i using xcol:2:3:4 with yerrorlines lw 2 dt dash(i) pt point(i) ps 0.8 lc rgb colour(i) title columnheader(2)
}

# Bench series: one line per model of results/<name>_<sweep>.tsv, which
# seqbench report writes for "command": "bench" specs (blocks separated by two
# blank lines, each headed "x<TAB>series": x, tokens/s, latency ms, roofline
# fraction), or results/<name>_kernels.tsv (length, ms). Log axes.
# Set before loading: name, sweep ("batch", "context", "prefill", "length" or
# "kernels"), plot_title; optional: ycol (2 tokens/s, 3 ms per token,
# 4 roofline fraction; "kernels": 2 ms), xlabel_text, ylabel_text, logy (default 1),
# figure (the picture's name; set it when an experiment has several).
# Example, plots/mamba_decode_batch.gp:
#   name = "mamba_decode"; sweep = "batch"; figure = "mamba_decode_batch"
#   plot_title = "Decode throughput against batch (Mamba, Figure 8 right, at CPU scale)"
#   load "plots/lib/series.gp"
load "plots/lib/common.gp"
if (!exists("figure")) figure = name
file = results."/".name."_".sweep.".tsv"
if (!exists_file(file)) { print "plots/".figure.".gp: no ".file." yet (seqbench report writes it once the bench experiment has results); skipped"; exit }
if (!exists("ycol")) ycol = 2
if (!exists("logy")) logy = 1
if (!exists("xlabel_text")) xlabel_text = sweep eq "batch" ? "batch size (sequences, log scale)" : sweep eq "length" ? "generated tokens (log scale)" : sweep eq "kernels" ? "sequence length (tokens, log scale)" : "context length (tokens, log scale)"
if (!exists("ylabel_text")) ylabel_text = sweep eq "kernels" ? "time (ms, log scale)" : ycol == 2 ? "tokens/s (log scale)" : ycol == 3 ? "ms per decoded token (log scale)" : "fraction of the roofline bound"
# one header line per block
blocks = int(system("awk -F'\t' '$1 == \"x\" || $1 == \"length\"' '".file."' | wc -l"))
set title plot_title noenhanced
set ylabel ylabel_text
# a sweep that starts at 0 (an empty prefill) cannot go on a log axis
xmin = real(system("awk -F'\t' 'NF && $1 != \"x\" && $1 != \"length\" { print $1 }' '".file."' | sort -g | head -n 1"))
xt = ""
if (xmin > 0) { set logscale x 2; set format x "%.0f" } else { xlabel_text = xlabel_text[1:strstrt(xlabel_text, " (")-1] . " (tokens)"; set offsets graph 0.03, graph 0.03, 0, 0; xt = ":xtic(1)" }
set xlabel xlabel_text
if (logy && ycol != 4) { set logscale y 10 }
if (ycol == 4) { set yrange [0:*] }
set grid
set key outside right top noenhanced spacing 1.2
if (smoke_run) { set label 99 "smoke profile: single, unrepeated runs (these timings test the pipeline)" at graph 0.01, graph 1.03 left font ",9" tc rgb "#D55E00" }
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 font ",11" } else { set terminal svg size 960,540 dynamic font ",11" }
    set output outdir."/".figure.".".fmt
    plot for [i=0:blocks-1] file index i using 1:ycol@xt with linespoints lw 2 dt dash(i) pt point(i) ps 0.8 lc rgb colour(i) title columnheader(2)
}

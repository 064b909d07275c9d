# Accuracy (%) against test length: one line per cell of results/<name>.tsv
# with its min..max over seeds as error bars, and, when the spec prints the
# paper's table by length (results/<name>_paper.tsv), the paper's rows dashed
# in grey. Set before loading: name, plot_title; optional: xlabel_text,
# ylabel_text, train_len (a dotted line at the longest training length),
# paper_rows (which paper rows to draw, by number: "2 6"; default all),
# paper_cells (for each of paper_rows, the cell, by number from 1, whose
# colour its dashed line takes; default grey).
load "plots/lib/common.gp"
if (!exists("figure")) figure = name
file = results."/".name.".tsv"
if (!exists_file(file)) { print "plots/".figure.".gp: no ".file." yet (seqbench report writes it once the experiment has results); skipped"; exit }
paper = results."/".name."_paper.tsv"
cells = int((columns_of(file) - 1) / 3)
stats file using 1 nooutput
xmin = STATS_min
xmax = STATS_max
prows = 0
if (exists_file(paper)) { prows = columns_of(paper) - 1; stats paper using 1 nooutput; xmin = (STATS_min < xmin ? STATS_min : xmin); xmax = (STATS_max > xmax ? STATS_max : xmax) }
if (!exists("paper_rows")) { paper_rows = ""; do for [r=1:prows] { paper_rows = paper_rows." ".r } }
if (!exists("xlabel_text")) xlabel_text = "test length (tokens, log scale)"
if (!exists("ylabel_text")) ylabel_text = "accuracy (%)"
set title plot_title noenhanced
set xlabel xlabel_text
set ylabel ylabel_text
set logscale x 2
set xrange [xmin / 1.25 : xmax * 1.25]
# short ranges: a tic at every tested length; long ones: powers of two
if (xmax >= 4096) { set format x "2^{%L}"; xt = "" } else { set format x "%.0f"; xt = ":xtic(1)" }
set yrange [-2:105]
set ytics 0, 20, 100
set grid
set key outside right top noenhanced spacing 1.2
if (exists("train_len")) { set arrow from train_len, graph 0 to train_len, graph 1 nohead dashtype 3 lc rgb "#555555"; set label "training length" at train_len, graph 0.5 center rotate by 90 offset -0.9,0 font ",9" tc rgb "#555555" }
greys = "#7f7f7f #a0a0a0 #5a5a5a #bdbdbd #8c8c8c #4d4d4d"
if (!exists("paper_cells")) paper_cells = ""
# the k-th of paper_rows is row r: its colour is its cell's, else a grey
pos(r) = sum [k=1:words(paper_rows)] (word(paper_rows, k) == r ? k : 0)
paper_colour(r) = (pos(r) > 0 && pos(r) <= words(paper_cells)) ? colour(word(paper_cells, pos(r)) - 1) : word(greys, (r-1)%6+1)
# cells not run yet (all NaN) are left out; a cell keeps its colour either way
have = columns_with_data(file, 2)
cl = ""
do for [c=0:cells-1] { if (strstrt(" ".have, " ".(2+3*c)." ") > 0) { cl = cl." ".c } }
nc = words(cl)
if (nc == 0) { print "plots/".figure.".gp: ".file." has no figures yet; skipped"; exit }
cc(k) = word(cl, k) + 0
ours = "for [k=1:nc] file using 1:(100*column(2+3*cc(k))):(100*column(3+3*cc(k))):(100*column(4+3*cc(k)))".xt." with yerrorlines lw 2 pt 7 ps 0.8 lc rgb colour(cc(k)) title columnheader(2+3*cc(k))"
theirs = "for [r in paper_rows] paper using 1:(100*column(1+r)) with linespoints dashtype 2 lw 1.5 pt (3+r) ps 0.8 lc rgb paper_colour(r) title 'paper: '.columnheader(1+r)"
curves = (prows > 0 && words(paper_rows) > 0) ? ours.", ".theirs : ours
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 font ",11" } else { set terminal svg size 960,540 dynamic font ",11" }
    set output outdir."/".figure.".".fmt
    plot @curves
}

# A bar chart by row: results/<name><suffix>.tsv, first column the labels.
# Defaults fit <name>_bars.tsv (seqbench report writes it from a spec's
# paper_table: row, paper, ours, ours_min, ours_max) as accuracy in percent.
# Set before loading: name, plot_title; optional: suffix ("_bars", or "_cells"
# for one bar per cell, or "" for a params table), bar_cols (the columns drawn,
# "2 3"), err_for (the column whose min and max follow it, drawn as error
# bars; 0 for none), yscale (100: fractions as percent), ylabel_text,
# logy (1: log scale), bar_colours (one per bar column), fmt_value (the
# printf format of the value printed over each bar).
# A params table: suffix = ""; bar_cols = "2"; err_for = 0; yscale = 1; logy = 1.
load "plots/lib/common.gp"
if (!exists("figure")) figure = name
if (!exists("suffix")) suffix = "_bars"
file = results."/".name.suffix.".tsv"
if (!exists_file(file)) { print "plots/".figure.".gp: no ".file." yet (seqbench report writes it once the experiment has results); skipped"; exit }
if (!exists("bar_cols")) bar_cols = "2 3"
if (!exists("err_for")) err_for = 3
if (!exists("yscale")) yscale = 100
if (!exists("ylabel_text")) ylabel_text = "accuracy (%)"
if (!exists("bar_colours")) bar_colours = "#9a9a9a #0072B2 #D55E00 #009E73"
if (!exists("fmt_value")) fmt_value = (yscale == 100 ? "%.1f" : "%.4g")
nb = words(bar_cols)
# a missing figure (NaN: a row the paper prints but we do not run) draws as
# nothing: below the axis, where gnuplot clips it without a warning
miss = (exists("logy") && logy) ? 1e-300 : -1e9
val(c) = (column(c) == column(c)) ? yscale * column(c) : miss
lab(c) = (column(c) == column(c)) ? sprintf(fmt_value, yscale * column(c)) : ""
w = 0.8 / nb
# the error bars sit on the bar of column err_for; skip 1 as for the values: without a
# columnheader title the header line counts as a record and would shift them one group right
ek = sum [k=1:nb] (word(bar_cols, k) + 0 == err_for ? k : 0)
set title plot_title noenhanced
set ylabel ylabel_text
set style fill solid 0.75 border -1
set boxwidth w
set xtics rotate by 30 right noenhanced nomirror
set grid ytics
set key outside right top noenhanced
if (nb == 1) { unset key }
if (exists("logy") && logy) { set logscale y } else { set yrange [0:*] }
if (yscale == 100 && !(exists("logy") && logy)) { set yrange [0:105] }
stats file skip 1 using 0 nooutput
set xrange [-0.6 : STATS_max + 0.6]
# room under the axis for the longest label, slanted at 30 degrees (about a
# quarter of a line per character), and 60 pixels a group past 12 groups
longest = int(system("awk -F'\t' 'NR > 1 && length($1) > m { m = length($1) } END { print m + 0 }' '".file."'"))
set bmargin 1.5 + longest / 4.0
px_wide = (STATS_max + 1 > 12) ? 240 + 60 * (STATS_max + 1) : 960
labels = "file skip 1 using 0:(-1e9):xtic(1) with points pt 7 ps 0 notitle"
bars = "for [k=1:nb] file using ($0 - 0.4 + w*(k-0.5)):(val(word(bar_cols,k)+0)) with boxes lc rgb word(bar_colours, k) title columnheader(word(bar_cols,k)+0)"
values = "for [k=1:nb] file skip 1 using ($0 - 0.4 + w*(k-0.5)):(val(word(bar_cols,k)+0)):(lab(word(bar_cols,k)+0)) with labels offset 0,0.6 font ',8' notitle"
errors = "file skip 1 using ($0 - 0.4 + w*(ek-0.5)):(column(err_for+1) < column(err_for+2) ? yscale*column(err_for) : miss):(val(err_for+1)):(val(err_for+2)) with yerrorbars lc rgb 'black' pt -1 notitle"
# labels once, centred under each group; error bars only where the seeds differ
curves = labels.", ".bars.", ".values.(ek > 0 ? ", ".errors : "")
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size px_wide,540 font ",11" } else { set terminal svg size px_wide,540 dynamic font ",11" }
    set output outdir."/".figure.".".fmt
    plot @curves
}

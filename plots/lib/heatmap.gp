# A heatmap per cell of results/<name>_grid.tsv (seqbench report writes it for
# needle experiments: length index, depth index, length, depth, then one
# accuracy column per cell), side by side: context length across, needle depth
# up, accuracy (%) as colour and printed in each square. Set before loading: name, plot_title; optional:
# grid_suffix (default "_grid"), cbar_text.
load "plots/lib/common.gp"
if (!exists("grid_suffix")) grid_suffix = "_grid"
if (!exists("figure")) figure = name.grid_suffix
file = results."/".name.grid_suffix.".tsv"
if (!exists_file(file)) { print "plots/".figure.".gp: no ".file." yet (seqbench report writes it for needle experiments with results); skipped"; exit }
if (!exists("cbar_text")) cbar_text = "accuracy (%)"
header = system("head -n 1 '".file."'")
# one panel per cell that has figures (a cell not run yet gets none)
have = columns_with_data(file, 5)
cells = words(have)
if (cells == 0) { print "plots/".figure.".gp: ".file." has no figures yet; skipped"; exit }
col(c) = word(have, c) + 0
lengths = system("awk -F'\t' 'NR > 1 && NF { print $3 }' '".file."' | sort -n -u | tr '\\n' ' '")
depths = system("awk -F'\t' 'NR > 1 && NF { print $4 }' '".file."' | sort -n -u | tr '\\n' ' '")
nl = words(lengths)
nd = words(depths)
set palette defined (0 "#f7fbff", 0.5 "#6baed6", 1 "#08306b")
set cbrange [0:100]
set xrange [-0.5 : nl - 0.5]
set yrange [-0.5 : nd - 0.5]
set xtics () font ",9"
do for [i=1:nl] { set xtics add (word(lengths, i) i - 1) }
set ytics ()
do for [j=1:nd] { set ytics add (word(depths, j) j - 1) }
set tics out nomirror
unset key
do for [fmt in "png svg"] {
    w = cells < 2 ? 800 : 380 * cells + 160
    if (fmt eq "png") { set terminal pngcairo size w,520 font ",11" } else { set terminal svg size w,520 dynamic font ",11" }
    set output outdir."/".figure.".".fmt
    set multiplot layout 1, cells title plot_title noenhanced
    do for [c=1:cells] {
        set title word(header, col(c)) noenhanced
        set xlabel "context length (tokens)"
        if (c == 1) { set ylabel "needle depth (0 = start)" } else { unset ylabel }
        if (c == cells) { set colorbox; set cblabel cbar_text } else { unset colorbox }
        plot file using 1:2:(100*column(col(c))) with image, \
             file using 1:2:(column(col(c)) < 0.6 ? sprintf("%.0f", 100*column(col(c))) : "") with labels font ",8" tc rgb "#333333", \
             file using 1:2:(column(col(c)) >= 0.6 ? sprintf("%.0f", 100*column(col(c))) : "") with labels font ",8" tc rgb "#ffffff"
    }
    unset multiplot
}

# String accuracy vs test length for each cell of experiments/copy_length.json.
# Data: results/copy_length.tsv (seqbench report). Run from the repository root.
set datafile separator "\t"
# one mean/min/max triple of columns per cell that has results
stats "results/copy_length.tsv" skip 1 nooutput
cells = int((STATS_columns - 1) / 3)
set key bottom left noenhanced
set xlabel "string length n (trained on 1..16)"
set ylabel "string accuracy (held out)"
set yrange [0:1.05]
set grid
set arrow from 16, graph 0 to 16, graph 1 nohead dashtype 2
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 800,500 } else { set terminal svg size 800,500 }
    set output "plots/copy_length.".fmt
    plot for [c=0:cells-1] "results/copy_length.tsv" using 1:(column(2+3*c)):(column(3+3*c)):(column(4+3*c)) \
         with yerrorlines title columnheader(2+3*c)
}

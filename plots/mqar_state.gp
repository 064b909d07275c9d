# Zoology Fig. 2 at CPU scale: MQAR token accuracy against d_model, one panel
# per (length, key-value pairs) setting, one line per model, min..max over
# seeds as error bars. A cell is named MODEL_l<length>_d<width> and scored at
# its own length; cells named otherwise are left out.
# Data: results/mqar_state_cells.tsv (seqbench report).
load "plots/lib/common.gp"
name = "mqar_state"
figure = name
file = results."/".name."_cells.tsv"
if (!exists_file(file)) { print "plots/".figure.".gp: no ".file." yet (seqbench report writes it once the experiment has results); skipped"; exit }
# one row per sweep cell: model, length, width, mean, min, max (accuracy in %)
rows = "awk -F'\t' 'NR == 1 { for (i = 3; i <= NF; i += 3) col[$i] = i; next } match($1, /_l[0-9]+_d[0-9]+$/) { m = substr($1, 1, RSTART - 1); split(substr($1, RSTART + 2), p, \"_d\"); c = col[p[1]]; if (c && $c != \"NaN\") printf \"%s\\t%s\\t%s\\t%g\\t%g\\t%g\\n\", m, p[1], p[2], 100 * $c, 100 * $(c + 1), 100 * $(c + 2) }' '".file."'"
models = system(rows." | cut -f1 | awk '!seen[$0]++' | tr '\\n' ' '")
lengths = system(rows." | cut -f2 | sort -n -u | tr '\\n' ' '")
widths = system(rows." | cut -f3 | sort -n -u | tr '\\n' ' '")
if (words(models) == 0) { print "plots/".figure.".gp: ".file." has no sweep cells (MODEL_l<length>_d<width>) yet; skipped"; exit }
# the sweep's settings are Zoology's, length / 16 pairs: (64, 4), (128, 8), (256, 16)
set logscale x 2
set format x "%.0f"
set xlabel "d_model (log scale)" noenhanced
set xrange [word(widths, 1) / 1.4 : word(widths, words(widths)) * 1.4]
set xtics ()
do for [w in widths] { set xtics add (w w) }
set ylabel "token accuracy on the values (%)"
set yrange [-2:105]
set ytics 0, 20, 100
set grid
set key bottom right noenhanced
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 480 * words(lengths) + 160, 560 font ",10"; set output outdir."/".figure.".png" }
    if (fmt eq "svg") { set terminal svg size 480 * words(lengths) + 160, 560 font "sans,10" dynamic; set output outdir."/".figure.".svg" }
    set multiplot layout 1, words(lengths) title "Multi-query associative recall against width (Zoology, Figure 2 is a plot)" noenhanced
    do for [L in lengths] {
        set title sprintf("%s tokens, %d key-value pairs", L, (L + 0) / 16) noenhanced
        # the models this panel has, each in its colour from the whole list
        here = system(rows." | awk -F'\t' -v L=".L." '$2 == L { print $1 }' | awk '!seen[$0]++' | tr '\\n' ' '")
        ks = ""
        do for [k=1:words(models)] { if (strstrt(" ".here, " ".word(models, k)." ") > 0) { ks = ks." ".k } }
        plot for [k in ks] "< ".rows." | awk -F'\t' -v m=".word(models, k + 0)." -v L=".L." '$1 == m && $2 == L' | sort -t'\t' -k3 -n" \
            using 3:4:5:6 with yerrorlines lw 2 pt (word("7 5 9 13 11 7", k + 0) + 0) ps 1.1 lc rgb colour(k - 1) title word(models, k + 0)
    }
    unset multiplot
}

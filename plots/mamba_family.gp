# Mamba: parameters, the paper's printed size beside our exact count
# (seqbench params of the shipped configs).
# Data: results/mamba_family_bars.tsv (seqbench report: row, paper, ours).
name = "mamba_family"
plot_title = "Parameters, Mamba: the paper's printed size beside our exact count"
ylabel_text = "parameters (billions, log scale)"
bar_cols = "2 3"
err_for = 0
yscale = 1
logy = 1
set yrange [0.05:6]
fmt_value = "%.3g"
load "plots/lib/bars.gp"

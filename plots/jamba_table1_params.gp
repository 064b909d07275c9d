# Jamba Table 1: total parameters, the paper's printed figure beside ours
# (exact counts of the shipped configs, seqbench params).
# Data: results/jamba_table1_bars.tsv (seqbench report: row, paper, ours).
name = "jamba_table1"
figure = "jamba_table1_params"
plot_title = "Parameters (Jamba, Table 1): the paper's printed figure beside our exact count"
ylabel_text = "parameters (billions)"
bar_cols = "2 3"
err_for = 0
yscale = 1
fmt_value = "%.4g"
load "plots/lib/bars.gp"

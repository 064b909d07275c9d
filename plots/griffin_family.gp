# MQA Transformer, Hawk and Griffin: parameters, the paper's printed size beside our exact count
# (seqbench params of the shipped configs).
# Data: results/griffin_family_bars.tsv (seqbench report: row, paper, ours).
name = "griffin_family"
plot_title = "Parameters: Griffin Table 2 sizes (MQA, Hawk: Table 1 names) beside our exact count"
ylabel_text = "parameters (billions, log scale)"
bar_cols = "2 3"
err_for = 0
yscale = 1
logy = 1
set yrange [0.05:40]
fmt_value = "%.2g"
load "plots/lib/bars.gp"

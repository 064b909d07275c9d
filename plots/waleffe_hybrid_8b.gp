# The 8B Mamba-2-Hybrid: the paper's "8B" beside our exact count (the
# pattern itself is checked exactly in the report's verdicts).
# Data: results/waleffe_hybrid_8b_bars.tsv (seqbench report: row, paper, ours).
name = "waleffe_hybrid_8b"
plot_title = "Mamba-2-Hybrid 8B: the paper's size beside our count (256K tied vocabulary assumed)"
ylabel_text = "parameters (billions)"
bar_cols = "2 3"
err_for = 0
yscale = 1
fmt_value = "%.3g"
load "plots/lib/bars.gp"

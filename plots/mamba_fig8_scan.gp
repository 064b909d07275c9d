# Mamba Figure 8 (left) at CPU scale: time of the selective scan and of one
# causal attention layer against sequence length, forward and
# forward+backward, batch 1; log-log (a slope of 1 is linear, 2 quadratic).
# Data: results/mamba_fig8_scan_kernels.tsv (seqbench report).
name = "mamba_fig8_scan"
sweep = "kernels"
plot_title = "Scan vs attention time against length (Mamba, Figure 8 left, at CPU scale; batch 1)"
load "plots/lib/series.gp"

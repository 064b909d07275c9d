# Jamba Figure 3 (throughput against context) at CPU scale: batch 1, a
# one-block Jamba and a Mixtral-like attention + MoE stack of equal size (100M).
# Data: results/jamba_fig3_throughput_context.tsv (seqbench report).
name = "jamba_fig3_throughput"
sweep = "context"
figure = "jamba_fig3_throughput_context"
plot_title = "Decode throughput against context at batch 1, Jamba-like vs Mixtral-like (Jamba, Figure 3, at CPU scale)"
load "plots/lib/series.gp"

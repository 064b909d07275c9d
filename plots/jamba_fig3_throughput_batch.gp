# Jamba Figure 3 (throughput against batch) at CPU scale: a one-block Jamba
# and a Mixtral-like attention + MoE stack of equal size (100M), context 2048.
# Data: results/jamba_fig3_throughput_batch.tsv (seqbench report).
name = "jamba_fig3_throughput"
sweep = "batch"
figure = "jamba_fig3_throughput_batch"
plot_title = "Decode throughput against batch at context 512, Jamba-like vs Mixtral-like (Jamba, Figure 3, at CPU scale)"
load "plots/lib/series.gp"

# Mamba Figure 8 (right) at CPU scale: decode throughput against batch,
# Mamba-130M and a 124M Llama-style Transformer; prompt 1024, 16 steps.
# Data: results/mamba_fig8_throughput_batch.tsv (seqbench report).
name = "mamba_fig8_throughput"
sweep = "batch"
plot_title = "Decode throughput against batch, Mamba vs Transformer of equal size (Mamba, Figure 8 right, at CPU scale)"
load "plots/lib/series.gp"

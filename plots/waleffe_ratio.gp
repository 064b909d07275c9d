# Waleffe et al.'s attention-ratio question at CPU scale: needle retrieval
# (mean over depths) against context length for Mamba-2 hybrids of 8 layers
# with 0, 1 and 4 attention layers; trained at 32-64.
# Data: results/waleffe_ratio.tsv (seqbench report).
name = "waleffe_ratio"
plot_title = "Mamba-2-Hybrid attention ratio: needle retrieval with 0 to 50% attention layers (Waleffe et al. 2024, Section 3.2)"
xlabel_text = "context length (tokens, log scale; trained at 32..64)"
ylabel_text = "string accuracy of the value (%)"
train_len = 64
load "plots/lib/accuracy.gp"

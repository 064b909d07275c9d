# Needle in a haystack (Jamba Fig. 4 is a plot): string accuracy against
# context length, the mean over needle depths, per cell; trained at 32-64.
# The depth x length matrix is plots/needle_cpu_grid.gp.
# Data: results/needle_cpu.tsv (seqbench report).
name = "needle_cpu"
plot_title = "Needle in a haystack, mean over depths (Jamba, Figure 4 is a plot)"
xlabel_text = "context length (tokens, log scale; trained at 32..64)"
ylabel_text = "string accuracy of the value (%)"
train_len = 64
load "plots/lib/accuracy.gp"

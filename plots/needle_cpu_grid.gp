# Needle in a haystack as Jamba's Figure 4 draws it: string accuracy for each
# context length and needle depth, one heatmap per cell (trained at 32-64).
# Data: results/needle_cpu_grid.tsv (seqbench report).
name = "needle_cpu"
plot_title = "Needle in a haystack by depth and context length (Jamba, Figure 4; trained at 32..64 tokens)"
cbar_text = "string accuracy (%)"
load "plots/lib/heatmap.gp"

# Copying (Jelassi et al. 2024; Griffin §6.2): string accuracy against string
# length for each cell, min..max over seeds; trained on lengths 1..16.
# Data: results/copy_length.tsv (seqbench report).
name = "copy_length"
plot_title = "Copying at and beyond the training length (Jelassi et al. 2024, Figures 1-3 are plots)"
xlabel_text = "string length n (tokens, log scale; trained on 1..16)"
ylabel_text = "string accuracy, held out (%)"
train_len = 16
load "plots/lib/accuracy.gp"

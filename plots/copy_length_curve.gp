# Copying (Jelassi et al. 2024, Figure 2; Griffin §6.2): validation string
# accuracy against training steps per architecture, min..max over seeds;
# the steps-to-threshold claims read these curves.
# Data: results/copy_length_curve.tsv (seqbench report).
name = "copy_length"
plot_title = "Copying: how fast each architecture learns (validation strings of the training length)"
threshold = 0.8
load "plots/lib/curve.gp"

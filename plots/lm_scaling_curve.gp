# Language modelling at CPU scale: validation bits per byte against training
# steps, one line per cell (architecture and size), min..max over seeds.
# Data: results/lm_scaling_curve.tsv (seqbench report).
name = "lm_scaling"
percent = 0
plot_title = "Language modelling: validation bits per byte during training"
load "plots/lib/curve.gp"

# Language modelling at CPU scale (Mamba Figure 4, Griffin Figure 1a): test
# bits per byte against training FLOPs, one line per architecture, sizes
# along each line, seeds' min..max as error bars.
# Data: results/lm_scaling_scaling.tsv (seqbench report).
name = "lm_scaling"
xcol = 5
plot_title = "Test bits per byte against training compute (Mamba Fig. 4, Griffin Fig. 1a, at CPU scale)"
load "plots/lib/scaling.gp"

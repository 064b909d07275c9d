# Language modelling at CPU scale: test bits per byte against parameters
# (without the embedding), one line per architecture, seeds' min..max as
# error bars. Data: results/lm_scaling_scaling.tsv (seqbench report).
name = "lm_scaling"
figure = "lm_scaling_params"
plot_title = "Language modelling: test bits per byte against parameters (at CPU scale)"
load "plots/lib/scaling.gp"

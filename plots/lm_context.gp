# Language modelling past the training length (Griffin §6.1, at CPU scale):
# test bits per byte against the position in 1024-byte windows of six
# architectures trained on 128-byte windows; min..max over seeds as a band.
# Data: results/lm_context_position.tsv (seqbench report).
name = "lm_context"
train_len = 128
plot_title = "Language modelling past the training length: bits per byte against position (Griffin §6.1, at CPU scale)"
load "plots/lib/position.gp"

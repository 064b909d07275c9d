# Griffin Figure 1(b) at CPU scale: tokens/s sampling N tokens after an empty
# prompt at batch 16, MQA Transformer, Hawk and Griffin of equal size.
# Data: results/griffin_fig1b_throughput_length.tsv (seqbench report).
name = "griffin_fig1b_throughput"
sweep = "length"
plot_title = "Throughput against sample length at batch 16, MQA vs Hawk vs Griffin (Griffin, Figure 1b, at CPU scale)"
xlabel_text = "tokens sampled after an empty prompt (log scale)"
load "plots/lib/series.gp"

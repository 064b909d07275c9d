# Griffin Figure 4 at CPU scale: time per decode step at batch 16 against the
# prefill length (0 = an empty prompt), MQA Transformer, Hawk and Griffin of
# equal size (the 100M rows of Table 2).
# Data: results/griffin_fig4_latency_prefill.tsv (seqbench report).
name = "griffin_fig4_latency"
sweep = "prefill"
ycol = 3
plot_title = "Decode latency against prefill at batch 16, MQA vs Hawk vs Griffin (Griffin, Figure 4, at CPU scale)"
xlabel_text = "prefill length (tokens)"
load "plots/lib/series.gp"

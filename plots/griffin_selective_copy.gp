# Griffin §6.2 at CPU scale: selective copying, token accuracy on the data
# tokens against test length for the MQA Transformer, Hawk and Griffin of
# equal size after equal steps; trained at 64 noise tokens.
# Data: results/griffin_selective_copy.tsv (seqbench report).
name = "griffin_selective_copy"
plot_title = "Selective copying: MQA Transformer, Hawk, Griffin after equal steps (Griffin paper, Section 6.2)"
xlabel_text = "noise tokens (log scale; trained at 64)"
ylabel_text = "token accuracy on the data tokens (%)"
train_len = 64
load "plots/lib/accuracy.gp"

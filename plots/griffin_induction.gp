# Griffin §6.2 at CPU scale: induction heads, token accuracy on the answer
# against test length for the MQA Transformer, Hawk and Griffin of equal size;
# trained at 64 tokens.
# Data: results/griffin_induction.tsv (seqbench report).
name = "griffin_induction"
plot_title = "Induction heads beyond the training length: MQA Transformer, Hawk, Griffin (Griffin paper, Section 6.2)"
xlabel_text = "sequence length (tokens, log scale; trained at 64)"
ylabel_text = "token accuracy on the answer (%)"
train_len = 64
load "plots/lib/accuracy.gp"

# Mamba Table 2 at CPU scale: token accuracy against test length, trained at 256;
# the paper's MHA-RoPE and Mamba rows dashed in the colour of our cell.
# Data: results/induction_cpu.tsv and results/induction_cpu_paper.tsv (seqbench report).
name = "induction_cpu"
plot_title = "Induction heads, trained at 2^8 (Mamba paper, Table 2; dashed: the paper's figures)"
ylabel_text = "token accuracy on the answer (%)"
train_len = 256
paper_rows = "2 6"
paper_cells = "2 1"
load "plots/lib/accuracy.gp"

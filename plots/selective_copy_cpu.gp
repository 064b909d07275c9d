# Mamba Table 1 at CPU scale: the paper's accuracy for every row beside ours
# for the two rows we run (the Mamba block with S6 and with an LTI layer).
# Data: results/selective_copy_cpu_bars.tsv (seqbench report).
name = "selective_copy_cpu"
plot_title = "Selective copying (Mamba paper, Table 1): the paper at length 4096 (grey) beside ours at 128 (blue)"
ylabel_text = "accuracy (%)"
load "plots/lib/bars.gp"

# Zoology Fig. 2 at CPU scale, one point of its sweep (64 tokens, 4 key-value
# pairs): token accuracy of each cell at equal parameters, min..max over seeds.
# Data: results/mqar_state_cells.tsv (seqbench report).
name = "mqar_state"
plot_title = "Multi-query associative recall at 64 tokens, equal parameters (Zoology, Figure 2 is a plot)"
ylabel_text = "token accuracy on the values (%)"
suffix = "_cells"
bar_cols = "3"
err_for = 3
bar_colours = "#0072B2"
load "plots/lib/bars.gp"

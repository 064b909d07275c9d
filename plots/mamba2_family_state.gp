# Mamba-2: decode state per sequence (fp32, any context), ours alone (the paper prints
# none), from seqbench params; log scale.
# Data: results/mamba2_family.tsv (seqbench report: cell, total, active, state_bytes, kv_cache_bytes).
name = "mamba2_family"
figure = "mamba2_family_state"
plot_title = "Decode state per sequence, Mamba-2 (fp32, any context; ours alone)"
ylabel_text = "state per sequence (MiB, log scale)"
suffix = ""
bar_cols = "4"
err_for = 0
yscale = 1.0 / 1048576
logy = 1
fmt_value = "%.3g"
load "plots/lib/bars.gp"

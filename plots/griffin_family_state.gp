# MQA Transformer, Hawk and Griffin: decode state per sequence (bf16, 4096 tokens; _64k: 65536), ours alone (the paper prints
# none), from seqbench params; log scale.
# Data: results/griffin_family.tsv (seqbench report: cell, total, active, state_bytes, kv_cache_bytes).
name = "griffin_family"
figure = "griffin_family_state"
plot_title = "Decode state per sequence (bf16, at 4096 tokens; cells *_64k at 65536; ours alone)"
ylabel_text = "state per sequence (MiB, log scale)"
suffix = ""
bar_cols = "4"
err_for = 0
yscale = 1.0 / 1048576
logy = 1
fmt_value = "%.3g"
load "plots/lib/bars.gp"

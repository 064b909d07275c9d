# Jamba Table 1: the KV cache each model keeps at 256K tokens in 16 bits,
# exact from the shipped configs (seqbench params), log scale.
# Data: results/jamba_table1.tsv (seqbench report: cell, total, active,
# state_bytes, kv_cache_bytes).
name = "jamba_table1"
plot_title = "KV cache at 256K tokens, 16-bit (Jamba, Table 1; ours = the paper's to the byte)"
ylabel_text = "KV cache (GiB = 2^{30} bytes, log scale)"
suffix = ""
bar_cols = "5"
err_for = 0
yscale = 1.0 / 1073741824
logy = 1
fmt_value = "%.0f GiB"
load "plots/lib/bars.gp"

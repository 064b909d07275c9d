"""Golden reference outputs for the Llama (LlamaForCausalLM) forward pass.

This script writes small random Llama checkpoints in Hugging Face layout
(config.json + model.safetensors) together with a token sequence and the
float64 reference logits for every position.  The C implementation in seqbench
is tested against these files.

It is an independent implementation written directly from the equations of
Hugging Face `LlamaForCausalLM` (RMSNorm with multiplicative weight, rotate-half
RoPE, grouped-query causal attention, SiLU-gated MLP, optional tied lm_head).
It does NOT import `transformers`; it needs only torch (CPU) and numpy.  The
safetensors files are written and read by hand (scripts/golden/safetensors_io.py).

The logits are computed in float64 from the exact weights stored in the file
(i.e. after rounding to F32 / BF16 / F16), so the stored numbers are the ground
truth for that checkpoint.  RoPE angles are computed in float64 too (Hugging
Face itself computes inv_freq/cos/sin in float32, so an fp32 HF run differs
from these values at the ~1e-6 relative level).

Output, one directory per case under OUTPUT_ROOT:
    llama_<case>/config.json        Hugging Face LlamaConfig keys
    llama_<case>/model.safetensors  weights (F32, BF16 or F16)
    llama_<case>/tokens.json        JSON array of token ids
    llama_<case>/logits.json        {"logits": [[V floats] per position]}, 17 sig. digits

Rerun (deterministic, byte-identical output):
    /usr/bin/python3 scripts/golden/llama_reference.py tests/golden
"""

import filecmp
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, round_to_dtype, write_safetensors  # noqa: E402

TORCH_DTYPE_NAME = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}

CASES = [
    dict(name="llama_gqa", seed=1001, vocab=37, hidden=32, inter=48, layers=2,
         heads=4, kv_heads=2, head_dim=8, theta=10000.0, eps=1e-5, tied=False,
         dtype="F32", n_tokens=12),
    dict(name="llama_mqa_tied", seed=1002, vocab=29, hidden=24, inter=40, layers=3,
         heads=3, kv_heads=1, head_dim=8, theta=500000.0, eps=1e-6, tied=True,
         dtype="F32", n_tokens=16),
    dict(name="llama_mha_headdim", seed=1003, vocab=41, hidden=32, inter=64, layers=2,
         heads=4, kv_heads=4, head_dim=16, theta=10000.0, eps=1e-5, tied=False,
         dtype="F32", n_tokens=10),
    # Same config, seed and tokens as llama_gqa; only the storage dtype differs.
    dict(name="llama_gqa_bf16", seed=1001, vocab=37, hidden=32, inter=48, layers=2,
         heads=4, kv_heads=2, head_dim=8, theta=10000.0, eps=1e-5, tied=False,
         dtype="BF16", n_tokens=12),
    dict(name="llama_gqa_f16", seed=1001, vocab=37, hidden=32, inter=48, layers=2,
         heads=4, kv_heads=2, head_dim=8, theta=10000.0, eps=1e-5, tied=False,
         dtype="F16", n_tokens=12),
]

# Weight scales: Linear weights ~ N(0, (gain / sqrt(fan_in))^2).
GAIN = {"q_proj": 1.5, "k_proj": 1.5, "v_proj": 1.0, "o_proj": 1.0,
        "gate_proj": 1.5, "up_proj": 1.0, "down_proj": 1.0, "lm_head": 2.0}
EMBED_STD = 1.0
NORM_STD = 0.2  # norm weights = 1 + NORM_STD * N(0, 1)


# ----------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------

def make_config(c):
    """config.json contents, keys as Hugging Face LlamaConfig writes them."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": c["vocab"],
        "hidden_size": c["hidden"],
        "intermediate_size": c["inter"],
        "num_hidden_layers": c["layers"],
        "num_attention_heads": c["heads"],
        "num_key_value_heads": c["kv_heads"],
        "head_dim": c["head_dim"],
        "hidden_act": "silu",
        "max_position_embeddings": 128,
        "rms_norm_eps": c["eps"],
        "rope_theta": c["theta"],
        "rope_scaling": None,
        "tie_word_embeddings": c["tied"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "pretraining_tp": 1,
        "initializer_range": 0.02,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "use_cache": True,
        "torch_dtype": TORCH_DTYPE_NAME[c["dtype"]],
    }


def head_dim_of(cfg):
    if cfg.get("head_dim") is not None:
        return cfg["head_dim"]
    return cfg["hidden_size"] // cfg["num_attention_heads"]


# ----------------------------------------------------------------------------
# Random weights and tokens
# ----------------------------------------------------------------------------

def make_weights(cfg, seed):
    """Random float32 weights {name: np.float32 array}, generated in a fixed order.

    Sampling is done in float64 (scalar torch path, independent of CPU SIMD
    features) and then cast to float32.
    """
    g = torch.Generator().manual_seed(seed)
    V, D, I = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    H, G, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)

    def normal(shape, std, mean=0.0):
        t = torch.randn(*shape, generator=g, dtype=torch.float64) * std + mean
        return t.to(torch.float32).numpy()

    def linear(out_f, in_f, kind):
        return normal((out_f, in_f), GAIN[kind] / math.sqrt(in_f))

    w = {"model.embed_tokens.weight": normal((V, D), EMBED_STD)}
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        w[p + "input_layernorm.weight"] = normal((D,), NORM_STD, 1.0)
        w[p + "self_attn.q_proj.weight"] = linear(H * d, D, "q_proj")
        w[p + "self_attn.k_proj.weight"] = linear(G * d, D, "k_proj")
        w[p + "self_attn.v_proj.weight"] = linear(G * d, D, "v_proj")
        w[p + "self_attn.o_proj.weight"] = linear(D, H * d, "o_proj")
        w[p + "post_attention_layernorm.weight"] = normal((D,), NORM_STD, 1.0)
        w[p + "mlp.gate_proj.weight"] = linear(I, D, "gate_proj")
        w[p + "mlp.up_proj.weight"] = linear(I, D, "up_proj")
        w[p + "mlp.down_proj.weight"] = linear(D, I, "down_proj")
    w["model.norm.weight"] = normal((D,), NORM_STD, 1.0)
    # Always drawn (keeps the random stream identical); only stored if untied.
    lm_head = linear(V, D, "lm_head")
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = lm_head
    return w


def make_tokens(vocab, n, seed):
    """Random token ids with at least one repeated token."""
    g = torch.Generator().manual_seed(seed + 7919)
    toks = torch.randint(0, vocab, (n,), generator=g).tolist()
    if len(set(toks)) == len(toks):
        toks[n - 1] = toks[n // 3]
    return [int(t) for t in toks]


# ----------------------------------------------------------------------------
# The model (float64), written from the equations
# ----------------------------------------------------------------------------

def rms_norm(x, weight, eps):
    """x / sqrt(mean(x^2) + eps) * weight   (over the last dim)."""
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * weight


def rope_cos_sin(n_pos, d, theta):
    """cos/sin tables [n_pos, d] for positions 0..n_pos-1 (halves duplicated)."""
    i = torch.arange(d // 2, dtype=torch.float64)
    inv_freq = theta ** (-2.0 * i / d)
    pos = torch.arange(n_pos, dtype=torch.float64)
    angles = pos[:, None] * inv_freq[None, :]          # [T, d/2]
    angles = torch.cat([angles, angles], dim=-1)      # [T, d]
    return torch.cos(angles), torch.sin(angles)


def rotate_half(x):
    """[x1, x2] -> [-x2, x1] with x1/x2 the first/second half of the last dim."""
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def rope(x, cos, sin):
    """Apply rotary embedding; x is [heads, T, d], cos/sin are [T, d]."""
    return x * cos + rotate_half(x) * sin


def attention(x, w, p, cfg):
    """Causal grouped-query self-attention of one layer; x is [T, D]."""
    T = x.shape[0]
    H, G, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
    q = x @ w[p + "self_attn.q_proj.weight"].T                 # [T, H*d]
    k = x @ w[p + "self_attn.k_proj.weight"].T                 # [T, G*d]
    v = x @ w[p + "self_attn.v_proj.weight"].T                 # [T, G*d]
    q = q.reshape(T, H, d).transpose(0, 1)                     # [H, T, d]
    k = k.reshape(T, G, d).transpose(0, 1)                     # [G, T, d]
    v = v.reshape(T, G, d).transpose(0, 1)                     # [G, T, d]
    cos, sin = rope_cos_sin(T, d, cfg["rope_theta"])
    q = rope(q, cos, sin)
    k = rope(k, cos, sin)
    kv_of_head = torch.arange(H) // (H // G)                   # query head h -> kv head
    k = k[kv_of_head]                                          # [H, T, d]
    v = v[kv_of_head]
    scores = q @ k.transpose(1, 2) / math.sqrt(d)              # [H, T, T]
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(future, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = probs @ v                                            # [H, T, d]
    out = out.transpose(0, 1).reshape(T, H * d)
    return out @ w[p + "self_attn.o_proj.weight"].T            # [T, D]


def silu(x):
    return x * torch.sigmoid(x)


def mlp(x, w, p):
    gate = x @ w[p + "mlp.gate_proj.weight"].T
    up = x @ w[p + "mlp.up_proj.weight"].T
    return (silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T


def decoder_layer(x, w, i, cfg):
    p = "model.layers.%d." % i
    eps = cfg["rms_norm_eps"]
    h = x + attention(rms_norm(x, w[p + "input_layernorm.weight"], eps), w, p, cfg)
    return h + mlp(rms_norm(h, w[p + "post_attention_layernorm.weight"], eps), w, p)


def forward(tokens, w, cfg):
    """Logits [T, V] (float64) for the token sequence (positions 0..T-1)."""
    x = w["model.embed_tokens.weight"][torch.tensor(tokens, dtype=torch.long)]
    for i in range(cfg["num_hidden_layers"]):
        x = decoder_layer(x, w, i, cfg)
    x = rms_norm(x, w["model.norm.weight"], cfg["rms_norm_eps"])
    if cfg["tie_word_embeddings"]:
        head = w["model.embed_tokens.weight"]
    else:
        head = w["lm_head.weight"]
    return x @ head.T


def to_float64(tensors):
    return {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in tensors.items()}


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------

def format_logits(logits):
    rows = []
    for row in logits.tolist():
        rows.append("  [" + ", ".join(format(float(v), ".17g") for v in row) + "]")
    return '{"logits": [\n' + ",\n".join(rows) + "\n]}\n"


def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def config_json(cfg):
    """config.json text: the config dict as is, indented."""
    return json.dumps(cfg, indent=2) + "\n"


def write_case(root, c, make_config, make_weights, forward, config_text, dtype="F32"):
    """Writes one golden case under root/<name>: config.json, weights stored as
    `dtype`, tokens.json, and logits.json computed by `forward` from the weights
    as read back from the file (so the reference sees exactly what seqbench
    loads). Shared by every *_reference.py; returns (cfg, weights, tokens, logits)."""
    cfg = make_config(c)
    out = os.path.join(root, c["name"])
    os.makedirs(out, exist_ok=True)
    weights = make_weights(cfg, c["seed"])
    tokens = make_tokens(cfg["vocab_size"], c["n_tokens"], c["seed"])
    st_path = os.path.join(out, "model.safetensors")
    write_safetensors(st_path, weights, dtype=dtype)
    stored, _ = read_safetensors(st_path)
    logits = forward(tokens, to_float64(stored), cfg)
    write_text(os.path.join(out, "config.json"), config_text(cfg))
    write_text(os.path.join(out, "tokens.json"), json.dumps(tokens) + "\n")
    write_text(os.path.join(out, "logits.json"), format_logits(logits))
    return cfg, weights, tokens, logits


def generate_case(root, c):
    return write_case(root, c, make_config, make_weights, forward, config_json, c["dtype"])


# ----------------------------------------------------------------------------
# Self-checks
# ----------------------------------------------------------------------------

def check_safetensors_roundtrip(path, weights, dtype, cfg):
    stored, header = read_safetensors(path)
    assert header["__metadata__"] == {"format": "pt"}
    assert set(stored) == set(weights), "tensor names differ"
    if cfg["tie_word_embeddings"]:
        assert "lm_head.weight" not in stored
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
    assert (8 + n) % 8 == 0, "data section not 8-byte aligned"
    # data laid out contiguously in sorted-name order
    offset = 0
    for name in sorted(stored):
        b, e = header[name]["data_offsets"]
        assert b == offset, name
        offset = e
    for name, a in weights.items():
        s = stored[name]
        assert header[name]["dtype"] == dtype
        assert list(s.shape) == list(a.shape), name
        expect = round_to_dtype(a, dtype)
        assert np.array_equal(np.asarray(s, dtype=np.float32).view(np.uint32),
                              expect.view(np.uint32)), name
        # cross-check rounding against torch's own conversions
        t = torch.from_numpy(np.ascontiguousarray(a))
        if dtype == "BF16":
            ref = t.to(torch.bfloat16).to(torch.float32).numpy()
        elif dtype == "F16":
            ref = t.to(torch.float16).to(torch.float32).numpy()
        else:
            ref = a
        assert np.array_equal(expect.view(np.uint32), ref.view(np.uint32)), name


def check_bf16_rounding():
    # exact ties: round to even
    vals = np.array([1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, -(1.0 + 2.0 ** -8),
                     1.0 + 2.0 ** -8 + 2.0 ** -20], dtype=np.float32)
    want = np.array([1.0, 1.0 + 2.0 ** -6, -1.0, 1.0 + 2.0 ** -7], dtype=np.float32)
    assert np.array_equal(round_to_dtype(vals, "BF16"), want)


def check_rope_relative(theta, d, seed=0):
    """q.k after RoPE must depend only on the position difference."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(1, 1, d, generator=g, dtype=torch.float64)
    k = torch.randn(1, 1, d, generator=g, dtype=torch.float64)
    cos, sin = rope_cos_sin(64, d, theta)

    def score(m, n):
        qm = rope(q, cos[m:m + 1], sin[m:m + 1])
        kn = rope(k, cos[n:n + 1], sin[n:n + 1])
        return float((qm * kn).sum())

    for m, n in [(5, 2), (9, 9), (3, 7), (40, 1)]:
        base = score(m, n)
        for s in (1, 4, 17):
            assert abs(score(m + s, n + s) - base) < 1e-9 * (1 + abs(base)), (m, n, s)
    # position 0 is the identity; rotation preserves norms
    assert torch.allclose(rope(q, cos[0:1], sin[0:1]), q)
    assert abs(float(rope(q, cos[7:8], sin[7:8]).norm()) - float(q.norm())) < 1e-12
    # pairing is (i, i + d/2): a vector supported on dims {0, d/2} stays there
    e = torch.zeros(1, 1, d, dtype=torch.float64)
    e[..., 0] = 1.0
    r = rope(e, cos[3:4], sin[3:4])
    mask = torch.ones(d, dtype=torch.bool)
    mask[0] = mask[d // 2] = False
    assert float(r[..., mask].abs().max()) == 0.0
    assert abs(float(r[..., d // 2]) - math.sin(3.0)) < 1e-15


def check_causal(tokens, weights, cfg, logits):
    """Each prefix's last row must equal the full-sequence row (no future leak)."""
    w = to_float64(weights)
    for t in range(1, len(tokens) + 1):
        pre = forward(tokens[:t], w, cfg)
        assert torch.allclose(pre[-1], logits[t - 1], rtol=1e-12, atol=1e-12), t


def check_deterministic(root, cases, generate_case, files, prefix):
    """A second generation of `cases` into a scratch directory is byte-identical to `root`.

    Shared by the other *_reference.py scripts (each passes its own case list,
    generator and output file names)."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        for c in cases:
            generate_case(tmp, c)
            for f in files:
                a, b = os.path.join(root, c["name"], f), os.path.join(tmp, c["name"], f)
                assert filecmp.cmp(a, b, shallow=False), "not deterministic: %s/%s" % (c["name"], f)
    finally:
        shutil.rmtree(tmp)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUTPUT_ROOT   (e.g. tests/golden)\n" % argv[0])
        return 2
    root = argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)

    check_bf16_rounding()
    results = {}
    for c in CASES:
        cfg, weights, tokens, logits = generate_case(root, c)
        st_path = os.path.join(root, c["name"], "model.safetensors")
        check_safetensors_roundtrip(st_path, weights, c["dtype"], cfg)
        check_rope_relative(cfg["rope_theta"], head_dim_of(cfg))
        stored, _ = read_safetensors(st_path)
        check_causal(tokens, stored, cfg, logits)
        assert len(set(tokens)) < len(tokens), "tokens need a repeat"
        assert torch.isfinite(logits).all()
        # logits.json parses back to the same doubles
        with open(os.path.join(root, c["name"], "logits.json")) as f:
            back = torch.tensor(json.load(f)["logits"], dtype=torch.float64)
        assert torch.equal(back, logits)
        results[c["name"]] = (tokens, logits)
        a = logits.abs()
        print("%-18s dtype=%-4s T=%2d V=%2d  |logit| max=%.4f mean=%.4f  std=%.4f"
              % (c["name"], c["dtype"], len(tokens), logits.shape[1],
                 float(a.max()), float(a.mean()), float(logits.std())))

    # Reduced-precision variants: same tokens, logits close to but not equal to F32.
    base_tokens, base = results["llama_gqa"]
    for name in ("llama_gqa_bf16", "llama_gqa_f16"):
        toks, lg = results[name]
        assert toks == base_tokens
        diff = float((lg - base).abs().max())
        assert 0.0 < diff < 0.25 * float(base.abs().max()), (name, diff)
        print("%-18s max |logit - llama_gqa logit| = %.3g" % (name, diff))
    print("self-checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

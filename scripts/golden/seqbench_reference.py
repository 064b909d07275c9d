"""Golden reference outputs for seqbench's own layout (model_type "seqbench").

A seqbench checkpoint is a stack of pre-norm residual sublayers named by a
pattern string (DESIGN.md section 2), one symbol per sublayer i:

    model.layers.{i}.norm.weight                     RMSNorm before sublayer i
    model.layers.{i}.self_attn.{q,k,v,o}_proj.weight  `*` global / `L` local attention
    model.layers.{i}.mlp.{gate,up,down}_proj.weight   `-` gated MLP
    model.embed_tokens.weight, model.norm.weight, lm_head.weight (unless tied)

and every sublayer is residual: x <- x + F_i(RMSNorm_i(x)).

The mathematics (DESIGN.md section 4) is written here from the equations,
reusing the float64 building blocks of scripts/golden/llama_reference.py
(RMSNorm, rotate-half RoPE, SwiGLU MLP, the weight scales, token sampling and
output formatting) and adding what the Llama layout does not have:

  - partial rotary: rot = int(head_dim * partial_rotary_factor) rounded down
    to even; rotate-half RoPE inside the first rot dims of each head (dim i
    paired with i + rot/2, inv_freq = theta^(-2i/rot)); dims rot.. pass through;
  - position_encoding "none": no RoPE at all;
  - local attention `L` with window W: the query at t sees keys t-W .. t
    (W + 1 keys including itself; the official Griffin mask q <= k + W);
    `*` sees keys 0 .. t;
  - hidden_act "gelu_pytorch_tanh": GeGLU with 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))).

No `transformers` and no `safetensors` package: torch (CPU) and numpy only.
Logits are computed in float64 from the exact F32 weights stored in the file.

Output, one directory per case under OUTPUT_ROOT:
    seqbench_<case>/config.json        the keys models/hf.c hf_config_to_json writes
    seqbench_<case>/model.safetensors  weights (F32)
    seqbench_<case>/tokens.json        JSON array of token ids
    seqbench_<case>/logits.json        {"logits": [[V floats] per position]}, 17 sig. digits

Rerun (deterministic, byte-identical output):
    /usr/bin/python3 scripts/golden/seqbench_reference.py tests/golden
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_reference as L  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

CASES = [
    # Griffin-like: local MQA + global attention, partial rotary, GeGLU, tied.
    dict(name="seqbench_local_partial", seed=2001, pattern="L-*-", vocab=31, hidden=32,
         inter=40, heads=4, kv_heads=1, head_dim=8, pos="rope", rotary=0.5, window=3,
         act="gelu_pytorch_tanh", theta=10000.0, eps=1e-6, tied=True, n_tokens=14),
    # Jamba-like attention: no positional encoding, GQA, SwiGLU, untied, MLP-MLP.
    dict(name="seqbench_nope_gqa", seed=2002, pattern="*-*--", vocab=23, hidden=24,
         inter=36, heads=4, kv_heads=2, head_dim=6, pos="none", rotary=1.0, window=0,
         act="silu", theta=10000.0, eps=1e-5, tied=False, n_tokens=11),
    # Local attention only (two in a row), full rotary, MHA, untied.
    dict(name="seqbench_local_only", seed=2003, pattern="LL-", vocab=19, hidden=24,
         inter=48, heads=2, kv_heads=2, head_dim=12, pos="rope", rotary=1.0, window=2,
         act="silu", theta=10000.0, eps=1e-5, tied=False, n_tokens=12),
]

FILES = ("config.json", "model.safetensors", "tokens.json", "logits.json")


# ----------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------

def make_config(c):
    """config.json contents: the keys (and order) of hf_config_to_json in models/hf.c."""
    return {
        "architectures": ["SeqbenchForCausalLM"],
        "model_type": "seqbench",
        "vocab_size": c["vocab"],
        "hidden_size": c["hidden"],
        "intermediate_size": c["inter"],
        "pattern": c["pattern"],
        "num_attention_heads": c["heads"],
        "num_key_value_heads": c["kv_heads"],
        "head_dim": c["head_dim"],
        "hidden_act": c["act"],
        "max_position_embeddings": 128,
        "rms_norm_eps": c["eps"],
        "rope_theta": c["theta"],
        "rope_scaling": None,
        "partial_rotary_factor": c["rotary"],
        "position_encoding": c["pos"],
        "attention_window_size": c["window"],
        "tie_word_embeddings": c["tied"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "pretraining_tp": 1,
        "initializer_range": 0.02,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "use_cache": True,
        "torch_dtype": "float32",
    }


def rotary_dim(cfg):
    """Rotated dims per head (0 without positional encoding); even."""
    if cfg["position_encoding"] == "none":
        return 0
    return int(cfg["head_dim"] * cfg["partial_rotary_factor"]) // 2 * 2


# ----------------------------------------------------------------------------
# Random weights
# ----------------------------------------------------------------------------

def make_weights(cfg, seed):
    """Random float32 weights {name: np.float32 array} in a fixed generation order.

    Same distributions as llama_reference.make_weights (float64 sampling, then
    float32): Linear ~ N(0, (GAIN/sqrt(fan_in))^2), embedding N(0, 1), norm
    weights 1 + 0.2 N(0, 1). lm_head is always drawn, stored only if untied.
    """
    g = torch.Generator().manual_seed(seed)
    V, D, I = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    H, G, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]

    def normal(shape, std, mean=0.0):
        t = torch.randn(*shape, generator=g, dtype=torch.float64) * std + mean
        return t.to(torch.float32).numpy()

    def linear(out_f, in_f, kind):
        return normal((out_f, in_f), L.GAIN[kind] / math.sqrt(in_f))

    w = {"model.embed_tokens.weight": normal((V, D), L.EMBED_STD)}
    for i, sym in enumerate(cfg["pattern"]):
        p = "model.layers.%d." % i
        w[p + "norm.weight"] = normal((D,), L.NORM_STD, 1.0)
        if sym in "*L":
            w[p + "self_attn.q_proj.weight"] = linear(H * d, D, "q_proj")
            w[p + "self_attn.k_proj.weight"] = linear(G * d, D, "k_proj")
            w[p + "self_attn.v_proj.weight"] = linear(G * d, D, "v_proj")
            w[p + "self_attn.o_proj.weight"] = linear(D, H * d, "o_proj")
        elif sym == "-":
            w[p + "mlp.gate_proj.weight"] = linear(I, D, "gate_proj")
            w[p + "mlp.up_proj.weight"] = linear(I, D, "up_proj")
            w[p + "mlp.down_proj.weight"] = linear(D, I, "down_proj")
        else:
            raise ValueError("symbol %r not supported by this reference" % sym)
    w["model.norm.weight"] = normal((D,), L.NORM_STD, 1.0)
    lm_head = linear(V, D, "lm_head")
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = lm_head
    return w


# ----------------------------------------------------------------------------
# The model (float64)
# ----------------------------------------------------------------------------

def partial_rope(x, cos, sin, rot):
    """Rotate-half RoPE on the first `rot` dims of the last axis; the rest passes through.

    x is [heads, T, d]; cos/sin are [T, rot] from llama_reference.rope_cos_sin(T, rot, theta),
    so inv_freq = theta^(-2i/rot) and dim i pairs with i + rot/2.
    """
    if rot == 0:
        return x
    return torch.cat([L.rope(x[..., :rot], cos, sin), x[..., rot:]], dim=-1)


def allowed_keys(T, window):
    """[T, T] bool: query t may attend to key j.  window 0: j <= t;  window W: t-W <= j <= t."""
    t = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    ok = j <= t
    if window:
        ok &= j >= t - window
    return ok


def attention(x, w, p, cfg, window):
    """Causal (optionally sliding-window) GQA self-attention of one sublayer; x is [T, D]."""
    T = x.shape[0]
    H, G, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    rot = rotary_dim(cfg)
    q = (x @ w[p + "self_attn.q_proj.weight"].T).reshape(T, H, d).transpose(0, 1)  # [H, T, d]
    k = (x @ w[p + "self_attn.k_proj.weight"].T).reshape(T, G, d).transpose(0, 1)  # [G, T, d]
    v = (x @ w[p + "self_attn.v_proj.weight"].T).reshape(T, G, d).transpose(0, 1)  # [G, T, d]
    if rot:
        cos, sin = L.rope_cos_sin(T, rot, cfg["rope_theta"])
        q = partial_rope(q, cos, sin, rot)
        k = partial_rope(k, cos, sin, rot)
    kv_of_head = torch.arange(H) // (H // G)                   # query head h -> kv head
    k, v = k[kv_of_head], v[kv_of_head]                        # [H, T, d]
    scores = q @ k.transpose(1, 2) / math.sqrt(d)              # [H, T, T]
    scores = scores.masked_fill(~allowed_keys(T, window), float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v                    # [H, T, d]
    return out.transpose(0, 1).reshape(T, H * d) @ w[p + "self_attn.o_proj.weight"].T


def gelu_tanh(u):
    return 0.5 * u * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * u ** 3)))


def gated_mlp(x, w, p, act):
    """down(act(gate x) * up x): SwiGLU (Llama's MLP, reused) or GeGLU (tanh GeLU)."""
    if act == "silu":
        return L.mlp(x, w, p)
    if act != "gelu_pytorch_tanh":
        raise ValueError("hidden_act %r" % act)
    gate = x @ w[p + "mlp.gate_proj.weight"].T
    up = x @ w[p + "mlp.up_proj.weight"].T
    return (gelu_tanh(gate) * up) @ w[p + "mlp.down_proj.weight"].T


def forward(tokens, w, cfg, window=None):
    """Logits [T, V] (float64). `window` overrides attention_window_size for `L` (self-checks)."""
    W = cfg["attention_window_size"] if window is None else window
    eps = cfg["rms_norm_eps"]
    x = w["model.embed_tokens.weight"][torch.tensor(tokens, dtype=torch.long)]
    for i, sym in enumerate(cfg["pattern"]):
        p = "model.layers.%d." % i
        h = L.rms_norm(x, w[p + "norm.weight"], eps)
        if sym == "*":
            x = x + attention(h, w, p, cfg, 0)
        elif sym == "L":
            x = x + attention(h, w, p, cfg, W)
        elif sym == "-":
            x = x + gated_mlp(h, w, p, cfg["hidden_act"])
        else:
            raise ValueError("symbol %r" % sym)
    x = L.rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------

def generate_case(root, c):
    return L.write_case(root, c, make_config, make_weights, forward, L.config_json)


# ----------------------------------------------------------------------------
# Self-checks
# ----------------------------------------------------------------------------

def check_names(cfg, stored):
    """Exactly the tensor names and shapes models/names.c + the sublayers expect."""
    V, D, I = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    qd = cfg["num_attention_heads"] * cfg["head_dim"]
    kvd = cfg["num_key_value_heads"] * cfg["head_dim"]
    want = {"model.embed_tokens.weight": (V, D), "model.norm.weight": (D,)}
    for i, sym in enumerate(cfg["pattern"]):
        p = "model.layers.%d." % i
        want[p + "norm.weight"] = (D,)
        if sym in "*L":
            want.update({p + "self_attn.q_proj.weight": (qd, D), p + "self_attn.k_proj.weight": (kvd, D),
                         p + "self_attn.v_proj.weight": (kvd, D), p + "self_attn.o_proj.weight": (D, qd)})
        else:
            want.update({p + "mlp.gate_proj.weight": (I, D), p + "mlp.up_proj.weight": (I, D),
                         p + "mlp.down_proj.weight": (D, I)})
    if not cfg["tie_word_embeddings"]:
        want["lm_head.weight"] = (V, D)
    assert {k: tuple(v.shape) for k, v in stored.items()} == want


def naive_attention(x, w, p, cfg, window):
    """Loop-per-query attention (keys listed explicitly), to cross-check the masked version."""
    T = x.shape[0]
    H, G, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    rot = rotary_dim(cfg)
    q = x @ w[p + "self_attn.q_proj.weight"].T
    k = x @ w[p + "self_attn.k_proj.weight"].T
    v = x @ w[p + "self_attn.v_proj.weight"].T
    out = torch.zeros(T, H * d, dtype=torch.float64)

    def rotate(vec, pos):  # vec [d]: explicit pairs (i, i + rot/2)
        r = vec.clone()
        for i in range(rot // 2):
            ang = pos * cfg["rope_theta"] ** (-2.0 * i / rot)
            a, b = vec[i], vec[i + rot // 2]
            r[i] = a * math.cos(ang) - b * math.sin(ang)
            r[i + rot // 2] = b * math.cos(ang) + a * math.sin(ang)
        return r

    for t in range(T):
        keys = list(range(max(0, t - window) if window else 0, t + 1))
        if window:
            assert len(keys) == min(t + 1, window + 1)
        for h in range(H):
            g = h // (H // G)
            qh = rotate(q[t, h * d:(h + 1) * d], t)
            s = torch.stack([qh @ rotate(k[j, g * d:(g + 1) * d], j) for j in keys]) / math.sqrt(d)
            pr = torch.softmax(s, dim=0)
            out[t, h * d:(h + 1) * d] = sum(pr[n] * v[j, g * d:(g + 1) * d] for n, j in enumerate(keys))
    return out @ w[p + "self_attn.o_proj.weight"].T


def check_attention_naive(cfg, w):
    """Masked-matrix attention == explicit per-query loop on every attention sublayer's input."""
    x = torch.randn(9, cfg["hidden_size"], generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    for i, sym in enumerate(cfg["pattern"]):
        if sym in "*L":
            p = "model.layers.%d." % i
            W = cfg["attention_window_size"] if sym == "L" else 0
            a = attention(x, w, p, cfg, W)
            b = naive_attention(x, w, p, cfg, W)
            assert torch.allclose(a, b, rtol=1e-11, atol=1e-11), (cfg["pattern"], i)


def check_partial_rope(theta, d, rot):
    """Partial RoPE: dims >= rot untouched; the rotated part keeps the relative-position property."""
    L.check_rope_relative(theta, rot)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 6, d, generator=g, dtype=torch.float64)
    cos, sin = L.rope_cos_sin(6, rot, theta)
    y = partial_rope(x, cos, sin, rot)
    assert torch.equal(y[..., rot:], x[..., rot:])
    assert torch.equal(y[:, 0], x[:, 0])                      # position 0 is the identity
    assert not torch.allclose(y[:, 1:, :rot], x[:, 1:, :rot])
    assert torch.allclose(y.norm(dim=-1), x.norm(dim=-1), rtol=1e-13)


def check_gelu():
    u = torch.linspace(-6, 6, 97, dtype=torch.float64)
    ref = torch.nn.functional.gelu(u, approximate="tanh")
    assert torch.allclose(gelu_tanh(u), ref, rtol=1e-14, atol=1e-15)
    assert not torch.allclose(gelu_tanh(u), torch.nn.functional.gelu(u), rtol=1e-6, atol=1e-6)


def check_matches_llama():
    """A seqbench model with pattern "*-*-", full RoPE, SwiGLU and Llama's weights
    (renamed per models/names.c) must give llama_reference's logits."""
    lc = dict(L.CASES[0])
    lcfg = L.make_config(lc)
    lw = L.to_float64(L.make_weights(lcfg, lc["seed"]))
    tokens = L.make_tokens(lcfg["vocab_size"], lc["n_tokens"], lc["seed"])
    sc = dict(name="x", seed=0, pattern="*-" * lcfg["num_hidden_layers"], vocab=lc["vocab"],
              hidden=lc["hidden"], inter=lc["inter"], heads=lc["heads"], kv_heads=lc["kv_heads"],
              head_dim=lc["head_dim"], pos="rope", rotary=1.0, window=0, act="silu",
              theta=lc["theta"], eps=lc["eps"], tied=lc["tied"], n_tokens=0)
    scfg = make_config(sc)
    sw = {}
    for name, t in lw.items():
        if name.startswith("model.layers."):
            _, _, i, rest = name.split(".", 3)
            i = int(i)
            if rest.startswith("input_layernorm"):
                name = "model.layers.%d.norm.weight" % (2 * i)
            elif rest.startswith("post_attention_layernorm"):
                name = "model.layers.%d.norm.weight" % (2 * i + 1)
            elif rest.startswith("self_attn"):
                name = "model.layers.%d.%s" % (2 * i, rest)
            else:
                name = "model.layers.%d.%s" % (2 * i + 1, rest)
        sw[name] = t
    a = forward(tokens, sw, scfg)
    b = L.forward(tokens, lw, lcfg)
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)
    # the window must be ignored by `*` and a window >= T must equal global attention
    scfg["pattern"] = scfg["pattern"].replace("*", "L")
    assert torch.allclose(forward(tokens, sw, scfg, window=len(tokens)), b, rtol=1e-12, atol=1e-12)


def check_causal(tokens, w, cfg, logits):
    """Each prefix's last row must equal the full-sequence row (no future leak)."""
    for t in range(1, len(tokens) + 1):
        assert torch.allclose(forward(tokens[:t], w, cfg)[-1], logits[t - 1], rtol=1e-12, atol=1e-12), t


def check_window_matters(tokens, w, cfg, logits):
    """Local attention must differ from global once the sequence outgrows the window:
    rows 0..W are the same (every key is in the window), later rows change."""
    W = cfg["attention_window_size"]
    assert "L" in cfg["pattern"] and W >= 1 and len(tokens) > W + 1
    wide = forward(tokens, w, cfg, window=10 ** 6)
    assert torch.allclose(wide[:W + 1], logits[:W + 1], rtol=1e-12, atol=1e-12)
    scale = float(logits.abs().max())
    per_row = (wide - logits).abs().max(dim=1).values / scale
    assert bool((per_row[W + 1:] > 1e-3).all()), per_row
    # a one-key-smaller window changes the rows past it, too (off-by-one sensitivity)
    narrower = forward(tokens, w, cfg, window=W - 1) if W > 1 else None
    if narrower is not None:
        assert float((narrower[W:] - logits[W:]).abs().max()) > 1e-3 * scale
    one_more = forward(tokens, w, cfg, window=W + 1)
    assert float((one_more[W + 2:] - logits[W + 2:]).abs().max()) > 1e-3 * scale
    return float(per_row.max())


def check_no_position(tokens, w, cfg, logits):
    """position_encoding "none": a single global attention sublayer sees the earlier
    tokens as a set, so with the model cut after the first sublayer (a `*`) the last
    row is unchanged when the earlier tokens are permuted; with RoPE it is not."""
    assert cfg["position_encoding"] == "none" and cfg["pattern"][0] == "*"
    perm = list(reversed(tokens[:-1])) + [tokens[-1]]
    assert perm != tokens
    one = dict(cfg, pattern="*")
    assert torch.allclose(forward(perm, w, one)[-1], forward(tokens, w, one)[-1], rtol=1e-12, atol=1e-12)
    rope = dict(one, position_encoding="rope")
    assert not torch.allclose(forward(perm, w, rope)[-1], forward(tokens, w, rope)[-1], rtol=1e-6, atol=1e-6)
    # the full model's logits do depend on the order (the second attention layer sees prefix-dependent keys)
    assert not torch.allclose(forward(perm, w, cfg)[-1], logits[-1], rtol=1e-6, atol=1e-6)



def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUTPUT_ROOT   (e.g. tests/golden)\n" % argv[0])
        return 2
    root = argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)

    check_gelu()
    check_matches_llama()
    for c in CASES:
        cfg, weights, tokens, logits = generate_case(root, c)
        st_path = os.path.join(root, c["name"], "model.safetensors")
        L.check_safetensors_roundtrip(st_path, weights, "F32", cfg)
        stored, _ = read_safetensors(st_path)
        check_names(cfg, stored)
        w = L.to_float64(stored)
        rot = rotary_dim(cfg)
        if rot:
            check_partial_rope(cfg["rope_theta"], cfg["head_dim"], rot)
        check_attention_naive(cfg, w)
        check_causal(tokens, w, cfg, logits)
        note = ""
        if "L" in cfg["pattern"]:
            note = "  local vs global max rel diff %.3g" % check_window_matters(tokens, w, cfg, logits)
        if cfg["position_encoding"] == "none":
            check_no_position(tokens, w, cfg, logits)
        assert len(set(tokens)) < len(tokens), "tokens need a repeat"
        assert torch.isfinite(logits).all()
        with open(os.path.join(root, c["name"], "logits.json")) as f:
            back = torch.tensor(json.load(f)["logits"], dtype=torch.float64)
        assert torch.equal(back, logits)
        a = logits.abs()
        print("%-23s %-6s rot=%2d W=%d T=%2d V=%2d  |logit| max=%.4f mean=%.4f%s"
              % (c["name"], cfg["pattern"], rot, cfg["attention_window_size"], len(tokens),
                 logits.shape[1], float(a.max()), float(a.mean()), note))
    L.check_deterministic(root, CASES, generate_case, FILES, "seqbench_golden_")
    print("self-checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

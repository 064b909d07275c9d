"""Golden reference outputs for RecurrentGemma (Griffin / Hawk), model_type "recurrent_gemma".

Small random checkpoints in the Hugging Face RecurrentGemmaForCausalLM layout
(config.json + model.safetensors) with a token sequence and the float64
reference logits at every position.  seqbench's C implementation is tested
against these files.

Written from the equations (DESIGN.md section 4, "RG-LRU recurrent block", and
its "Conventions" list, which wins where it and the Hugging Face code differ).
No `transformers`, no `safetensors` package: torch (CPU) and numpy only.  The
logits are computed in float64 from the exact F32 weights stored in the file.

Model (D = hidden_size, D_rnn = lru_width, H = num_attention_heads):

    x = embed_tokens[token] * normalizer,  normalizer = bf16(sqrt(D))  (sqrt(48) -> 6.9375)
    layer i, temporal block type = block_types[i % len(block_types)]:
        h = x + temporal_block(RMSNorm_t(x));   x = h + mlp_block(RMSNorm_c(h))
    RMSNorm(x) = x / sqrt(mean(x^2) + eps) * (1 + w)                 (Gemma style)
    mlp_block  = down(GeLU_tanh(gate(x)) * up(x)), width intermediate_size // 2, all with bias
    recurrent  : y  = GeLU_tanh(linear_y(x));  u = linear_x(x)
                 u  = causal depthwise conv1d (conv_1d.weight [D_rnn, 1, K]; as mamba_reference.py)
                 u  = RG-LRU(u);  out = linear_out(u * y)             (all three Linear with bias)
    RG-LRU     : per head block h of bw = D_rnn / H channels, gate weights stored [H, in, out]
                 and applied as x_blk . W[h] (NOT W x):
                   i_t = sigmoid(x_blk W_in[h] + b_in[h]),  r_t = sigmoid(x_blk W_a[h] + b_a[h])
                   log a_t = -8 r_t softplus(recurrent_param);  a_t = exp(log a_t)
                   h_t = a_t h_{t-1} + sqrt(1 - a_t^2) (i_t x_t)      for t > 0
                   h_0 = i_0 x_0           (reset at the first position: a = 0, multiplier 1)
    attention  : q/k/v without bias, o_proj with bias; head_dim = D / H; GQA kv head h // (H/G);
                 rotate-half RoPE (theta = rope_theta) on the first head_dim * partial_rotary_factor
                 dims of each head; scale 1/sqrt(head_dim); LOCAL causal window W:
                 the query at t sees keys t-W .. t (W + 1 keys including itself).
    logits     = RMSNorm_final(x) . embed_tokens^T   (tied, no lm_head tensor)
    logits     = c tanh(logits / c),  c = logits_soft_cap

Convention notes (where the Hugging Face code and DESIGN.md differ; DESIGN.md followed):
  - Local attention window.  The official Griffin code (google-deepmind/recurrentgemma,
    _compute_causal_mask: q_pos >= k_pos and q_pos <= k_pos + window) lets the query at t
    see keys t-W .. t.  Hugging Face's RecurrentGemma differs, depending on version and path:
    its prefill mask (_update_causal_mask: triu(diagonal=-1), then zeroed where j <= i) is
    plain causal with no window at all; with use_cache=True and T > W the prefill attends
    to only the last W keys under a misaligned mask; and its decode cache holds W keys
    including the current one (t-W+1 .. t).  We follow the official mask.
  - RoPE angles are computed in float64 (HF: float32), a ~1e-6 relative difference.

Output, one directory per case under OUTPUT_ROOT:
    recurrent_gemma_<case>/config.json        RecurrentGemmaConfig keys (sorted, indent 2)
    recurrent_gemma_<case>/model.safetensors  weights (F32)
    recurrent_gemma_<case>/tokens.json        JSON array of token ids
    recurrent_gemma_<case>/logits.json        {"logits": [[V floats] per position]}, 17 sig. digits

Rerun (deterministic, byte-identical output; the self-checks run every time):
    /usr/bin/python3 scripts/golden/recurrent_gemma_reference.py tests/golden
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_reference as L  # noqa: E402
import mamba_reference as M  # noqa: E402
import seqbench_reference as S  # noqa: E402
from safetensors_io import round_to_dtype  # noqa: E402

CASES = [
    # Griffin: recurrent, recurrent, local MQA; T = 14 > window 3.
    dict(name="recurrent_gemma_griffin", seed=4001, block_types=["recurrent", "recurrent", "attention"],
         layers=3, vocab=33, hidden=48, inter=96, heads=4, kv_heads=1, lru=48, window=3, conv=4,
         eps=1e-6, cap=30.0, theta=10000.0, n_tokens=14),
    # Hawk: recurrent blocks only (block_types cycled), lru_width != hidden_size.
    dict(name="recurrent_gemma_hawk", seed=4002, block_types=["recurrent"],
         layers=2, vocab=21, hidden=32, inter=64, heads=2, kv_heads=2, lru=40, window=16, conv=3,
         eps=1e-6, cap=30.0, theta=10000.0, n_tokens=12),
]

FILES = ("config.json", "model.safetensors", "tokens.json", "logits.json")

# Weight scales.  Linear weights ~ N(0, (gain / sqrt(fan_in))^2), biases ~ N(0, BIAS_STD^2).
GAIN = {"linear_x": 1.0, "linear_y": 1.5, "linear_out": 1.0,
        "q_proj": 1.5, "k_proj": 1.5, "v_proj": 1.0, "o_proj": 1.0,
        "gate_proj": 1.5, "up_proj": 1.0, "down_proj": 1.0}
BIAS_STD = 0.3
EMBED_STD = 1.0
NORM_STD = 0.2          # stored norm weights w ~ N(0, NORM_STD^2); the scale is 1 + w
FINAL_NORM_MEAN = 0.0   # final norm w ~ N(FINAL_NORM_MEAN, NORM_STD^2); the tied self-logit
                        # (~ |E_tok|^2 ~ D) already takes a few logits past the cap
GATE_GAIN = 1.5         # RG-LRU gate weights ~ N(0, (GATE_GAIN / sqrt(bw))^2)
GATE_BIAS_STD = 0.5
RP_NOISE = 0.5          # recurrent_param = official ring init + RP_NOISE * N(0, 1)
RP_MIN_RAD, RP_MAX_RAD = 0.9, 0.999
LRU_C = 8.0             # log a = -c r softplus(recurrent_param)


# ----------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------

def make_config(c):
    """config.json contents: what RecurrentGemmaConfig serialises.

    `block_types` is the key of the current config class; the release-era class (and the
    google/recurrentgemma-* hub configs) stored it as `_block_types` -- both are written,
    with the same list.  `embeddings_scale_by_sqrt_dim` is likewise a release-era key
    (the current class always scales).
    """
    return {
        "architectures": ["RecurrentGemmaForCausalLM"],
        "model_type": "recurrent_gemma",
        "num_hidden_layers": c["layers"],
        "vocab_size": c["vocab"],
        "hidden_size": c["hidden"],
        "intermediate_size": c["inter"],
        "num_attention_heads": c["heads"],
        "lru_width": c["lru"],
        "attention_window_size": c["window"],
        "conv1d_width": c["conv"],
        "logits_soft_cap": c["cap"],
        "rms_norm_eps": c["eps"],
        "use_cache": True,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 2,
        "hidden_activation": "gelu_pytorch_tanh",
        "partial_rotary_factor": 0.5,
        "rope_theta": c["theta"],
        "block_types": list(c["block_types"]),
        "_block_types": list(c["block_types"]),
        "head_dim": c["hidden"] // c["heads"],
        "attention_dropout": 0.0,
        "num_key_value_heads": c["kv_heads"],
        "attention_bias": False,
        "w_init_variance_scale": 0.01,
        "final_w_init_variance_scale": 2.0 / c["layers"],
        "embeddings_scale_by_sqrt_dim": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
    }


def layer_type(cfg, i):
    bt = cfg["block_types"]
    return bt[i % len(bt)]


def head_dim(cfg):
    return cfg["hidden_size"] // cfg["num_attention_heads"]


def rotary_dim(cfg):
    return int(head_dim(cfg) * cfg["partial_rotary_factor"]) // 2 * 2


def normalizer(cfg, exact=False):
    """sqrt(hidden_size) rounded to bfloat16 (HF's `normalizer` buffer); exact=True: unrounded."""
    s = math.sqrt(cfg["hidden_size"])
    if exact:
        return s
    return float(round_to_dtype(np.array([s], dtype=np.float32), "BF16")[0])


# ----------------------------------------------------------------------------
# Random weights
# ----------------------------------------------------------------------------

def recurrent_param(s, n):
    """Official init (recurrentgemma rnn_param_init / HF _init_weights) plus noise:
    u ~ U(0.9^2, 0.999^2); Lambda = log(exp(-0.5 log u) - 1), so exp(-softplus(Lambda)) = sqrt(u)."""
    u = torch.rand(n, generator=s.g, dtype=torch.float64)
    u = u * (RP_MAX_RAD ** 2 - RP_MIN_RAD ** 2) + RP_MIN_RAD ** 2 + 1e-8
    lam = torch.log(torch.exp(-0.5 * torch.log(u)) - 1.0)
    lam = lam + RP_NOISE * torch.randn(n, generator=s.g, dtype=torch.float64)
    return lam.to(torch.float32).numpy()


def make_weights(cfg, seed):
    """Random float32 weights {name: np.float32 array}, generated in a fixed order."""
    s = M.Sampler(seed)
    V, D, I2 = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"] // 2
    H, G, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    R, K = cfg["lru_width"], cfg["conv1d_width"]
    bw = R // H

    def linear(name, out_f, in_f, kind, bias=True):
        w[name + ".weight"] = s.linear(out_f, in_f, GAIN[kind])
        if bias:
            w[name + ".bias"] = s.normal((out_f,), BIAS_STD)

    w = {"model.embed_tokens.weight": s.normal((V, D), EMBED_STD)}
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        t = p + "temporal_block."
        w[p + "temporal_pre_norm.weight"] = s.normal((D,), NORM_STD)
        if layer_type(cfg, i) == "recurrent":
            linear(t + "linear_y", R, D, "linear_y")
            linear(t + "linear_x", R, D, "linear_x")
            linear(t + "linear_out", D, R, "linear_out")
            w[t + "conv_1d.weight"], w[t + "conv_1d.bias"] = s.conv(R, K)
            w[t + "rg_lru.input_gate_weight"] = s.normal((H, bw, bw), GATE_GAIN / math.sqrt(bw))
            w[t + "rg_lru.input_gate_bias"] = s.normal((H, bw), GATE_BIAS_STD)
            w[t + "rg_lru.recurrent_gate_weight"] = s.normal((H, bw, bw), GATE_GAIN / math.sqrt(bw))
            w[t + "rg_lru.recurrent_gate_bias"] = s.normal((H, bw), GATE_BIAS_STD)
            w[t + "rg_lru.recurrent_param"] = recurrent_param(s, R)
        else:
            linear(t + "q_proj", H * d, D, "q_proj", bias=False)
            linear(t + "k_proj", G * d, D, "k_proj", bias=False)
            linear(t + "v_proj", G * d, D, "v_proj", bias=False)
            linear(t + "o_proj", D, H * d, "o_proj")
        w[p + "channel_pre_norm.weight"] = s.normal((D,), NORM_STD)
        linear(p + "mlp_block.gate_proj", I2, D, "gate_proj")
        linear(p + "mlp_block.up_proj", I2, D, "up_proj")
        linear(p + "mlp_block.down_proj", D, I2, "down_proj")
    w["model.final_norm.weight"] = s.normal((D,), NORM_STD, FINAL_NORM_MEAN)
    return w


def expected_shapes(cfg):
    V, D, I2 = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"] // 2
    H, G, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    R, K = cfg["lru_width"], cfg["conv1d_width"]
    bw = R // H
    sh = {"model.embed_tokens.weight": (V, D), "model.final_norm.weight": (D,)}
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        t = p + "temporal_block."
        sh[p + "temporal_pre_norm.weight"] = (D,)
        sh[p + "channel_pre_norm.weight"] = (D,)
        if layer_type(cfg, i) == "recurrent":
            sh.update({t + "linear_y.weight": (R, D), t + "linear_y.bias": (R,),
                       t + "linear_x.weight": (R, D), t + "linear_x.bias": (R,),
                       t + "linear_out.weight": (D, R), t + "linear_out.bias": (D,),
                       t + "conv_1d.weight": (R, 1, K), t + "conv_1d.bias": (R,),
                       t + "rg_lru.input_gate_weight": (H, bw, bw), t + "rg_lru.input_gate_bias": (H, bw),
                       t + "rg_lru.recurrent_gate_weight": (H, bw, bw),
                       t + "rg_lru.recurrent_gate_bias": (H, bw), t + "rg_lru.recurrent_param": (R,)})
        else:
            sh.update({t + "q_proj.weight": (H * d, D), t + "k_proj.weight": (G * d, D),
                       t + "v_proj.weight": (G * d, D), t + "o_proj.weight": (D, H * d),
                       t + "o_proj.bias": (D,)})
        for n, (o, i_) in (("gate_proj", (I2, D)), ("up_proj", (I2, D)), ("down_proj", (D, I2))):
            sh[p + "mlp_block.%s.weight" % n] = (o, i_)
            sh[p + "mlp_block.%s.bias" % n] = (o,)
    return sh


# ----------------------------------------------------------------------------
# The model (float64), written from the equations
# ----------------------------------------------------------------------------

gelu_tanh = S.gelu_tanh


def gemma_rms_norm(x, w, eps):
    """x / sqrt(mean(x^2) + eps) * (1 + w)."""
    return L.rms_norm(x, 1.0 + w, eps)


def linear(x, w, name):
    return x @ w[name + ".weight"].T + w[name + ".bias"]


def mlp_block(x, w, p):
    """down(GeLU_tanh(gate x + b) * (up x + b)) + b; width intermediate_size // 2."""
    q = p + "mlp_block."
    return linear(gelu_tanh(linear(x, w, q + "gate_proj")) * linear(x, w, q + "up_proj"), w, q + "down_proj")


def attention_block(x, w, t, cfg, window):
    """Local causal GQA attention with partial rotary: seqbench_reference.attention (same
    equations: rotate-half RoPE on the first rot dims, the query at t sees keys t-W .. t)
    on the RecurrentGemma tensor names, plus o_proj's bias."""
    view = {"self_attn.%s_proj.weight" % n: w[t + "%s_proj.weight" % n] for n in "qkvo"}
    acfg = {"num_attention_heads": cfg["num_attention_heads"],
            "num_key_value_heads": cfg["num_key_value_heads"], "head_dim": head_dim(cfg),
            "rope_theta": cfg["rope_theta"], "partial_rotary_factor": cfg["partial_rotary_factor"],
            "position_encoding": "rope"}
    assert S.rotary_dim(acfg) == rotary_dim(cfg)
    return S.attention(x, view, "", acfg, window) + w[t + "o_proj.bias"]


def block_gates(u, W, b, transposed=False):
    """sigmoid(x_blk . W[h] + b[h]) per head block h; u [T, R], W [H, bw, bw], b [H, bw].
    transposed=True applies W[h] . x_blk instead (a convention mistake, for the self-checks)."""
    H, bw, _ = W.shape
    out = torch.zeros_like(u)
    for h in range(H):
        Wh = W[h].T if transposed else W[h]                 # [in, out]
        out[:, h * bw:(h + 1) * bw] = u[:, h * bw:(h + 1) * bw] @ Wh + b[h]
    return torch.sigmoid(out)


def rg_lru(u, w, q, cfg, opts, trace=None):
    """RG-LRU over one sequence (u [T, R]); plain loop over time."""
    T, R = u.shape
    gate_x = block_gates(u, w[q + "input_gate_weight"], w[q + "input_gate_bias"],
                         opts.get("gates_transposed", False))
    gate_a = block_gates(u, w[q + "recurrent_gate_weight"], w[q + "recurrent_gate_bias"],
                         opts.get("gates_transposed", False))
    log_a = -LRU_C * gate_a * F.softplus(w[q + "recurrent_param"])     # [T, R]
    a = torch.exp(log_a)
    mult = torch.sqrt(1.0 - a * a)
    h = torch.zeros(R, dtype=torch.float64)
    out = torch.zeros(T, R, dtype=torch.float64)
    for t in range(T):
        if t == 0 and not opts.get("no_reset", False):
            h = gate_x[t] * u[t]                       # reset: a = 0, multiplier = 1
        else:
            h = a[t] * h + mult[t] * (gate_x[t] * u[t])
        out[t] = h
    if trace is not None:
        trace.append(dict(gate_x=gate_x, gate_a=gate_a, a=a))
    return out


def recurrent_block(x, w, t, cfg, opts, trace=None):
    y = gelu_tanh(linear(x, w, t + "linear_y"))
    u = linear(x, w, t + "linear_x")
    u = M.causal_conv1d(u, w[t + "conv_1d.weight"], w[t + "conv_1d.bias"])
    u = rg_lru(u, w, t + "rg_lru.", cfg, opts, trace)
    return linear(u * y, w, t + "linear_out")


def forward(tokens, w, cfg, opts=None, trace=None):
    """Logits [T, V] (float64).  opts (self-checks only): window (override), no_reset,
    gates_transposed, exact_normalizer, no_cap, pre_cap (return the logits before the cap)."""
    opts = opts or {}
    eps = cfg["rms_norm_eps"]
    emb = w["model.embed_tokens.weight"]
    x = emb[torch.tensor(tokens, dtype=torch.long)] * normalizer(cfg, opts.get("exact_normalizer", False))
    window = opts.get("window", cfg["attention_window_size"])
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        t = p + "temporal_block."
        xn = gemma_rms_norm(x, w[p + "temporal_pre_norm.weight"], eps)
        if layer_type(cfg, i) == "recurrent":
            h = x + recurrent_block(xn, w, t, cfg, opts, trace)
        else:
            h = x + attention_block(xn, w, t, cfg, window)
        x = h + mlp_block(gemma_rms_norm(h, w[p + "channel_pre_norm.weight"], eps), w, p)
    x = gemma_rms_norm(x, w["model.final_norm.weight"], eps)
    logits = x @ emb.T
    if opts.get("no_cap", False):
        return logits
    c = cfg["logits_soft_cap"]
    return c * torch.tanh(logits / c)


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------

def generate_case(root, c):
    return L.write_case(root, c, make_config, make_weights, forward, M.config_text)


# ----------------------------------------------------------------------------
# Self-checks
# ----------------------------------------------------------------------------

def rel_diff(a, b):
    return float((a - b).abs().max()) / float(b.abs().max())


def check_normalizer():
    assert normalizer({"hidden_size": 48}) == 6.9375
    assert normalizer({"hidden_size": 32}) == 5.65625
    assert float(torch.tensor(math.sqrt(48.0)).to(torch.bfloat16).float()) == 6.9375


def check_recurrent_param_init():
    """Without the noise, exp(-softplus(Lambda)) = sqrt(u) lies in [0.9, 0.999]."""
    s = M.Sampler(0)
    u = torch.rand(1000, generator=s.g, dtype=torch.float64) * (0.999 ** 2 - 0.9 ** 2) + 0.9 ** 2 + 1e-8
    lam = torch.log(torch.exp(-0.5 * torch.log(u)) - 1.0)
    r = torch.exp(-F.softplus(lam))
    assert torch.allclose(r, torch.sqrt(u), rtol=1e-12, atol=0)
    assert float(r.min()) >= 0.9 and float(r.max()) <= 0.999 + 1e-8


def check_gates_einsum(cfg, w):
    """Loop gates == the official einsum '... h i, h i j -> ... h j' (HF: baddbmm)."""
    g = torch.Generator().manual_seed(5)
    for i in range(cfg["num_hidden_layers"]):
        if layer_type(cfg, i) != "recurrent":
            continue
        q = "model.layers.%d.temporal_block.rg_lru." % i
        W, b = w[q + "input_gate_weight"], w[q + "input_gate_bias"]
        H, bw, _ = W.shape
        u = torch.randn(5, H * bw, generator=g, dtype=torch.float64)
        ref = torch.sigmoid(torch.einsum("thi,hij->thj", u.reshape(5, H, bw), W) + b).reshape(5, H * bw)
        assert torch.allclose(block_gates(u, W, b), ref, rtol=1e-13, atol=1e-14)


def check_rg_lru_closed_form(cfg, w):
    """The loop scan equals h_t = sum_{s<=t} (prod_{s<r<=t} a_r) m_s i_s x_s with m_0 = 1."""
    i = next(i for i in range(cfg["num_hidden_layers"]) if layer_type(cfg, i) == "recurrent")
    q = "model.layers.%d.temporal_block.rg_lru." % i
    g = torch.Generator().manual_seed(6)
    T, R = 9, cfg["lru_width"]
    u = torch.randn(T, R, generator=g, dtype=torch.float64)
    tr = []
    out = rg_lru(u, w, q, cfg, {}, tr)
    a, gx = tr[0]["a"], tr[0]["gate_x"]
    m = torch.sqrt(1 - a * a)
    m[0] = 1.0
    for t in range(T):
        acc = torch.zeros(R, dtype=torch.float64)
        for s_ in range(t + 1):
            prod = torch.ones(R, dtype=torch.float64)
            for r in range(s_ + 1, t + 1):
                prod = prod * a[r]
            acc = acc + prod * m[s_] * gx[s_] * u[s_]
        assert torch.allclose(out[t], acc, rtol=1e-12, atol=1e-13), t


def check_attention_naive(cfg, w, tokens):
    """The attention sublayer equals a per-(head, query, key) loop with the t-W..t window."""
    for i in range(cfg["num_hidden_layers"]):
        if layer_type(cfg, i) != "attention":
            continue
        t_ = "model.layers.%d.temporal_block." % i
        g = torch.Generator().manual_seed(7)
        T, D = len(tokens), cfg["hidden_size"]
        x = torch.randn(T, D, generator=g, dtype=torch.float64)
        H, G, d, rot = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg), rotary_dim(cfg)
        W = cfg["attention_window_size"]
        q = (x @ w[t_ + "q_proj.weight"].T).reshape(T, H, d)
        k = (x @ w[t_ + "k_proj.weight"].T).reshape(T, G, d)
        v = (x @ w[t_ + "v_proj.weight"].T).reshape(T, G, d)

        def rope(vec, pos):
            out = vec.clone()
            half = rot // 2
            for j in range(half):
                ang = pos * cfg["rope_theta"] ** (-2.0 * j / rot)
                c, s = math.cos(ang), math.sin(ang)
                out[j] = vec[j] * c - vec[j + half] * s
                out[j + half] = vec[j + half] * c + vec[j] * s
            return out

        o = torch.zeros(T, H * d, dtype=torch.float64)
        for h in range(H):
            kv = h // (H // G)
            for t in range(T):
                keys = list(range(max(0, t - W), t + 1))
                assert len(keys) == min(t + 1, W + 1)
                qt = rope(q[t, h], t)
                sc = torch.tensor([float(qt @ rope(k[j, kv], j)) / math.sqrt(d) for j in keys],
                                  dtype=torch.float64)
                p = torch.softmax(sc, dim=0)
                o[t, h * d:(h + 1) * d] = sum(p[n] * v[j, kv] for n, j in enumerate(keys))
        ref = o @ w[t_ + "o_proj.weight"].T + w[t_ + "o_proj.bias"]
        got = attention_block(x, w, t_, cfg, W)
        assert torch.allclose(got, ref, rtol=1e-12, atol=1e-12)


def check_names(cfg, stored):
    sh = expected_shapes(cfg)
    assert set(stored) == set(sh), sorted(set(stored) ^ set(sh))
    for n, s in sh.items():
        assert tuple(stored[n].shape) == s, (n, stored[n].shape, s)
    assert "lm_head.weight" not in stored


def check_causal(tokens, w, cfg, logits):
    for t in range(1, len(tokens) + 1):
        assert torch.allclose(forward(tokens[:t], w, cfg)[-1], logits[t - 1], rtol=1e-12, atol=1e-12), t


def check_conventions_matter(tokens, w, cfg, logits):
    """Each convention must move the logits; returns {name: max |delta logit|}."""
    out = {}
    scale = float(logits.abs().max())
    # reset at position 0: dropping it changes row 0 (and hence every later row)
    nr = forward(tokens, w, cfg, {"no_reset": True})
    out["no_reset row0"] = float((nr[0] - logits[0]).abs().max())
    assert out["no_reset row0"] > 1e-3 * scale
    # x.W vs W.x on the gates
    out["W.x gates"] = float((forward(tokens, w, cfg, {"gates_transposed": True}) - logits).abs().max())
    assert out["W.x gates"] > 1e-3 * scale
    # normalizer: bf16-rounded vs exact sqrt(D)  (tiny but nonzero)
    out["exact sqrt(D)"] = float((forward(tokens, w, cfg, {"exact_normalizer": True}) - logits).abs().max())
    assert out["exact sqrt(D)"] > 1e-9
    # soft cap
    raw = forward(tokens, w, cfg, {"no_cap": True})
    out["no cap"] = float((raw - logits).abs().max())
    out["raw max"] = float(raw.abs().max())
    out["raw > 20"] = int((raw.abs() > 20).sum())
    out["raw > 30"] = int((raw.abs() > 30).sum())
    assert out["no cap"] > 1.0 and out["raw > 30"] >= 1
    assert float((raw.abs() < 30).double().mean()) > 0.9        # mostly below the cap
    if "attention" in [layer_type(cfg, i) for i in range(cfg["num_hidden_layers"])]:
        W = cfg["attention_window_size"]
        assert len(tokens) > W + 1
        wide = forward(tokens, w, cfg, {"window": 10 ** 6})
        # rows 0..W see every earlier key either way; later rows change
        assert torch.allclose(wide[:W + 1], logits[:W + 1], rtol=1e-12, atol=1e-12)
        per_row = (wide - logits).abs().max(dim=1).values
        assert bool((per_row[W + 1:] > 1e-4 * scale).all()), per_row
        out["global attn"] = float(per_row.max())
        # W keys (t-W+1..t, HF decode-cache style) instead of W + 1
        narrow = forward(tokens, w, cfg, {"window": W - 1})
        assert torch.allclose(narrow[:W], logits[:W], rtol=1e-12, atol=1e-12)
        out["window W-1"] = float((narrow - logits).abs().max())
        assert out["window W-1"] > 1e-4 * scale
        out["window W+1"] = float((forward(tokens, w, cfg, {"window": W + 1}) - logits).abs().max())
        assert out["window W+1"] > 1e-4 * scale
    return out



def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUTPUT_ROOT   (e.g. tests/golden)\n" % argv[0])
        return 2
    root = argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)

    check_normalizer()
    check_recurrent_param_init()
    M.check_conv_matches_torch()
    for c in CASES:
        cfg, weights, tokens, logits = generate_case(root, c)
        stored = M.check_case_common(root, c, cfg, weights, tokens, logits)
        check_names(cfg, stored)
        w = L.to_float64(stored)
        check_gates_einsum(cfg, w)
        check_rg_lru_closed_form(cfg, w)
        check_attention_naive(cfg, w, tokens)
        check_causal(tokens, w, cfg, logits)
        trace = []
        forward(tokens, w, cfg, trace=trace)
        a = torch.cat([tr["a"].reshape(-1) for tr in trace])
        gx = torch.cat([tr["gate_x"].reshape(-1) for tr in trace])
        mis = check_conventions_matter(tokens, w, cfg, logits)
        al = logits.abs()
        print("%-24s %s T=%2d V=%2d  |logit| max=%.4f mean=%.4f std=%.4f  a in [%.3g, %.5f] "
              "median %.3g  input gate in [%.3g, %.3g]"
              % (c["name"], "/".join(b[0].upper() for b in cfg["block_types"]), len(tokens),
                 logits.shape[1], float(al.max()), float(al.mean()), float(logits.std()),
                 float(a.min()), float(a.max()), float(a.median()), float(gx.min()), float(gx.max())))
        print("%-24s max |delta logit|: %s" % ("", ", ".join(
            ("%s %d" if isinstance(v, int) else "%s %.3g") % (k, v) for k, v in mis.items())))
    L.check_deterministic(root, CASES, generate_case, FILES, "recurrent_gemma_golden_")
    print("self-checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

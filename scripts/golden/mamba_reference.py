"""Golden reference outputs for the Mamba-1 (MambaForCausalLM, model_type "mamba") forward pass.

This script writes small random Mamba-1 checkpoints in Hugging Face layout
(config.json + model.safetensors) together with a token sequence and the
float64 reference logits for every position.  The C implementation in seqbench
is tested against these files.

Written directly from the equations (DESIGN.md section 4, "Mamba-1"; Gu & Dao
2023, Algorithm 2), with the conventions of Hugging Face
`MambaMixer.slow_forward` / state-spaces `mamba_simple.Mamba`:

    x = embeddings[token]
    per layer i:  x = x + mixer_i(RMSNorm_i(x))          RMSNorm = x/sqrt(mean x^2 + eps) * w
    logits = RMSNorm_f(x) @ lm_head^T                    lm_head = embeddings when tied

    mixer (D = hidden, E = expand*D, N = state_size, R = time_step_rank, K = conv_kernel):
      [u, z]   = in_proj(x)                  weight [2E, D]; rows 0..E-1 -> u, E..2E-1 -> z
      u        = SiLU(conv(u) + conv_b)      causal depthwise: conv(u)_t[e] = sum_j w[e,0,j] u_{t-(K-1)+j}[e]
      [d, B, C]= x_proj(u)                   weight [R+2N, E]; rows: delta (R), B (N), C (N)
      Delta    = softplus(dt_proj.weight @ d + dt_proj.bias)        [E]
      A        = -exp(A_log)                 [E, N]
      h_t[e,n] = exp(Delta_t[e] A[e,n]) h_{t-1}[e,n] + Delta_t[e] B_t[n] u_t[e],   h_{-1} = 0
      y_t[e]   = sum_n C_t[n] h_t[e,n] + D[e] u_t[e]
      out      = out_proj(y * SiLU(z))       weight [D, E]

The scan is a plain for-loop over time.  No `transformers`, no `safetensors`
package: torch (CPU) and numpy only; safetensors are written and read by hand
(scripts/golden/safetensors_io.py), and the token sampling, RMSNorm, output
formatting and round-trip check are those of scripts/golden/llama_reference.py.
Logits are computed in float64 from the exact F32 weights stored in the file.

Weights are random (fixed seeds).  dt_proj.bias is initialised as the paper
does (dt = exp(U(ln 0.001, ln 0.1)) clamped at 1e-4, bias = dt + log(-expm1(-dt)),
the inverse softplus); A_log[e, n] = log(n + 1) + a small random perturbation
(so that an [E, N] index mix-up changes the logits); D = 1 + noise; the other
scales are chosen so that logits and Delta are far from trivial.

Self-checks: the sequential scan equals the explicitly unrolled
("materialised") form y_t = sum_{s<=t} C_t (prod_{r=s+1..t} exp(Delta_r A)) Delta_s B_s u_s
+ D u_t on every layer's inputs; causality (each prefix's last row equals the
full-sequence row); tensors round-trip through the writer/reader; a few
plausible convention mistakes (flipped conv kernel, [N, E] reading of A_log,
B/C swapped) change the logits; byte-identical output on a second run.

Output, one directory per case under OUTPUT_ROOT:
    mamba_<case>/config.json        Hugging Face MambaConfig keys
    mamba_<case>/model.safetensors  weights (F32)
    mamba_<case>/tokens.json        JSON array of token ids
    mamba_<case>/logits.json        {"logits": [[V floats] per position]}, 17 sig. digits

Rerun (deterministic, byte-identical output):
    /usr/bin/python3 scripts/golden/mamba_reference.py tests/golden
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_reference as L  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

CASES = [
    dict(name="mamba_tied", seed=3001, vocab=29, hidden=16, state=8, layers=2, expand=2,
         conv=4, dt_rank=1, eps=1e-5, tied=True, n_tokens=20),
    dict(name="mamba_untied", seed=3002, vocab=23, hidden=24, state=4, layers=3, expand=2,
         conv=3, dt_rank=2, eps=1e-6, tied=False, n_tokens=17),
]

FILES = ("config.json", "model.safetensors", "tokens.json", "logits.json")

# Weight scales.  Linear weights ~ N(0, (gain / sqrt(fan_in))^2).
GAIN = {"in_proj": 1.5, "x_proj": 1.5, "out_proj": 1.0, "lm_head": 2.0}
EMBED_STD = 1.0
NORM_STD = 0.2        # norm weights = 1 + NORM_STD * N(0, 1)
CONV_GAIN = 1.5       # conv1d.weight ~ U(+-CONV_GAIN / sqrt(K))  (PyTorch default bound is 1/sqrt(K))
CONV_BIAS = 0.5       # conv1d.bias   ~ U(+-CONV_BIAS)
DT_W_GAIN = 2.0       # dt_proj.weight ~ U(+-DT_W_GAIN / sqrt(R))  (paper: 1/sqrt(R); wider -> Delta varies more)
A_LOG_NOISE = 0.1     # A_log[e, n] = log(n + 1) + A_LOG_NOISE * N(0, 1)
D_STD = 0.3           # D = 1 + D_STD * N(0, 1)
DT_MIN, DT_MAX, DT_FLOOR = 0.001, 0.1, 1e-4


# ----------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------

def make_config(c):
    """config.json contents, keys as Hugging Face MambaConfig writes them."""
    return {
        "architectures": ["MambaForCausalLM"],
        "model_type": "mamba",
        "vocab_size": c["vocab"],
        "hidden_size": c["hidden"],
        "state_size": c["state"],
        "num_hidden_layers": c["layers"],
        "layer_norm_epsilon": c["eps"],
        "pad_token_id": 0,
        "bos_token_id": 0,
        "eos_token_id": 0,
        "expand": c["expand"],
        "conv_kernel": c["conv"],
        "use_bias": False,
        "use_conv_bias": True,
        "hidden_act": "silu",
        "initializer_range": 0.1,
        "residual_in_fp32": True,
        "time_step_rank": c["dt_rank"],
        "time_step_scale": 1.0,
        "time_step_min": DT_MIN,
        "time_step_max": DT_MAX,
        "time_step_init_scheme": "random",
        "time_step_floor": DT_FLOOR,
        "rescale_prenorm_residual": False,
        "use_cache": True,
        "use_mambapy": False,
        "intermediate_size": c["expand"] * c["hidden"],
        "tie_word_embeddings": c["tied"],
        "torch_dtype": "float32",
    }


def config_text(cfg):
    """JSON text as PretrainedConfig.to_json_string writes it (indent 2, sorted keys)."""
    return json.dumps(cfg, indent=2, sort_keys=True) + "\n"


# ----------------------------------------------------------------------------
# Random weights (shared with mamba2_reference.py)
# ----------------------------------------------------------------------------

class Sampler:
    """Deterministic float64 sampling (scalar torch path), cast to float32 at the end."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def normal(self, shape, std, mean=0.0):
        t = torch.randn(*shape, generator=self.g, dtype=torch.float64) * std + mean
        return t.to(torch.float32).numpy()

    def uniform(self, shape, lo, hi):
        t = torch.rand(*shape, generator=self.g, dtype=torch.float64) * (hi - lo) + lo
        return t.to(torch.float32).numpy()

    def linear(self, out_f, in_f, gain):
        return self.normal((out_f, in_f), gain / math.sqrt(in_f))

    def conv(self, channels, K):
        w = self.uniform((channels, 1, K), -CONV_GAIN / math.sqrt(K), CONV_GAIN / math.sqrt(K))
        b = self.uniform((channels,), -CONV_BIAS, CONV_BIAS)
        return w, b

    def dt_bias(self, n, dt_min=DT_MIN, dt_max=DT_MAX, floor=DT_FLOOR):
        """Paper/official init: dt = exp(U(ln dt_min, ln dt_max)) clamped at floor; inverse softplus."""
        u = torch.rand(n, generator=self.g, dtype=torch.float64)
        dt = torch.exp(u * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=floor)
        inv = dt + torch.log(-torch.expm1(-dt))
        return inv.to(torch.float32).numpy()


def make_weights(cfg, seed):
    """Random float32 weights {name: np.float32 array}, generated in a fixed order."""
    s = Sampler(seed)
    V, D, N = cfg["vocab_size"], cfg["hidden_size"], cfg["state_size"]
    E, R, K = cfg["intermediate_size"], cfg["time_step_rank"], cfg["conv_kernel"]
    w = {"backbone.embeddings.weight": s.normal((V, D), EMBED_STD)}
    for i in range(cfg["num_hidden_layers"]):
        p = "backbone.layers.%d." % i
        w[p + "norm.weight"] = s.normal((D,), NORM_STD, 1.0)
        w[p + "mixer.in_proj.weight"] = s.linear(2 * E, D, GAIN["in_proj"])
        w[p + "mixer.conv1d.weight"], w[p + "mixer.conv1d.bias"] = s.conv(E, K)
        w[p + "mixer.x_proj.weight"] = s.linear(R + 2 * N, E, GAIN["x_proj"])
        w[p + "mixer.dt_proj.weight"] = s.uniform((E, R), -DT_W_GAIN / math.sqrt(R),
                                                  DT_W_GAIN / math.sqrt(R))
        w[p + "mixer.dt_proj.bias"] = s.dt_bias(E)
        base = torch.log(torch.arange(1, N + 1, dtype=torch.float64)).repeat(E, 1)
        noise = torch.randn(E, N, generator=s.g, dtype=torch.float64) * A_LOG_NOISE
        w[p + "mixer.A_log"] = (base + noise).to(torch.float32).numpy()
        w[p + "mixer.D"] = s.normal((E,), D_STD, 1.0)
        w[p + "mixer.out_proj.weight"] = s.linear(D, E, GAIN["out_proj"])
    w["backbone.norm_f.weight"] = s.normal((D,), NORM_STD, 1.0)
    # Always drawn (keeps the random stream identical); only stored if untied.
    lm_head = s.linear(V, D, GAIN["lm_head"])
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = lm_head
    return w


# ----------------------------------------------------------------------------
# The model (float64), written from the equations
# ----------------------------------------------------------------------------

silu = L.silu
rms_norm = L.rms_norm


def softplus(x):
    """log(1 + exp(x)); torch's threshold-20 linearisation, as HF and mamba_ssm use."""
    return F.softplus(x)


def causal_conv1d(u, weight, bias):
    """Causal depthwise conv: out_t[c] = sum_j w[c,0,j] u_{t-(K-1)+j}[c] + b[c] (zero before t=0).

    u is [T, C], weight [C, 1, K], bias [C].  Plain loops.
    """
    T, C = u.shape
    K = weight.shape[-1]
    out = torch.zeros(T, C, dtype=torch.float64)
    for t in range(T):
        acc = bias.clone()
        for j in range(K):
            s = t - (K - 1) + j
            if s >= 0:
                acc = acc + weight[:, 0, j] * u[s]
        out[t] = acc
    return out


def mixer_inputs(x, w, p, cfg, opts):
    """Everything the scan needs: u, z, Delta, A, B, C, D (x is [T, D] after the norm)."""
    E, N, R = cfg["intermediate_size"], cfg["state_size"], cfg["time_step_rank"]
    uz = x @ w[p + "in_proj.weight"].T                       # [T, 2E]
    u, z = uz[:, :E], uz[:, E:]
    cw = w[p + "conv1d.weight"]
    if opts.get("flip_conv"):
        cw = cw.flip(-1)
    u = silu(causal_conv1d(u, cw, w[p + "conv1d.bias"]))
    dbc = u @ w[p + "x_proj.weight"].T                       # [T, R + 2N]
    d, B, C = dbc[:, :R], dbc[:, R:R + N], dbc[:, R + N:]
    if opts.get("swap_bc"):
        B, C = C, B
    delta = softplus(d @ w[p + "dt_proj.weight"].T + w[p + "dt_proj.bias"])   # [T, E]
    A_log = w[p + "A_log"]
    if opts.get("a_log_transposed"):
        A_log = A_log.reshape(-1).reshape(N, E).T            # reading the [E, N] buffer as [N, E]
    A = -torch.exp(A_log)                                    # [E, N]
    return dict(u=u, z=z, delta=delta, A=A, B=B, C=C, D=w[p + "D"])


def selective_scan(u, delta, A, B, C, D):
    """Sequential scan (for-loop over time).  u, delta [T, E]; A [E, N]; B, C [T, N]; D [E]."""
    T, E = u.shape
    h = torch.zeros(E, A.shape[1], dtype=torch.float64)
    y = torch.zeros(T, E, dtype=torch.float64)
    for t in range(T):
        dA = torch.exp(delta[t][:, None] * A)                # [E, N]
        dBu = delta[t][:, None] * B[t][None, :] * u[t][:, None]
        h = dA * h + dBu
        y[t] = h @ C[t] + D * u[t]
    return y


def mixer(x, w, p, cfg, opts, trace=None):
    m = mixer_inputs(x, w, p, cfg, opts)
    y = selective_scan(m["u"], m["delta"], m["A"], m["B"], m["C"], m["D"])
    if trace is not None:
        trace.append(dict(m, y=y))
    return (y * silu(m["z"])) @ w[p + "out_proj.weight"].T


def forward(tokens, w, cfg, opts=None, trace=None):
    """Logits [T, V] (float64) for the token sequence."""
    opts = opts or {}
    emb = w["backbone.embeddings.weight"]
    x = emb[torch.tensor(tokens, dtype=torch.long)]
    eps = cfg["layer_norm_epsilon"]
    for i in range(cfg["num_hidden_layers"]):
        p = "backbone.layers.%d." % i
        x = x + mixer(rms_norm(x, w[p + "norm.weight"], eps), w, p + "mixer.", cfg, opts, trace)
    x = rms_norm(x, w["backbone.norm_f.weight"], eps)
    head = emb if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------

def generate_case(root, c):
    return L.write_case(root, c, make_config, make_weights, forward, config_text)


# ----------------------------------------------------------------------------
# Self-checks
# ----------------------------------------------------------------------------

def expected_names(cfg):
    names = {"backbone.embeddings.weight", "backbone.norm_f.weight"}
    for i in range(cfg["num_hidden_layers"]):
        p = "backbone.layers.%d." % i
        names.add(p + "norm.weight")
        for n in ("in_proj.weight", "conv1d.weight", "conv1d.bias", "x_proj.weight",
                  "dt_proj.weight", "dt_proj.bias", "A_log", "D", "out_proj.weight"):
            names.add(p + "mixer." + n)
    if not cfg["tie_word_embeddings"]:
        names.add("lm_head.weight")
    return names


def check_names_shapes(cfg, stored):
    assert set(stored) == expected_names(cfg), sorted(set(stored) ^ expected_names(cfg))
    V, D, N = cfg["vocab_size"], cfg["hidden_size"], cfg["state_size"]
    E, R, K = cfg["intermediate_size"], cfg["time_step_rank"], cfg["conv_kernel"]
    shapes = {"in_proj.weight": (2 * E, D), "conv1d.weight": (E, 1, K), "conv1d.bias": (E,),
              "x_proj.weight": (R + 2 * N, E), "dt_proj.weight": (E, R), "dt_proj.bias": (E,),
              "A_log": (E, N), "D": (E,), "out_proj.weight": (D, E)}
    for name, a in stored.items():
        if name.startswith("backbone.layers."):
            tail = name.split(".mixer.")[-1] if ".mixer." in name else None
            want = shapes[tail] if tail else (D,)
        else:
            want = {"backbone.embeddings.weight": (V, D), "backbone.norm_f.weight": (D,),
                    "lm_head.weight": (V, D)}[name]
        assert tuple(a.shape) == want, (name, a.shape, want)


def check_conv_matches_torch():
    """The loop conv equals torch's Conv1d(groups=C, padding=K-1) truncated to the first T
    outputs -- exactly how HF MambaMixer / Mamba2Mixer apply conv1d."""
    g = torch.Generator().manual_seed(11)
    for K in (2, 3, 4):
        u = torch.randn(7, 5, generator=g, dtype=torch.float64)
        wt = torch.randn(5, 1, K, generator=g, dtype=torch.float64)
        b = torch.randn(5, generator=g, dtype=torch.float64)
        ref = F.conv1d(u.T[None], wt, b, padding=K - 1, groups=5)[0, :, :7].T
        assert torch.allclose(causal_conv1d(u, wt, b), ref, rtol=0, atol=1e-13), K


def materialised_scan(u, delta, A, B, C, D):
    """y_t[e] = sum_{s<=t} sum_n C_t[n] exp(sum_{r=s+1..t} Delta_r[e] A[e,n]) Delta_s[e] B_s[n] u_s[e]
    + D[e] u_t[e]  -- the recurrence unrolled, every term written out."""
    T, E = u.shape
    y = torch.zeros(T, E, dtype=torch.float64)
    for t in range(T):
        acc = D * u[t]
        for s in range(t + 1):
            expo = torch.zeros_like(A)
            for r in range(s + 1, t + 1):
                expo = expo + delta[r][:, None] * A
            term = torch.exp(expo) * (delta[s][:, None] * B[s][None, :] * u[s][:, None])  # [E, N]
            acc = acc + term @ C[t]
        y[t] = acc
    return y


def check_scan_materialised(tokens, w, cfg):
    trace = []
    forward(tokens, w, cfg, trace=trace)
    assert len(trace) == cfg["num_hidden_layers"]
    for m in trace:
        ref = materialised_scan(m["u"], m["delta"], m["A"], m["B"], m["C"], m["D"])
        err = float((ref - m["y"]).abs().max())
        assert err <= 1e-12 * (1.0 + float(ref.abs().max())), err
    return trace


def check_causal_fn(fwd, tokens, w, cfg, logits):
    """Each prefix's last row must equal the full-sequence row (no future leak)."""
    for t in range(1, len(tokens) + 1):
        pre = fwd(tokens[:t], w, cfg)
        assert torch.allclose(pre[-1], logits[t - 1], rtol=1e-12, atol=1e-12), t


def check_causal(tokens, w, cfg, logits):
    check_causal_fn(forward, tokens, w, cfg, logits)


def rel_diff(a, b):
    return float((a - b).abs().max()) / float(b.abs().max())


def check_mistakes_matter(tokens, w, cfg, logits):
    """Plausible convention mistakes must move the logits visibly."""
    out = {}
    for flag in ("flip_conv", "a_log_transposed", "swap_bc"):
        d = rel_diff(forward(tokens, w, cfg, {flag: True}), logits)
        assert d > 1e-3, (flag, d)
        out[flag] = d
    return out



def check_case_common(root, c, cfg, weights, tokens, logits):
    """Checks shared with mamba2_reference.py; returns the float64 stored weights."""
    st_path = os.path.join(root, c["name"], "model.safetensors")
    L.check_safetensors_roundtrip(st_path, weights, "F32", cfg)
    stored, _ = read_safetensors(st_path)
    assert len(set(tokens)) < len(tokens), "tokens need a repeat"
    assert all(0 <= t < cfg["vocab_size"] for t in tokens)
    assert torch.isfinite(logits).all()
    with open(os.path.join(root, c["name"], "logits.json")) as f:
        back = torch.tensor(json.load(f)["logits"], dtype=torch.float64)
    assert torch.equal(back, logits)
    assert list(back.shape) == [len(tokens), cfg["vocab_size"]]
    with open(os.path.join(root, c["name"], "config.json")) as f:
        assert json.load(f) == cfg
    return stored


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUTPUT_ROOT   (e.g. tests/golden)\n" % argv[0])
        return 2
    root = argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)

    check_conv_matches_torch()
    for c in CASES:
        cfg, weights, tokens, logits = generate_case(root, c)
        stored = check_case_common(root, c, cfg, weights, tokens, logits)
        check_names_shapes(cfg, stored)
        w = L.to_float64(stored)
        trace = check_scan_materialised(tokens, w, cfg)
        check_causal(tokens, w, cfg, logits)
        mis = check_mistakes_matter(tokens, w, cfg, logits)
        delta = torch.cat([m["delta"].reshape(-1) for m in trace])
        decay = torch.cat([torch.exp(m["delta"][:, :, None] * m["A"][None]).reshape(-1) for m in trace])
        assert float(delta.max()) < 20.0     # softplus threshold never reached
        a = logits.abs()
        print("%-13s T=%2d V=%2d  |logit| max=%.4f mean=%.4f std=%.4f  Delta in [%.2g, %.2g] "
              "median %.2g  exp(Delta A) in [%.3g, %.6f]"
              % (c["name"], len(tokens), logits.shape[1], float(a.max()), float(a.mean()),
                 float(logits.std()), float(delta.min()), float(delta.max()),
                 float(delta.median()), float(decay.min()), float(decay.max())))
        print("%-13s mistakes -> max rel logit change: %s"
              % ("", ", ".join("%s %.3g" % kv for kv in mis.items())))
    L.check_deterministic(root, CASES, generate_case, FILES, "mamba_golden_")
    print("self-checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Golden reference outputs for the Mamba-2 (Mamba2ForCausalLM, model_type "mamba2") forward pass.

This script writes small random Mamba-2 checkpoints in Hugging Face layout
(config.json + model.safetensors) together with a token sequence and the
float64 reference logits for every position.  The C implementation in seqbench
is tested against these files.

Written directly from the equations (DESIGN.md section 4, "Mamba-2"; Dao & Gu
2024), with the Hugging Face checkpoint layout and the mathematics of the
official state-spaces code (mamba_ssm/modules/mamba2.py, ops/triton/layernorm_gated.py):

    x = embeddings[token]
    per layer i:  x = x + mixer_i(RMSNorm_i(x))          RMSNorm = x/sqrt(mean x^2 + eps) * w
    logits = RMSNorm_f(x) @ lm_head^T                    lm_head = embeddings when tied

    mixer (E = expand*D = H*P, H heads of dim P, G groups, N = state_size, K = conv_kernel):
      [z, xBC, dt] = in_proj(x)              weight [2E + 2GN + H, D]; rows z (E), xBC (E+2GN), dt (H)
      xBC          = SiLU(conv(xBC) + b)     causal depthwise, weight [E+2GN, 1, K]
      [x, B, C]    = xBC                     x (E), B (G*N), C (G*N); B_t[g] = B[g*N:(g+1)*N]
      Delta        = softplus(dt + dt_bias)  [H]
      A            = -exp(A_log)             [H]
      head h (channels h*P..h*P+P-1) reads group g = h // (H/G):
      h_t[h]       = exp(Delta_t[h] A[h]) h_{t-1}[h] + Delta_t[h] x_t[h] (outer) B_t[g]     (P x N)
      y_t[h]       = h_t[h] C_t[g] + D[h] x_t[h]
      v            = y * SiLU(z)             (gate before the norm: norm_before_gate=False)
      v            = per group of E/G consecutive channels: v_g / sqrt(mean(v_g^2) + eps) * w_g
      out          = out_proj(v)             weight [D, E]

Note on the gated norm: mamba_ssm builds RMSNormGated(d_ssm, group_size=d_ssm // ngroups,
norm_before_gate=False), i.e. normalised per group.  Some Hugging Face versions of
MambaRMSNormGated normalise over all E channels at once; with n_groups > 1 that
differs, and DESIGN.md (section 4, Conventions) says to follow the official
mathematics.  For n_groups = 1 the two agree.  time_step_limit is (0, inf), so no
clamp of Delta is applied (both HF and mamba_ssm skip it for that value).

The scan is a plain for-loop over time.  No `transformers`, no `safetensors`
package: torch (CPU) and numpy only; safetensors are written and read by hand
(scripts/golden/safetensors_io.py); token sampling, RMSNorm, output formatting
and the round-trip check come from scripts/golden/llama_reference.py, the
conv, softplus and dt init from scripts/golden/mamba_reference.py.  Logits are
computed in float64 from the exact F32 weights stored in the file.

Weights are random (fixed seeds).  dt_bias as the paper/official code
initialises it (dt = exp(U(ln 0.001, ln 0.1)) clamped at 1e-4, inverse
softplus); A_log = log(U(1, 16)) (official A_init_range); D = 1 + noise.

Self-checks: on every layer's actual inputs the sequential scan equals the
quadratic SSD form y = (L o C B^T)(Delta x) + D x (L[t,s] = exp(sum_{r=s+1..t} Delta_r A)
for s <= t, else 0) and the chunked SSD form (quadratic inside chunks of
chunk_size tokens, state passed between chunks); causality; tensors round-trip
through the writer/reader; for n_groups > 1 an ungrouped norm or the head->group
map h % G each change the logits visibly; byte-identical output on a second run.

config.json: time_step_limit is written as [0.0, Infinity] -- exactly what
Hugging Face writes (PretrainedConfig.to_json_string uses Python's json.dumps,
whose default allow_nan=True emits the bare token Infinity; Hub checkpoints
such as nvidia/NVIDIA-Nemotron-Nano-12B-v2-Base carry it).  That token is not
strict JSON, so a loader must accept it.

Output, one directory per case under OUTPUT_ROOT:
    mamba2_<case>/config.json        Hugging Face Mamba2Config keys
    mamba2_<case>/model.safetensors  weights (F32)
    mamba2_<case>/tokens.json        JSON array of token ids
    mamba2_<case>/logits.json        {"logits": [[V floats] per position]}, 17 sig. digits

Rerun (deterministic, byte-identical output):
    /usr/bin/python3 scripts/golden/mamba2_reference.py tests/golden
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_reference as L  # noqa: E402
import mamba_reference as M1  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

CASES = [
    dict(name="mamba2_g1", seed=4001, vocab=31, hidden=16, expand=2, head_dim=8, groups=1,
         state=8, conv=4, chunk=4, layers=2, eps=1e-5, tied=True, n_tokens=19),
    dict(name="mamba2_g2", seed=4002, vocab=27, hidden=24, expand=2, head_dim=6, groups=2,
         state=4, conv=3, chunk=5, layers=2, eps=1e-5, tied=False, n_tokens=23),
]

FILES = M1.FILES

# Weight scales.  Linear weights ~ N(0, (gain / sqrt(fan_in))^2).
GAIN = {"in_proj_z": 1.5, "in_proj_xbc": 1.5, "in_proj_dt": 2.0, "out_proj": 1.0, "lm_head": 2.0}
A_INIT_RANGE = (1.0, 16.0)   # A = U(1, 16), A_log = log A  (mamba_ssm Mamba2 default)
D_STD = 0.3                  # D = 1 + D_STD * N(0, 1)
NORM_STD = M1.NORM_STD
EMBED_STD = M1.EMBED_STD


# ----------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------

def make_config(c):
    """config.json contents, keys as Hugging Face Mamba2Config writes them."""
    E = c["expand"] * c["hidden"]
    assert E % c["head_dim"] == 0
    return {
        "architectures": ["Mamba2ForCausalLM"],
        "model_type": "mamba2",
        "num_heads": E // c["head_dim"],
        "head_dim": c["head_dim"],
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
        "n_groups": c["groups"],
        "use_bias": False,
        "use_conv_bias": True,
        "hidden_act": "silu",
        "initializer_range": 0.1,
        "residual_in_fp32": True,
        "time_step_rank": math.ceil(c["hidden"] / 16),   # Mamba2Config's "auto"; unused by the model
        "time_step_min": M1.DT_MIN,
        "time_step_max": M1.DT_MAX,
        "time_step_floor": M1.DT_FLOOR,
        "time_step_limit": [0.0, float("inf")],
        "rescale_prenorm_residual": False,
        "use_cache": True,
        "rms_norm": True,
        "chunk_size": c["chunk"],
        "tie_word_embeddings": c["tied"],
        "torch_dtype": "float32",
    }


def dims(cfg):
    D = cfg["hidden_size"]
    E = cfg["expand"] * D
    H, P, G, N = cfg["num_heads"], cfg["head_dim"], cfg["n_groups"], cfg["state_size"]
    assert H * P == E and H % G == 0 and E % G == 0
    return D, E, H, P, G, N


# ----------------------------------------------------------------------------
# Random weights
# ----------------------------------------------------------------------------

def make_weights(cfg, seed):
    """Random float32 weights {name: np.float32 array}, generated in a fixed order."""
    s = M1.Sampler(seed)
    V = cfg["vocab_size"]
    D, E, H, P, G, N = dims(cfg)
    K = cfg["conv_kernel"]
    conv_dim = E + 2 * G * N
    w = {"backbone.embeddings.weight": s.normal((V, D), EMBED_STD)}
    for i in range(cfg["num_hidden_layers"]):
        p = "backbone.layers.%d." % i
        w[p + "norm.weight"] = s.normal((D,), NORM_STD, 1.0)
        wz = s.linear(E, D, GAIN["in_proj_z"])
        wxbc = s.linear(conv_dim, D, GAIN["in_proj_xbc"])
        wdt = s.linear(H, D, GAIN["in_proj_dt"])
        w[p + "mixer.in_proj.weight"] = torch.cat(
            [torch.from_numpy(wz), torch.from_numpy(wxbc), torch.from_numpy(wdt)], 0).numpy()
        w[p + "mixer.conv1d.weight"], w[p + "mixer.conv1d.bias"] = s.conv(conv_dim, K)
        w[p + "mixer.dt_bias"] = s.dt_bias(H)
        a = torch.rand(H, generator=s.g, dtype=torch.float64) * (A_INIT_RANGE[1] - A_INIT_RANGE[0]) \
            + A_INIT_RANGE[0]
        w[p + "mixer.A_log"] = torch.log(a).to(torch.float32).numpy()
        w[p + "mixer.D"] = s.normal((H,), D_STD, 1.0)
        w[p + "mixer.norm.weight"] = s.normal((E,), NORM_STD, 1.0)
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


def head_groups(cfg, opts):
    """Group index of each head: h // (H/G)  (mistake variant: h % G)."""
    _, _, H, _, G, _ = dims(cfg)
    h = torch.arange(H)
    return h % G if opts.get("head_group_mod") else h // (H // G)


def gated_group_rms_norm(y, z, weight, groups, eps):
    """mamba_ssm RMSNormGated, norm_before_gate=False, group_size = E/groups."""
    v = y * silu(z)
    T, E = v.shape
    vg = v.reshape(T, groups, E // groups)
    vg = vg / torch.sqrt((vg * vg).mean(dim=-1, keepdim=True) + eps)
    return vg.reshape(T, E) * weight


def mixer_inputs(xn, w, p, cfg, opts):
    D, E, H, P, G, N = dims(cfg)
    zxbcdt = xn @ w[p + "in_proj.weight"].T                  # [T, 2E + 2GN + H]
    T = xn.shape[0]
    z = zxbcdt[:, :E]
    xbc = zxbcdt[:, E:2 * E + 2 * G * N]
    dt = zxbcdt[:, 2 * E + 2 * G * N:]
    assert dt.shape[1] == H
    xbc = silu(M1.causal_conv1d(xbc, w[p + "conv1d.weight"], w[p + "conv1d.bias"]))
    x = xbc[:, :E].reshape(T, H, P)
    B = xbc[:, E:E + G * N].reshape(T, G, N)
    C = xbc[:, E + G * N:].reshape(T, G, N)
    delta = M1.softplus(dt + w[p + "dt_bias"])               # [T, H]
    A = -torch.exp(w[p + "A_log"])                           # [H]
    return dict(z=z, x=x, B=B, C=C, delta=delta, A=A, D=w[p + "D"],
                hg=head_groups(cfg, opts))


def ssd_scan(x, delta, A, B, C, D, hg):
    """Sequential scan (for-loop over time and heads).

    x [T, H, P]; delta [T, H]; A, D [H]; B, C [T, G, N]; hg [H] group of each head.
    """
    T, H, P = x.shape
    N = B.shape[2]
    h = torch.zeros(H, P, N, dtype=torch.float64)
    y = torch.zeros(T, H, P, dtype=torch.float64)
    for t in range(T):
        for hd in range(H):
            g = int(hg[hd])
            h[hd] = torch.exp(delta[t, hd] * A[hd]) * h[hd] \
                + delta[t, hd] * torch.outer(x[t, hd], B[t, g])
            y[t, hd] = h[hd] @ C[t, g] + D[hd] * x[t, hd]
    return y


def mixer(xn, w, p, cfg, opts, trace=None):
    D, E, H, P, G, N = dims(cfg)
    m = mixer_inputs(xn, w, p, cfg, opts)
    y = ssd_scan(m["x"], m["delta"], m["A"], m["B"], m["C"], m["D"], m["hg"])
    if trace is not None:
        trace.append(dict(m, y=y))
    norm_groups = 1 if opts.get("ungrouped_norm") else G
    v = gated_group_rms_norm(y.reshape(-1, E), m["z"], w[p + "norm.weight"], norm_groups,
                             cfg["layer_norm_epsilon"])
    return v @ w[p + "out_proj.weight"].T


def forward(tokens, w, cfg, opts=None, trace=None):
    """Logits [T, V] (float64) for the token sequence."""
    opts = opts or {}
    emb = w["backbone.embeddings.weight"]
    x = emb[torch.tensor(tokens, dtype=torch.long)]
    eps = cfg["layer_norm_epsilon"]
    for i in range(cfg["num_hidden_layers"]):
        p = "backbone.layers.%d." % i
        x = x + mixer(L.rms_norm(x, w[p + "norm.weight"], eps), w, p + "mixer.", cfg, opts, trace)
    x = L.rms_norm(x, w["backbone.norm_f.weight"], eps)
    head = emb if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------

def generate_case(root, c):
    return L.write_case(root, c, make_config, make_weights, forward, M1.config_text)


# ----------------------------------------------------------------------------
# Self-checks
# ----------------------------------------------------------------------------

def check_names_shapes(cfg, stored):
    V = cfg["vocab_size"]
    D, E, H, P, G, N = dims(cfg)
    K = cfg["conv_kernel"]
    want = {"backbone.embeddings.weight": (V, D), "backbone.norm_f.weight": (D,)}
    for i in range(cfg["num_hidden_layers"]):
        p = "backbone.layers.%d." % i
        want[p + "norm.weight"] = (D,)
        want[p + "mixer.in_proj.weight"] = (2 * E + 2 * G * N + H, D)
        want[p + "mixer.conv1d.weight"] = (E + 2 * G * N, 1, K)
        want[p + "mixer.conv1d.bias"] = (E + 2 * G * N,)
        want[p + "mixer.dt_bias"] = (H,)
        want[p + "mixer.A_log"] = (H,)
        want[p + "mixer.D"] = (H,)
        want[p + "mixer.norm.weight"] = (E,)
        want[p + "mixer.out_proj.weight"] = (D, E)
    if not cfg["tie_word_embeddings"]:
        want["lm_head.weight"] = (V, D)
    assert set(stored) == set(want), sorted(set(stored) ^ set(want))
    for name, shape in want.items():
        assert tuple(stored[name].shape) == shape, (name, stored[name].shape, shape)


def ssd_quadratic(x, delta, A, B, C, D, hg):
    """Materialised SSD ("attention") form, per head:  Y = (L o C B^T) (Delta x) + D x,
    L[t, s] = exp(sum_{r=s+1..t} Delta_r A) for s <= t, 0 above the diagonal."""
    T, H, P = x.shape
    y = torch.zeros(T, H, P, dtype=torch.float64)
    for hd in range(H):
        g = int(hg[hd])
        Lm = torch.zeros(T, T, dtype=torch.float64)
        for t in range(T):
            for s in range(t + 1):
                Lm[t, s] = math.exp(sum(float(delta[r, hd]) for r in range(s + 1, t + 1)) * float(A[hd]))
        M = Lm * (C[:, g] @ B[:, g].T)                       # [T, T]
        y[:, hd] = M @ (delta[:, hd, None] * x[:, hd]) + D[hd] * x[:, hd]
    return y


def ssd_chunked(x, delta, A, B, C, D, hg, Q):
    """Chunked SSD: quadratic inside chunks of Q tokens, the state carried across chunks."""
    T, H, P = x.shape
    N = B.shape[2]
    Bh, Ch = B[:, hg], C[:, hg]                              # [T, H, N]
    state = torch.zeros(H, P, N, dtype=torch.float64)
    y = torch.zeros(T, H, P, dtype=torch.float64)
    for c0 in range(0, T, Q):
        sl = slice(c0, min(c0 + Q, T))
        n = sl.stop - sl.start
        cs = torch.cumsum(delta[sl] * A, dim=0)              # [n, H]
        seg = cs[:, None, :] - cs[None, :, :]                # [n(i), n(j), H]
        mask = torch.tril(torch.ones(n, n, dtype=torch.bool))[:, :, None]
        Lm = torch.where(mask, torch.exp(torch.where(mask, seg, torch.zeros_like(seg))),
                         torch.zeros_like(seg))
        CB = torch.einsum("ihn,jhn->ijh", Ch[sl], Bh[sl])
        dx = delta[sl][:, :, None] * x[sl]                   # [n, H, P]
        yc = torch.einsum("ijh,jhp->ihp", Lm * CB, dx)
        yc = yc + torch.exp(cs)[:, :, None] * torch.einsum("hpn,ihn->ihp", state, Ch[sl])
        y[sl] = yc + D[None, :, None] * x[sl]
        decay_to_end = torch.exp(cs[-1][None, :] - cs)       # [n, H]
        state = torch.exp(cs[-1])[:, None, None] * state \
            + torch.einsum("jh,jhp,jhn->hpn", decay_to_end, dx, Bh[sl])
    return y


def check_scan_forms(tokens, w, cfg):
    trace = []
    forward(tokens, w, cfg, trace=trace)
    assert len(trace) == cfg["num_hidden_layers"]
    for m in trace:
        args = (m["x"], m["delta"], m["A"], m["B"], m["C"], m["D"], m["hg"])
        scale = 1.0 + float(m["y"].abs().max())
        q = ssd_quadratic(*args)
        assert float((q - m["y"]).abs().max()) <= 1e-12 * scale
        for Q in (cfg["chunk_size"], 1, 3, len(tokens)):
            ch = ssd_chunked(*args, Q)
            assert float((ch - m["y"]).abs().max()) <= 1e-12 * scale, Q
    return trace


def check_norm_groups():
    """Grouped norm = ungrouped norm applied to each group separately; G = 1 is the plain norm."""
    g = torch.Generator().manual_seed(7)
    y = torch.randn(3, 12, generator=g, dtype=torch.float64)
    z = torch.randn(3, 12, generator=g, dtype=torch.float64)
    wt = torch.randn(12, generator=g, dtype=torch.float64)
    full = gated_group_rms_norm(y, z, wt, 3, 1e-5)
    for k in range(3):
        sl = slice(4 * k, 4 * k + 4)
        part = gated_group_rms_norm(y[:, sl], z[:, sl], wt[sl], 1, 1e-5)
        assert torch.allclose(full[:, sl], part, rtol=0, atol=1e-14)
    assert torch.allclose(gated_group_rms_norm(y, z, wt, 1, 1e-5),
                          L.rms_norm(y * silu(z), wt, 1e-5), rtol=0, atol=1e-14)


def rel_diff(a, b):
    return float((a - b).abs().max()) / float(b.abs().max())


def check_grouping_matters(tokens, w, cfg, logits):
    """n_groups > 1: an ungrouped norm, or head -> group h % G, must change the logits."""
    out = {}
    if cfg["n_groups"] == 1:
        # both variants are the same model when G = 1
        for flag in ("ungrouped_norm", "head_group_mod"):
            assert torch.allclose(forward(tokens, w, cfg, {flag: True}), logits,
                                  rtol=1e-12, atol=1e-12), flag
        return out
    for flag in ("ungrouped_norm", "head_group_mod"):
        d = rel_diff(forward(tokens, w, cfg, {flag: True}), logits)
        assert d > 1e-3, (flag, d)
        out[flag] = d
    return out


def check_config_infinity(root, c):
    """time_step_limit is written the way Hugging Face writes it: [0.0, Infinity]."""
    with open(os.path.join(root, c["name"], "config.json")) as f:
        text = f.read()
    assert "Infinity" in text
    assert json.loads(text)["time_step_limit"] == [0.0, float("inf")]



def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUTPUT_ROOT   (e.g. tests/golden)\n" % argv[0])
        return 2
    root = argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)

    M1.check_conv_matches_torch()
    check_norm_groups()
    for c in CASES:
        cfg, weights, tokens, logits = generate_case(root, c)
        stored = M1.check_case_common(root, c, cfg, weights, tokens, logits)
        check_names_shapes(cfg, stored)
        check_config_infinity(root, c)
        w = L.to_float64(stored)
        trace = check_scan_forms(tokens, w, cfg)
        M1.check_causal_fn(forward, tokens, w, cfg, logits)
        mis = check_grouping_matters(tokens, w, cfg, logits)
        delta = torch.cat([m["delta"].reshape(-1) for m in trace])
        decay = torch.cat([torch.exp(m["delta"] * m["A"][None]).reshape(-1) for m in trace])
        assert float(delta.max()) < 20.0     # softplus threshold never reached
        a = logits.abs()
        print("%-10s T=%2d V=%2d  |logit| max=%.4f mean=%.4f std=%.4f  Delta in [%.2g, %.2g] "
              "median %.2g  exp(Delta A) in [%.3g, %.6f]"
              % (c["name"], len(tokens), logits.shape[1], float(a.max()), float(a.mean()),
                 float(logits.std()), float(delta.min()), float(delta.max()),
                 float(delta.median()), float(decay.min()), float(decay.max())))
        if mis:
            print("%-10s grouping mistakes -> max rel logit change: %s"
                  % ("", ", ".join("%s %.3g" % kv for kv in mis.items())))
    L.check_deterministic(root, CASES, generate_case, FILES, "mamba2_golden_")
    print("self-checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

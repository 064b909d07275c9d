"""One training step (forward + cross-entropy over every position + backward, no
optimizer) of the small models in eager PyTorch, as `seqbench bench` times its own:
random tokens, random targets, batch x length.

The Mamba is written out here from MambaForCausalLM's weights with two scans:
 - sequential: the selective-scan reference of the official code (mamba_ssm's
   selective_scan_ref) as a loop over time, state h [B, E, N]:
       h_t = exp(dt_t A) h_t-1 + dt_t B_t u_t,   y_t = C_t h_t + D u_t
 - doubling: the same recurrence as a log2(T)-step Hillis-Steele scan of the
   pairs (a_t, b_t) = (exp(dt_t A), dt_t B_t u_t) with the associative rule
   (a, b) then (a', b') = (a a', a' b + b'); every step is one vectorised op over
   all positions, so autograd records ~log2(T) ops instead of T.
check_scans() holds both against the library's own forward.
The Transformer is LlamaForCausalLM itself (eager, the library's default attention).
"""

import time

import torch
import torch.nn.functional as F

from common import summary


def scan_sequential(a, b, C):
    """a, b [B, T, E, N]; C [B, T, N] -> y [B, T, E] (without the D skip)."""
    h = torch.zeros_like(b[:, 0])
    ys = []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        ys.append((h @ C[:, t, :, None])[..., 0])
    return torch.stack(ys, dim=1)


def scan_doubling(a, b, C):
    """Same result as scan_sequential: after the step with offset k every position
    holds the composition of the last 2k inputs (fewer at the start)."""
    T, k = a.shape[1], 1
    while k < T:
        # position t combines with t-k; the first k positions have nothing before them
        b = torch.cat((b[:, :k], a[:, k:] * b[:, :-k] + b[:, k:]), dim=1)
        a = torch.cat((a[:, :k], a[:, k:] * a[:, :-k]), dim=1)
        k *= 2
    return (b @ C[..., None])[..., 0]


SCANS = {"sequential": scan_sequential, "doubling": scan_doubling}


class TinyMamba(torch.nn.Module):
    """MambaForCausalLM's forward from its weights, with a chosen scan."""

    def __init__(self, hf_model, scan):
        super().__init__()
        self.hf = hf_model  # owns the parameters
        self.scan = SCANS[scan]
        self.eps = hf_model.config.layer_norm_epsilon

    def mixer(self, m, x):
        Bsz, T, _ = x.shape
        u, z = m.in_proj(x).chunk(2, dim=-1)                       # [B, T, E]
        K = m.conv1d.weight.shape[-1]
        u = F.conv1d(u.transpose(1, 2), m.conv1d.weight, m.conv1d.bias, padding=K - 1,
                     groups=u.shape[-1])[..., :T].transpose(1, 2)
        u = F.silu(u)
        R, N = m.time_step_rank, m.ssm_state_size
        dt, Bm, Cm = torch.split(m.x_proj(u), [R, N, N], dim=-1)
        dt = F.softplus(m.dt_proj(dt))                             # [B, T, E]
        A = -torch.exp(m.A_log)                                    # [E, N]
        a = torch.exp(dt[..., None] * A)                           # [B, T, E, N]
        b = (dt * u)[..., None] * Bm[:, :, None, :]
        y = self.scan(a, b, Cm) + m.D * u
        return m.out_proj(y * F.silu(z))

    def forward(self, ids):
        bb = self.hf.backbone
        x = bb.embeddings(ids)
        for blk in bb.layers:
            x = x + self.mixer(blk.mixer, blk.norm(x))
        return self.hf.lm_head(bb.norm_f(x))


@torch.no_grad()
def check_scans(hf_model, T=40):
    """max|ours - library| / max|library| for each scan on one random sequence."""
    ids = torch.randint(0, hf_model.config.vocab_size, (2, T), generator=torch.Generator().manual_seed(3))
    ref = hf_model(ids, use_cache=False).logits
    out = {}
    for name in SCANS:
        got = TinyMamba(hf_model, name)(ids)
        out[name] = ((got - ref).abs().max() / ref.abs().max()).item()
    return out


def train_step_time(forward, params, vocab, batch, length, repeats, seed):
    """Median seconds of forward + mean cross-entropy over every position + backward."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, length), generator=g)
    tgt = torch.randint(0, vocab, (batch, length), generator=g)

    def step():
        for p in params:
            p.grad = None
        logits = forward(ids)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        loss.backward()

    sec = []
    for i in range(repeats + 1):  # i = 0: warm-up
        t0 = time.perf_counter()
        step()
        if i:
            sec.append(time.perf_counter() - t0)
    r = summary(sec)
    r.update(batch=batch, length=length, ms_median=1e3 * r["seconds_median"], ms_best=1e3 * r["seconds_min"])
    return r


def mamba_step(hf_model, scan, batch, length, repeats, seed):
    hf_model.train()
    m = TinyMamba(hf_model, scan)
    return train_step_time(m, list(hf_model.parameters()), hf_model.config.vocab_size, batch, length, repeats, seed)


def llama_step(hf_model, batch, length, repeats, seed):
    hf_model.train()
    return train_step_time(lambda ids: hf_model(ids, use_cache=False).logits, list(hf_model.parameters()),
                           hf_model.config.vocab_size, batch, length, repeats, seed)

"""Plain PyTorch decode loops: one token per call, written out with the model's own
weight tensors and torch's functional ops, no `generate`, no Cache objects.
This is what a careful user writes in eager PyTorch; the HF column measures the
library's generic path on the same weights.

Each stepper keeps its whole state in tensors allocated once (the Llama KV cache
holds context + steps positions), so a timed run can restart from a saved
context. check_logits() holds each against the library's forward.
"""

import time

import torch
import torch.nn.functional as F

from common import summary


def _rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


class MambaStepper:
    """MambaForCausalLM's mixer, one token: conv window and SSM state per layer."""

    def __init__(self, model, batch):
        c = model.config
        self.eps = c.layer_norm_epsilon
        self.emb = model.backbone.embeddings.weight
        self.norm_f = model.backbone.norm_f.weight
        self.head = model.lm_head.weight
        self.layers = []
        for blk in model.backbone.layers:
            m = blk.mixer
            self.layers.append(dict(
                norm=blk.norm.weight, in_w=m.in_proj.weight, in_b=m.in_proj.bias,
                conv_w=m.conv1d.weight[:, 0, :], conv_b=m.conv1d.bias,
                x_w=m.x_proj.weight, dt_w=m.dt_proj.weight, dt_b=m.dt_proj.bias,
                A=-torch.exp(m.A_log.float()), D=m.D, out_w=m.out_proj.weight, out_b=m.out_proj.bias))
        E, N, K = c.intermediate_size, c.state_size, c.conv_kernel
        self.R = int(c.time_step_rank)
        self.N = N
        self.conv = [torch.zeros(batch, E, K) for _ in self.layers]
        self.ssm = [torch.zeros(batch, E, N) for _ in self.layers]

    def snapshot(self):
        return [t.clone() for t in self.conv], [t.clone() for t in self.ssm]

    def restore(self, snap):
        for dst, src in zip(self.conv + self.ssm, snap[0] + snap[1]):
            dst.copy_(src)

    def step(self, tok):
        x = self.emb[tok]                                         # [B, D]
        for L, conv, ssm in zip(self.layers, self.conv, self.ssm):
            xz = F.linear(_rms(x, L["norm"], self.eps), L["in_w"], L["in_b"])
            u, z = xz.chunk(2, dim=-1)
            conv[:, :, :-1] = conv[:, :, 1:].clone()              # slide the causal conv window
            conv[:, :, -1] = u
            u = F.silu((conv * L["conv_w"]).sum(-1) + (L["conv_b"] if L["conv_b"] is not None else 0))
            dt, Bm, Cm = torch.split(F.linear(u, L["x_w"]), [self.R, self.N, self.N], dim=-1)
            dt = F.softplus(F.linear(dt, L["dt_w"], L["dt_b"]))  # [B, E]
            # h <- exp(dt A) h + dt B u ;  y = C h + D u, gated by silu(z)
            ssm.mul_(torch.exp(dt[..., None] * L["A"])).add_(dt[..., None] * Bm[:, None, :] * u[..., None])
            y = (ssm @ Cm[..., None])[..., 0] + L["D"] * u
            x = x + F.linear(y * F.silu(z), L["out_w"], L["out_b"])
        return F.linear(_rms(x, self.norm_f, self.eps), self.head)


def _rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class LlamaStepper:
    """LlamaForCausalLM, one token: RoPE at the position, a preallocated KV cache,
    scaled_dot_product_attention over the filled part."""

    def __init__(self, model, batch, max_len):
        c = model.config
        self.eps = c.rms_norm_eps
        self.H, self.KV = c.num_attention_heads, c.num_key_value_heads
        self.hd = getattr(c, "head_dim", None) or c.hidden_size // self.H
        self.emb = model.model.embed_tokens.weight
        self.norm_f = model.model.norm.weight
        self.head = model.lm_head.weight
        self.inv_freq = model.model.rotary_emb.inv_freq.float()
        self.layers = []
        for blk in model.model.layers:
            a, m = blk.self_attn, blk.mlp
            self.layers.append(dict(
                n1=blk.input_layernorm.weight, n2=blk.post_attention_layernorm.weight,
                q=a.q_proj.weight, k=a.k_proj.weight, v=a.v_proj.weight, o=a.o_proj.weight,
                g=m.gate_proj.weight, u=m.up_proj.weight, d=m.down_proj.weight))
        self.k = [torch.zeros(batch, self.KV, max_len, self.hd) for _ in self.layers]
        self.v = [torch.zeros(batch, self.KV, max_len, self.hd) for _ in self.layers]
        self.pos = 0

    def snapshot(self):
        return self.pos  # positions past it are overwritten before they are read

    def restore(self, snap):
        self.pos = snap

    def step(self, tok):
        B, p = tok.shape[0], self.pos
        f = p * self.inv_freq
        cos, sin = torch.cat((f, f)).cos(), torch.cat((f, f)).sin()
        x = self.emb[tok]
        for L, kc, vc in zip(self.layers, self.k, self.v):
            h = _rms(x, L["n1"], self.eps)
            q = F.linear(h, L["q"]).view(B, self.H, 1, self.hd)
            k = F.linear(h, L["k"]).view(B, self.KV, self.hd)
            kc[:, :, p] = k * cos + _rotate_half(k) * sin
            vc[:, :, p] = F.linear(h, L["v"]).view(B, self.KV, self.hd)
            q = q * cos + _rotate_half(q) * sin
            a = F.scaled_dot_product_attention(q, kc[:, :, :p + 1], vc[:, :, :p + 1],
                                               enable_gqa=self.KV != self.H)
            x = x + F.linear(a.reshape(B, self.H * self.hd), L["o"])
            h = _rms(x, L["n2"], self.eps)
            x = x + F.linear(F.silu(F.linear(h, L["g"])) * F.linear(h, L["u"]), L["d"])
        self.pos = p + 1
        return F.linear(_rms(x, self.norm_f, self.eps), self.head)


def stepper_for(model, batch, max_len):
    t = model.config.model_type
    if t == "mamba":
        return MambaStepper(model, batch)
    if t == "llama":
        return LlamaStepper(model, batch, max_len)
    raise ValueError(f"no plain PyTorch decode loop for model_type {t!r}")


@torch.inference_mode()
def check_logits(model, tokens):
    """max|step - forward| / max|forward| over every position of one sequence."""
    ref = model(torch.tensor([tokens]), use_cache=False).logits[0]
    s = stepper_for(model, 1, len(tokens))
    got = torch.stack([s.step(torch.tensor([t]))[0] for t in tokens])
    return ((got - ref).abs().max() / ref.abs().max()).item()


@torch.inference_mode()
def decode(model, batch, context, steps, repeats, vocab, seed):
    """Greedy decode tokens/s of the plain loop: `context` random tokens stepped in
    (untimed), then `steps` timed steps, each feeding back the argmax, as generate does."""
    g = torch.Generator().manual_seed(seed)
    prompt = torch.randint(3, vocab, (batch, context), generator=g)
    s = stepper_for(model, batch, context + steps)
    for t in range(context):
        logits = s.step(prompt[:, t])
    snap, first = s.snapshot(), logits.argmax(-1)

    def run(n):
        s.restore(snap)
        tok = first
        t0 = time.perf_counter()
        for _ in range(n):
            tok = s.step(tok).argmax(-1)
        return time.perf_counter() - t0

    run(2)  # warm-up
    sec = [run(steps) for _ in range(repeats)]
    r = summary(sec)
    r.update(batch=batch, context=context, steps=steps,
             tokens_per_s_median=batch * steps / r["seconds_median"],
             tokens_per_s_best=batch * steps / r["seconds_min"])
    return r

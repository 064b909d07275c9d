"""The Hugging Face transformers side: random fp32 models of the two 130M-class
shapes, saved with save_pretrained so that seqbench benchmarks the very same
checkpoint (equal shapes and equal weights by construction), and the library's
own paths timed: `generate` for decode, one forward for prefill.

On a CPU without mamba_ssm / causal_conv1d / kernels, MambaForCausalLM runs the
library's PyTorch path (a sequential scan for prefill, its recurrent update for
decode): that is what a user of the library gets here, and what is measured.
"""

import json
import os
import time

import torch

from common import summary

# keys of configs/paper/*.json that describe the source, not the model
NOT_CONFIG = ("source", "architectures", "torch_dtype", "model_type")


def _paper_keys(path):
    with open(path) as f:
        c = json.load(f)
    return {k: v for k, v in c.items() if k not in NOT_CONFIG}


def mamba_config_from_paper(path):
    from transformers import MambaConfig
    return MambaConfig(**_paper_keys(path))


def llama_config_from_paper(path):
    """configs/paper/llama-124m.json: GPT-2 small's width and depth with a Llama block and
    the Mamba-130M vocabulary, tied (123.6M parameters, 494 MB fp32)."""
    from transformers import LlamaConfig
    return LlamaConfig(**_paper_keys(path))


def make_checkpoint(config, out_dir, seed):
    """A random fp32 model of the config's class, in eval mode, saved to out_dir."""
    from transformers import AutoModelForCausalLM
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir)
    return model


def n_params(model):
    # tied head counted once, as seqbench counts it
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


class _Stamp:
    """A logits processor generate calls once per new token, after that token's forward:
    the times between the first and the last call cover the decode steps alone,
    without the prefill of the prompt."""

    def __init__(self):
        self.t = []

    def __call__(self, input_ids, scores):
        self.t.append(time.perf_counter())
        return scores


@torch.inference_mode()
def generate_decode(model, batch, context, steps, repeats, vocab, seed):
    """Decode tokens/s of model.generate, greedy, exactly steps+1 new tokens after a
    random prompt of `context` tokens: the first new token comes from the prompt's
    forward, the `steps` after it from decode steps, which are what is timed."""
    from transformers import GenerationConfig, LogitsProcessorList
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (batch, context), generator=g)
    mask = torch.ones_like(ids)

    def run(n_new):
        st = _Stamp()
        gc = GenerationConfig(max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False, num_beams=1,
                              eos_token_id=None, pad_token_id=0, bos_token_id=None, use_cache=True)
        out = model.generate(ids, attention_mask=mask, generation_config=gc,
                             logits_processor=LogitsProcessorList([st]))
        if out.shape[1] != context + n_new or len(st.t) != n_new:
            raise RuntimeError(f"generate made {out.shape[1] - context} tokens ({len(st.t)} steps), "
                               f"asked for {n_new}")
        return st.t[-1] - st.t[0]

    run(3)  # warm-up: prefill, cache set-up and two decode steps
    sec = [run(steps + 1) for _ in range(repeats)]
    r = summary(sec)
    r.update(batch=batch, context=context, steps=steps,
             tokens_per_s_median=batch * steps / r["seconds_median"],
             tokens_per_s_best=batch * steps / r["seconds_min"])
    return r


@torch.inference_mode()
def prefill(model, length, repeats, vocab, seed):
    """Tokens/s of one batch-1 forward over `length` tokens (no cache kept)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (1, length), generator=g)
    sec = []
    for i in range(repeats + 1):  # i = 0: warm-up
        t0 = time.perf_counter()
        model(ids, use_cache=False, logits_to_keep=0)
        if i:
            sec.append(time.perf_counter() - t0)
    r = summary(sec)
    r.update(batch=1, length=length, tokens_per_s_median=length / r["seconds_median"],
             tokens_per_s_best=length / r["seconds_min"])
    return r

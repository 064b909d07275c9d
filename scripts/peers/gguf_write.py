"""A GGUF file (llama.cpp's format) from a Hugging Face checkpoint folder, written
with the `gguf` package: the 124M llama (LlamaForCausalLM) and Mamba-1
(MambaForCausalLM) that `make bench-peers` saves, so llama.cpp runs the very
weights seqbench and transformers run.

No tokenizer goes in: the checkpoints are random and have none, and every peer
is fed token ids. llama.cpp accepts a file whose tokenizer model is "none" and
sizes its vocabulary from `<arch>.vocab_size`.

dtype "f32" keeps every tensor as it is; "f16" and "bf16" store the matrices in
that type and keep in f32 what llama.cpp computes in f32 only (norms, biases and
other vectors, the SSM's A and its conv1d weights), as llama.cpp's own
converter does. Reads numpy and safetensors only, no torch.
"""

import json
import os

import numpy as np

DTYPES = ("f32", "f16", "bf16")


class GGUFError(RuntimeError):
    pass


def _config(hf_dir):
    with open(os.path.join(hf_dir, "config.json")) as f:
        return json.load(f)


def _tensors(hf_dir):
    """Every tensor of the checkpoint as an f32 numpy array, by its HF name."""
    from safetensors.numpy import load_file
    files = sorted(f for f in os.listdir(hf_dir) if f.endswith(".safetensors"))
    if not files:
        raise GGUFError(f"{hf_dir}: no .safetensors file")
    t = {}
    for f in files:
        t.update(load_file(os.path.join(hf_dir, f)))
    return {k: v.astype(np.float32, copy=False) for k, v in t.items()}


def _rope_rows(w, n_head):
    """Rows of a q or k projection reordered for llama.cpp's llama RoPE.

    transformers rotates dimension i of a head with dimension i + head_dim/2 (the
    two halves); llama.cpp's llama graph rotates dimension 2i with 2i + 1. Putting
    row i + j * half at 2i + j makes one rotation the other's, so the attention
    scores, and everything after them, are the same numbers."""
    rows, cols = w.shape
    half = rows // n_head // 2
    per_head = np.array([i + j * half for i in range(half) for j in (0, 1)])
    order = np.concatenate([h * 2 * half + per_head for h in range(n_head)])
    return w[order]


def _llama(cfg, t):
    """(metadata, [(gguf name, array)]) of a LlamaForCausalLM checkpoint."""
    if cfg.get("attention_bias") or cfg.get("mlp_bias"):
        raise GGUFError("llama with attention or MLP biases: not written (the bench's llama has none)")
    n_head, n_kv = cfg["num_attention_heads"], cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_head
    rope = cfg.get("rope_parameters") or {}
    theta = rope.get("rope_theta", cfg.get("rope_theta", 10000.0))
    if rope.get("rope_type", "default") != "default":
        raise GGUFError(f"llama rope_type {rope.get('rope_type')!r}: only the default RoPE is written")
    meta = [("context_length", cfg.get("max_position_embeddings", 4096)),
            ("embedding_length", cfg["hidden_size"]), ("block_count", cfg["num_hidden_layers"]),
            ("feed_forward_length", cfg["intermediate_size"]), ("head_count", n_head), ("head_count_kv", n_kv),
            ("layer_norm_rms_eps", cfg["rms_norm_eps"]), ("rope_freq_base", theta),
            ("rope_dimension_count", head_dim)]
    out = [("token_embd.weight", t["model.embed_tokens.weight"]),
           ("output_norm.weight", t["model.norm.weight"])]
    for i in range(cfg["num_hidden_layers"]):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        out += [(b + "attn_norm.weight", t[p + "input_layernorm.weight"]),
                (b + "attn_q.weight", _rope_rows(t[p + "self_attn.q_proj.weight"], n_head)),
                (b + "attn_k.weight", _rope_rows(t[p + "self_attn.k_proj.weight"], n_kv)),
                (b + "attn_v.weight", t[p + "self_attn.v_proj.weight"]),
                (b + "attn_output.weight", t[p + "self_attn.o_proj.weight"]),
                (b + "ffn_norm.weight", t[p + "post_attention_layernorm.weight"]),
                (b + "ffn_gate.weight", t[p + "mlp.gate_proj.weight"]),
                (b + "ffn_up.weight", t[p + "mlp.up_proj.weight"]),
                (b + "ffn_down.weight", t[p + "mlp.down_proj.weight"])]
    return meta, out


def _mamba(cfg, t):
    """(metadata, [(gguf name, array)]) of a MambaForCausalLM (Mamba-1) checkpoint."""
    d, e = cfg["hidden_size"], cfg["intermediate_size"]
    if e != 2 * d:  # llama.cpp's mamba graph has no other expansion
        raise GGUFError(f"mamba intermediate_size {e} is not 2 x hidden_size {d}: llama.cpp cannot load it")
    meta = [("context_length", 1 << 20), ("embedding_length", d), ("block_count", cfg["num_hidden_layers"]),
            # llama.cpp's loader asks for these two even for a model without attention or MLP
            ("feed_forward_length", 0), ("head_count", 0),
            ("ssm_conv_kernel", cfg["conv_kernel"]), ("ssm_inner_size", e), ("ssm_state_size", cfg["state_size"]),
            ("ssm_time_step_rank", cfg["time_step_rank"]), ("layer_norm_rms_eps", cfg["layer_norm_epsilon"]),
            ("ssm_dt_b_c_rms", False)]
    out = [("token_embd.weight", t["backbone.embeddings.weight"]),
           ("output_norm.weight", t["backbone.norm_f.weight"])]
    for i in range(cfg["num_hidden_layers"]):
        p, b = f"backbone.layers.{i}.", f"blk.{i}."
        for bias in ("mixer.in_proj.bias", "mixer.out_proj.bias"):
            if p + bias in t:  # the graph has no place for them: dropping one would change the model
                raise GGUFError(f"mamba {p + bias}: llama.cpp's mamba has no in/out projection bias")
        out += [(b + "attn_norm.weight", t[p + "norm.weight"]),
                (b + "ssm_in.weight", t[p + "mixer.in_proj.weight"]),
                (b + "ssm_conv1d.weight", t[p + "mixer.conv1d.weight"].reshape(e, -1)),  # [E, 1, K] -> [E, K]
                (b + "ssm_conv1d.bias", t[p + "mixer.conv1d.bias"]),
                (b + "ssm_x.weight", t[p + "mixer.x_proj.weight"]),
                (b + "ssm_dt.weight", t[p + "mixer.dt_proj.weight"]),
                (b + "ssm_dt.bias", t[p + "mixer.dt_proj.bias"]),
                # the file holds A itself; the checkpoint its log, negated
                (b + "ssm_a", -np.exp(t[p + "mixer.A_log"])),
                (b + "ssm_d", t[p + "mixer.D"]),
                (b + "ssm_out.weight", t[p + "mixer.out_proj.weight"])]
    return meta, out


_ARCHS = {"llama": ("llama", _llama, "lm_head.weight", "model.embed_tokens.weight"),
          "mamba": ("mamba", _mamba, "lm_head.weight", "backbone.embeddings.weight")}


def _keep_f32(name, arr):
    """Tensors llama.cpp reads as f32 whatever the file's type (its converter keeps them so)."""
    return arr.ndim <= 1 or name.endswith("_norm.weight") or ".ssm_a" in name or ".ssm_conv1d." in name


def _stored(name, arr, dtype):
    """(array, raw GGML type or None) as the file stores it."""
    import gguf
    if dtype == "f32" or _keep_f32(name, arr):
        return np.ascontiguousarray(arr, dtype=np.float32), None
    if dtype == "f16":
        return np.ascontiguousarray(arr, dtype=np.float16), None
    q = gguf.GGMLQuantizationType.BF16
    return gguf.quants.quantize(np.ascontiguousarray(arr, dtype=np.float32), q), q


def write(hf_dir, path, dtype):
    """hf_dir's checkpoint as a GGUF at path in dtype; returns a short description."""
    import gguf
    if dtype not in DTYPES:
        raise GGUFError(f"dtype {dtype!r} (known: {', '.join(DTYPES)})")
    cfg = _config(hf_dir)
    mt = cfg.get("model_type")
    if mt not in _ARCHS:
        raise GGUFError(f"{hf_dir}: model_type {mt!r} (written: {', '.join(_ARCHS)})")
    arch, convert, head, embed = _ARCHS[mt]
    t = _tensors(hf_dir)
    meta, tensors = convert(cfg, t)
    # a tied head is not stored (llama.cpp then reads the embedding); an untied one is
    if head in t and not np.array_equal(t[head], t[embed]):
        tensors.append(("output.weight", t[head]))
    ftype = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
             "bf16": gguf.LlamaFileType.MOSTLY_BF16}[dtype]
    w = gguf.GGUFWriter(path, arch)
    for key, value in meta:
        getattr(w, f"add_{key}")(value)
    w.add_vocab_size(cfg["vocab_size"])
    w.add_tokenizer_model("none")
    w.add_file_type(ftype)
    for name, arr in tensors:
        data, raw = _stored(name, arr, dtype)
        w.add_tensor(name, data, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return {"path": path, "dtype": dtype, "arch": arch, "tensors": len(tensors), "bytes": os.path.getsize(path)}

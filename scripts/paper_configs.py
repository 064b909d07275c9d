#!/usr/bin/env python3
"""Write the paper-scale model configurations in configs/paper/.

Each file is a config.json that `seqbench params --paper NAME` reads. They are
data transcribed from the papers' tables; this script is the one place where
that transcription is written down, so a reader can check a row against the
paper without reading JSON. Run it from the repository root; it needs only
Python's standard library and rewrites the files it owns (the hand-written
Llama-2 7B, Mistral 7B, Mixtral 8x7B, Jamba and 124M llama files are left
alone).

    python3 scripts/paper_configs.py
"""
import json
import os

OUT = "configs/paper"

# De et al. 2024, "Griffin" (arXiv 2402.19427), Appendix C, Table 2: model
# size, width D, RNN width D_RNN, depth N, MLP expansion M, attention heads.
# The same rows are used for the MQA Transformer, Hawk and Griffin.
GRIFFIN_TABLE2 = [
    ("100m", 768, 1024, 12, 3, 6),
    ("200m", 1024, 1536, 12, 3, 8),
    ("400m", 1536, 2048, 12, 3, 12),
    ("1.3b", 2048, 2560, 24, 3, 16),
    ("3b", 3072, 4096, 24, 3, 24),
    ("7b", 4096, 5632, 32, 3, 32),
    ("14b", 5120, 8192, 40, 3, 40),
]
# Section 3.1: every family is trained from 100M to 7B; Griffin also at 14B.
GRIFFIN_FAMILIES = {"mqa-transformer": "*", "hawk": "R", "griffin": "RRL"}
# Section 2.3: head dimension 128 for every attention block (H = D / 128),
# MQA (one key/value head). Section 4.1: the RG-LRU gates are block-diagonal
# with 16 blocks in every experiment. Section 3: local attention window 1024.
# The paper does not print its vocabulary; MassiveText is the Gopher /
# Chinchilla dataset, whose SentencePiece tokenizer has 32,000 entries, and
# with 32,000 the Griffin rows land on their printed sizes (docs/commands.md,
# params, says which figures depend on this). The embedding is tied to the output layer
# (Section 2). Biases, (1 + w) norms, the sqrt(D) embedding scale and the
# logit soft cap follow the released RecurrentGemma implementation of these
# blocks; the paper itself is silent on them (they change counts by < 0.01%).


def griffin_family(family, size, D, D_rnn, N, M, heads):
    temporal = GRIFFIN_FAMILIES[family]
    pattern = "".join(temporal[i % len(temporal)] + "-" for i in range(N))
    cfg = {
        "architectures": ["SeqbenchForCausalLM"],
        "model_type": "seqbench",
        "source": "De et al. 2024 (arXiv 2402.19427) Table 2, row %s; vocabulary 32000 assumed" % size,
        "vocab_size": 32000,
        "hidden_size": D,
        "intermediate_size": M * D,
        "pattern": pattern,
        "num_attention_heads": heads,
        "num_key_value_heads": 1,
        "head_dim": 128,
        "hidden_act": "gelu_pytorch_tanh",
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "partial_rotary_factor": 0.5,
        "position_encoding": "rope",
        "attention_window_size": 1024 if "L" in pattern else 0,
        "attention_out_bias": True,
        "norm_plus_one": True,
        "embedding_scale": round(D ** 0.5, 6),
        "logits_soft_cap": 30.0,
        "mlp_bias": True,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
    }
    if "R" in pattern:
        cfg.update({"lru_width": D_rnn, "rglru_heads": 16, "conv1d_width": 4})
    return cfg


# Gu and Dao 2023 (arXiv 2312.00752), the released Mamba language models
# (state-spaces/mamba-*-hf): width, layers; vocabulary 50277 padded to 50280.
MAMBA_LMS = [("130m", 768, 24), ("370m", 1024, 48), ("790m", 1536, 48), ("1.4b", 2048, 48), ("2.8b", 2560, 64)]
# Dao and Gu 2024 (arXiv 2405.21060), the released Mamba-2 LMs
# (state-spaces/mamba2-*): width, layers; head dim 64, state 128, one group;
# vocabulary 50277 padded to 50288 (a multiple of 16).
MAMBA2_LMS = [("130m", 768, 24), ("370m", 1024, 48), ("780m", 1536, 48), ("1.3b", 2048, 48), ("2.7b", 2560, 64)]


def mamba_lm(version, size, D, N):
    """A mamba (version 1) or mamba2 (version 2) config; both expand by 2 with a width-4 conv."""
    paper = "Gu and Dao 2023 (arXiv 2312.00752)" if version == 1 else "Dao and Gu 2024 (arXiv 2405.21060)"
    name = "mamba" if version == 1 else "mamba2"
    cfg = {
        "architectures": ["MambaForCausalLM" if version == 1 else "Mamba2ForCausalLM"],
        "model_type": name,
        "source": "%s, released %s-%s" % (paper, name, size),
        "vocab_size": 50280 if version == 1 else 50288,
        "hidden_size": D,
        "num_hidden_layers": N,
        "expand": 2,
        "conv_kernel": 4,
        "use_bias": False,
        "use_conv_bias": True,
        "hidden_act": "silu",
        "layer_norm_epsilon": 1e-05,
        "tie_word_embeddings": True,
        "torch_dtype": "float16",
    }
    if version == 1:
        cfg.update({"intermediate_size": 2 * D, "state_size": 16, "time_step_rank": -(-D // 16)})
    else:
        cfg.update({"num_heads": 2 * D // 64, "head_dim": 64, "n_groups": 1, "state_size": 128,
                    "chunk_size": 256, "rms_norm": True})
    return cfg


# Touvron et al. 2023 (arXiv 2307.09288), Llama-2 13B and 70B (GQA, 8 KV heads).
LLAMA2 = [("13b", 5120, 13824, 40, 40, 40), ("70b", 8192, 28672, 80, 64, 8)]


def llama2(size, D, F, N, heads, kv):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "source": "Touvron et al. 2023 (arXiv 2307.09288), Llama-2 %s" % size.upper(),
        "vocab_size": 32000,
        "hidden_size": D,
        "intermediate_size": F,
        "num_hidden_layers": N,
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "hidden_act": "silu",
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
    }


def write(name, cfg):
    path = os.path.join(OUT, name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print(path)


def main():
    for family in GRIFFIN_FAMILIES:
        for row in GRIFFIN_TABLE2:
            if row[0] == "14b" and family != "griffin":
                continue
            write("%s-%s" % (family, row[0]), griffin_family(family, *row))
    for row in MAMBA_LMS:
        write("mamba-%s" % row[0], mamba_lm(1, *row))
    for row in MAMBA2_LMS:
        write("mamba2-%s" % row[0], mamba_lm(2, *row))
    for row in LLAMA2:
        write("llama2-%s" % row[0], llama2(*row))


if __name__ == "__main__":
    main()

/* --dtype bf16 inference (docs/design.md): the model's matrices (every
 * rank-2 tensor that takes weight decay: projections, experts, routers,
 * the embedding and the head) are rounded to bf16 once. The rounded values
 * stay in params as fp32, so every path that reads params (embedding
 * lookup, prefill's sgemm, the scans) computes with the bf16 model, and
 * their bf16 bits go to params16 at the same offsets, where the decode
 * kernels (sub_linear, model_head) read half the bytes. Vectors (norms,
 * biases, A_log, D, convolutions, the RG-LRU's block-diagonal gates) stay
 * fp32, as in the half-precision checkpoints of mamba_ssm and llama.cpp's
 * converters. Training never sees a bf16 model: only eval, bench and
 * logits convert one. */
#include <stdlib.h>

#include "core/gemm.h"
#include "core/mem.h"
#include "model.h"

int model_tensor_is_bf16(const ModelTensor *t) { return t->rank == 2 && t->decay; }

int model_to_bf16(Model *m, Err *e)
{
#ifdef SEQ_F64
    (void)m;
    return err_set(e, "--dtype bf16 needs the fp32 build of seqbench");
#else
    if (m->params16) return 0;
    if (!m->params) return err_set(e, "--dtype bf16: the model has no parameters to convert");
    m->params16 = mem_alloc(m->n_params, sizeof *m->params16, "bf16 weights", e);
    if (!m->params16) return -1;
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (!model_tensor_is_bf16(t)) continue;
        real *p = m->params + t->offset;
        uint16_t *h = m->params16 + t->offset;
        for (size_t j = 0; j < t->numel; j++) {
            h[j] = bf16_from_f32(p[j]);
            p[j] = bf16_to_f32(h[j]);
        }
    }
    for (int l = 0; l < m->n_layers; l++) m->layers[l].sub.p16 = m->params16 + m->layers[l].param_offset;
    return 0;
#endif
}

void model_head(const Model *m, real *logits, const real *x, int M)
{
    int V = m->cfg.vocab_size, D = m->cfg.d_model;
#ifndef SEQ_F64
    if (m->params16 && M <= GEMM_NT_MAX_M && gemm_nt_bf16(logits, x, m->params16 + m->head_offset, M, V, D, 0))
        return;
#endif
    linear_fwd(logits, x, m->params + m->head_offset, M, V, D, 0);
}

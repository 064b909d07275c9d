#include "bounds.h"

double bench_decode_bytes(const Model *m, int B, int ctx)
{
    const ModelCfg *c = &m->cfg;
    double V = c->vocab_size, D = c->d_model, kvd = (double)c->n_kv_heads * c->head_dim;
    /* every matrix whole, in bf16 where the model holds a bf16 copy
     * (--dtype bf16), but an untied embedding, read by rows (fp32, as the
     * lookup reads them); a tied one is the head */
    double weights = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        double size = m->params16 && model_tensor_is_bf16(t) ? sizeof *m->params16 : sizeof(real);
        if (!c->tie_embeddings && t->offset == m->embed_offset) size = 0;
        weights += (double)t->numel * size;
    }
    weights += B * D * sizeof(real);
    double state = 0;
    for (int l = 0; l < m->n_layers; l++) {
        double s = (double)m->layers[l].sub.ops->state_size(c, B, ctx + 1);
        char sym = c->pattern[l];
        state += s + (sym == '*' || sym == 'L' ? 2 * B * kvd : s); /* read, then written */
    }
    return weights + (state + B * V) * sizeof(real);
}

void bench_bound_compute(double flops_per_token, const Roofline *r, BenchBound *b)
{
    *b = (BenchBound){0};
    b->flops_per_token = flops_per_token;
    b->compute_tokens_per_s = r->compute_gflops * 1e9 / flops_per_token;
    b->tokens_per_s = b->compute_tokens_per_s;
    b->kind = "compute";
}

double bench_train_flops_per_token(const ModelCfg *c, int T)
{
    return BENCH_TRAIN_FORWARDS * model_flops_per_token(c, (T + 1) / 2);
}

void bench_bound_decode(const Model *m, int B, int ctx, double flops_per_token, const Roofline *r, BenchBound *b)
{
    bench_bound_compute(flops_per_token, r, b);
    b->bytes_per_step = bench_decode_bytes(m, B, ctx);
    /* what a step touches stays in the last-level cache when it fills at most half of it */
    b->from_llc = r->llc_read_gbs > 0 && r->llc_bytes > 0 && b->bytes_per_step <= r->llc_bytes / 2;
    b->bandwidth_gbs = b->from_llc ? r->llc_read_gbs : r->bandwidth_gbs;
    b->memory_tokens_per_s = B * b->bandwidth_gbs * 1e9 / b->bytes_per_step;
    if (b->memory_tokens_per_s < b->compute_tokens_per_s) {
        b->tokens_per_s = b->memory_tokens_per_s;
        b->kind = "memory";
    }
}

#include "sublayer.h"

extern const SubOps attention_ops, local_attention_ops, mlp_ops;

const SubOps *subops_for_symbol(char symbol)
{
    switch (symbol) {
    case '*': return &attention_ops;
    case 'L': return &local_attention_ops;
    case '-': return &mlp_ops;
    default: return NULL; /* M, R, E: not implemented yet */
    }
}

size_t subops_n_params(const SubOps *ops, const ModelCfg *c)
{
    TensorDesc t[SUB_MAX_TENSORS];
    int n = ops->tensors(c, t);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)t[i].shape[0] * (size_t)(t[i].rank == 2 ? t[i].shape[1] : 1);
    return total;
}

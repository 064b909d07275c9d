#include "sublayer.h"

#include <stdlib.h>

extern const SubOps attention_ops, local_attention_ops, mlp_ops, mamba1_ops, mamba_lti_ops, mamba2_ops, rglru_ops, moe_ops;

const SubOps *subops_for(const ModelCfg *c, char symbol)
{
    switch (symbol) {
    case 'M':
        if (!c || c->mamba == MAMBA1) return &mamba1_ops;
        return c->mamba == MAMBA_LTI ? &mamba_lti_ops : c->mamba == MAMBA2 ? &mamba2_ops : NULL;
    case 'R': return &rglru_ops;
    case 'E': return &moe_ops;
    case '*': return &attention_ops;
    case 'L': return &local_attention_ops;
    case '-': return &mlp_ops;
    default: return NULL;
    }
}

size_t subops_n_params(const SubOps *ops, const ModelCfg *c)
{
    TensorDesc *t = malloc(SUB_MAX_TENSORS * sizeof *t);
    if (!t) return 0;
    int n = ops->tensors(c, t);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += tensor_numel(t[i].rank, t[i].shape);
    free(t);
    return total;
}

int subops_implemented(char symbol) { return subops_for(NULL, symbol) != NULL; }

/* seqbench logits: the logits of a saved model on a JSON array of token ids,
 * through the parallel (training) forward or the step-by-step decode path.
 * This is how anyone, and the test suite, compares seqbench with another
 * implementation. Output on stdout: {"logits": [[V floats] per position]}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "cli/options.h"
#include "core/jsonio.h"
#include "core/threads.h"
#include "models/hf.h"

#define MAX_TOKENS (1 << 20)

static void print_row(const real *z, int V, int last)
{
    putchar('[');
    for (int v = 0; v < V; v++) printf(v ? ", %.9g" : "%.9g", (double)z[v]);
    printf(last ? "]\n" : "],\n");
}

int cmd_logits(int argc, char **argv)
{
    char model_dir[1024] = "", tokens_path[1024] = "", mode[16] = "parallel", dtype[16] = "fp32";
    int threads = 0;
    Option opts[] = {
        OPT_S("model", model_dir, "checkpoint directory (config.json + model.safetensors)"),
        OPT_S("tokens", tokens_path, "JSON file holding an array of token ids"),
        OPT_S("mode", mode, "parallel (training forward) or step (one token at a time, decode path)"),
        OPT_I("threads", &threads, 0, 1024, "threads (0 = all cores)"),
        OPT_S("dtype", dtype, DTYPE_HELP),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "logits", "--model DIR --tokens FILE [--mode parallel|step]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    if (!*model_dir || !*tokens_path) die("logits: --model DIR and --tokens FILE are required");
    int step = !strcmp(mode, "step");
    if (!step && strcmp(mode, "parallel")) die("--mode must be parallel or step (got \"%s\")", mode);
    int bf16 = dtype_is_bf16(dtype);
    threads_init(threads);
    Model m;
    if (hf_load(&m, model_dir, &e) || (bf16 && model_to_bf16(&m, &e))) die_err(&e);
    cJSON *root = json_read_file(tokens_path, &e);
    if (!root) die_err(&e);
    int *tokens;
    long T = json_read_int_array(root, m.cfg.vocab_size, MAX_TOKENS, &tokens, tokens_path, &e);
    cJSON_Delete(root);
    if (T < 0) die_err(&e);
    if (T == 0) die("%s: the token array is empty", tokens_path);
    int V = m.cfg.vocab_size;
    /* everything is computed before the first byte is printed: an error never leaves half an output */
    real *logits = NULL;
    if (step) {
        Decoder d;
        if (decoder_create(&d, &m, 1, (int)T, &e)) die_err(&e);
        logits = malloc(sizeof(real) * (size_t)T * V);
        if (!logits) die("out of memory for %ld x %d logits", T, V);
        for (long t = 0; t < T; t++) {
            if (decoder_step(&d, &tokens[t], &e)) die_err(&e);
            memcpy(logits + (size_t)t * V, d.logits, sizeof(real) * V);
        }
        decoder_free(&d);
    } else {
        if (model_reserve_inference(&m, 1, (int)T, &e)) die_err(&e);
        model_forward(&m, tokens, 1, (int)T);
        logits = m.logits;
    }
    printf("{\"logits\": [\n");
    for (long t = 0; t < T; t++) print_row(logits + (size_t)t * V, V, t == T - 1);
    printf("]}\n");
    if (step) free(logits);
    free(tokens);
    model_free(&m);
    return 0;
}

#include "results.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/sysinfo.h"
#include "core/threads.h"
#include "models/hf.h"
#include "models/pattern.h"

cJSON *results_new(const char *command, int argc, char **argv)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "seqbench_version", sysinfo_version());
    cJSON_AddStringToObject(o, "command", command);
    cJSON *args = cJSON_AddArrayToObject(o, "argv");
    for (int i = 0; i < argc; i++) cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
    cJSON_AddNumberToObject(o, "threads", threads_count());
    cJSON_AddStringToObject(o, "blas_threading", threads_blas_kind());
    char cpu[256];
    sysinfo_cpu_model(cpu, sizeof cpu);
    cJSON_AddStringToObject(o, "cpu", cpu);
    cJSON_AddStringToObject(o, "compiler", sysinfo_compiler());
    cJSON_AddStringToObject(o, "compiler_flags", sysinfo_compiler_flags());
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(o, "started_at", when);
    return o;
}

cJSON *results_model(const Model *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pattern", m->cfg.pattern);
    cJSON_AddStringToObject(o, "model_type", m->cfg.model_type);
    cJSON_AddItemToObject(o, "config", hf_config_to_json(&m->cfg));
    ParamCounts pc;
    model_param_counts(m, &pc);
    cJSON *p = cJSON_AddObjectToObject(o, "params");
    cJSON_AddNumberToObject(p, "total", (double)pc.total);
    cJSON_AddNumberToObject(p, "embedding", (double)pc.embedding);
    cJSON_AddNumberToObject(p, "lm_head", (double)pc.head);
    cJSON_AddNumberToObject(p, "norms", (double)pc.norms);
    cJSON *by = cJSON_AddObjectToObject(p, "by_sublayer");
    for (int s = 0; s < 128; s++)
        if (pc.by_symbol[s]) {
            char key[64];
            snprintf(key, sizeof key, "%c %s", s, pattern_symbol_name((char)s));
            cJSON_AddNumberToObject(by, key, (double)pc.by_symbol[s]);
        }
    return o;
}

void results_eval_header(void) { printf("%-8s %-10s %-12s %-10s\n", "length", "string_acc", "token_acc", "loss"); }

void results_add_eval(cJSON *evals, const EvalResult *er)
{
    printf("%-8d %-10.4f %-12.4f %-10.4f\n", er->length, er->string_acc, er->token_acc, er->loss);
    fflush(stdout);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "length", er->length);
    cJSON_AddNumberToObject(x, "sequences", er->sequences);
    cJSON_AddNumberToObject(x, "string_acc", er->string_acc);
    cJSON_AddNumberToObject(x, "token_acc", er->token_acc);
    cJSON_AddNumberToObject(x, "loss", er->loss);
    cJSON_AddItemToArray(evals, x);
}

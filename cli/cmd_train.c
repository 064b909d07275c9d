/* seqbench train: build a model, train it on a task, evaluate it on held-out
 * instances at the training length and beyond, write the result JSON and
 * (with --save) the checkpoint. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/bounds.h"
#include "bench/harness.h"
#include "cli/commands.h"
#include "tasks/eval_grid.h"
#include "cli/model_options.h"
#include "core/results.h"
#include "models/describe.h"
#include "cli/task_args.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "core/roofline.h"
#include "core/threads.h"
#include "models/hf.h"
#include "tasks/eval.h"
#include "tasks/train.h"

/* Training speed as the benchmarks count it (bench/bounds.h): the steps'
 * tokens/s, FLOPs per token as 3 x the forward, and with a roofline the
 * fraction of its compute peak; on stderr and in the metrics. train_flops, the
 * steps' FLOPs in all, is a scaling figure's x axis (loss against compute). */
static void add_throughput(cJSON *metrics, const TrainResult *tr, const Roofline *rf)
{
    if (!(tr->tokens_done > 0 && tr->step_seconds > 0)) return; /* --steps 0, or a first step that diverged */
    double tps = tr->tokens_done / tr->step_seconds;
    double fpt = BENCH_TRAIN_FORWARDS * tr->forward_flops / tr->tokens_done;
    cJSON_AddNumberToObject(metrics, "train_tokens_per_s", tps);
    cJSON_AddNumberToObject(metrics, "train_flops_per_token", fpt);
    cJSON_AddNumberToObject(metrics, "train_flops", BENCH_TRAIN_FORWARDS * tr->forward_flops);
    cJSON_AddNumberToObject(metrics, "train_gflops", tps * fpt / 1e9);
    fprintf(stderr, "train: %.0f tokens/s in the steps (validation left out), %.4g FLOPs/token, %.2f GFLOP/s", tps,
            fpt, tps * fpt / 1e9);
    if (rf) {
        BenchBound b;
        bench_bound_compute(fpt, rf, &b);
        bench_add_bound(metrics, &b, tps);
        fprintf(stderr, ": %.1f%% of the compute peak (%.1f GFLOP/s)", 100 * tps / b.tokens_per_s, rf->compute_gflops);
    }
    fputc('\n', stderr);
}

int cmd_train(int argc, char **argv)
{
    ModelArgs ma;
    TaskArgs ta;
    TrainCfg tc;
    model_args_defaults(&ma);
    task_args_defaults(&ta);
    train_defaults(&tc);
    char schedule[16] = "cosine", eval_lengths[256] = "", eval_depths[512] = "", out[1024] = "", save[1024] = "", mem_s[32] = "",
         roofline[1024] = "";
    int eval_seqs = 1000, threads = 0, dry = 0;
    EvalGrid g = {0};
    Option opts[MODEL_OPTIONS_N + TASK_ARGS_N_OPTIONS + 32];
    int n = model_options(&ma, opts);
    n += task_args_options(&ta, opts + n);
    Option more[] = {
        OPT_I("steps", &tc.steps, 0, 1e8, "optimizer steps (0: none; --save then writes the initial weights)"),
        OPT_I("batch", &tc.batch, 1, 1 << 20, "sequences per step"),
        OPT_D("lr", &tc.lr, 1e-9, 10, "peak learning rate"),
        OPT_I("warmup", &tc.warmup, 0, 1e8, "linear warmup steps"),
        OPT_I("len-warmup", &tc.len_warmup, 0, 1e8,
              "length curriculum: over this many steps (after --len-hold) the longest training instance grows "
              "linearly from --len-from to max-len (0 = off)"),
        OPT_I("len-from", &tc.len_from, 0, 1 << 22, "the curriculum's first length (0 = max-len / 4)"),
        OPT_I("len-hold", &tc.len_hold, 0, 1e8, "steps at --len-from before the curriculum's ramp"),
        OPT_S("schedule", schedule, "after warmup: cosine (to lr x min-lr-ratio) or constant"),
        OPT_D("min-lr-ratio", &tc.min_lr_ratio, 0, 1, "final lr / peak lr for cosine"),
        OPT_I("decay-steps", &tc.decay_steps, 0, 1e8,
              "cosine: the decay ends at this step, past --warmup, and the lr stays at lr x min-lr-ratio after, so "
              "the schedule's shape does not follow the --steps cap (0 = it ends at --steps)"),
        OPT_D("weight-decay", &tc.weight_decay, 0, 10, "AdamW decoupled weight decay (matrices only)"),
        OPT_D("beta1", &tc.beta1, 0, 0.999999, "Adam beta1"),
        OPT_D("beta2", &tc.beta2, 0, 0.999999, "Adam beta2"),
        OPT_D("clip", &tc.grad_clip, 0, 1e9, "global gradient-norm clip (0 = off)"),
        OPT_U("seed", &tc.seed, "seed for weights, training data, validation and test data (disjoint streams)"),
        OPT_I("val-seqs", &tc.val_seqs, 0, 1e7,
              "learning curve: validation sequences scored at each check, from a stream of their own (0 = none)"),
        OPT_I("val-every", &tc.val_every, 0, 1e8, "steps between validation checks (0 = steps / 20)"),
        OPT_I("val-len", &tc.val_len, 0, 1 << 22, "length of the validation instances (0 = max-len)"),
        OPT_D("stop-acc", &tc.stop_acc, 0, 1,
              "stop once the validation string accuracy is at least this at --stop-holds checks in a row "
              "(0 = train every step); --steps is then the cap"),
        OPT_I("stop-holds", &tc.stop_holds, 1, 1000, "validation checks in a row --stop-acc must hold"),
        OPT_S("eval-lengths", eval_lengths, "instance lengths to test after training (default: max-len, 2 x max-len)"),
        OPT_I("eval-seqs", &eval_seqs, 1, 1e7, "held-out sequences per evaluated length"),
        OPT_D("eval-tokens", &g.max_tokens, 0, 1e15,
              "tokens one evaluated length may cost: longer lengths test fewer sequences, at least 1 (0 = no cap)"),
        OPT_S("eval-depths", eval_depths,
              "needle: test a grid of depths, a count (11: 0, 0.1, ..., 1) or a list (0,0.5,1)"),
        OPT_S("mem-limit", mem_s, "memory to stay within, e.g. 500M or 8G; an eval length beyond it is an OOM "
                                  "cell (default: available memory, or SEQ_MEM_LIMIT)"),
        OPT_S("out", out, "result JSON file (written atomically)"),
        OPT_S("save", save, "directory for the checkpoint (config.json + model.safetensors)"),
        OPT_S("roofline", roofline, "a `seqbench bench roofline --out FILE` result: report the training's FLOP/s as "
                                    "a fraction of its compute peak (not measured here: it takes seconds)"),
        OPT_I("threads", &threads, 0, 1024, "threads (0 = all cores)"),
        OPT_F("dry-run", &dry, "check every option, size and output, " OPTIONS_DRY_RUN_NOTE
              " on stdout, and stop before training"),
    };
    _Static_assert(sizeof more / sizeof *more <= 32, "opts[] too small for these options");
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);

    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "train", "[options]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    /* Everything that can be refused is refused here, before a step is
     * trained: outputs first, as nothing else depends on them. */
    static const char *const save_files[] = {"config.json", "model.safetensors", "seqbench_train.json", "seqbench_bpe.json",
                                             NULL};
    if (*mem_s) { /* first: every memory check below counts against it */
        size_t lim;
        if (mem_parse_size(mem_s, &lim, &e)) die("--mem-limit: %s", e.msg);
        mem_set_limit(lim);
    }
    if (*out && results_check_file("--out", out, &e)) die_err(&e);
    if (*save && results_check_dir("--save", save, save_files, &e)) die_err(&e);
    if (!strcmp(schedule, "cosine")) tc.cosine = 1;
    else if (!strcmp(schedule, "constant")) tc.cosine = 0;
    else die("--schedule must be cosine or constant (got \"%s\")", schedule);
    Roofline rf;
    if (*roofline && roofline_read_file(roofline, &rf, &e)) die_err(&e);
    if (train_validate(&tc, &e)) die_err(&e);
    const Task *task = task_args_resolve(&ta, tc.seed, &e);
    if (!task) die_err(&e);
    task_args_digest_data(&ta, opts, n);
    if (task->text && tc.stop_acc > 0)
        die("--stop-acc is for accuracy tasks: %s is measured in bits per byte (train for --steps)", task->name);
    if (tc.len_warmup) {
        if (!tc.len_from) tc.len_from = ta.cfg.max_len / 4;
        if (tc.len_from > ta.cfg.max_len)
            die("--len-from %d is longer than max-len %d", tc.len_from, ta.cfg.max_len);
        if (task->check_length(&ta.cfg, tc.len_from, &e)) die("--len-from: %s", e.msg);
    }
    if (tc.val_len) { /* within what training already fits in memory, so a check cannot fail mid-run */
        if (tc.val_len > ta.cfg.max_len) die("--val-len %d is longer than max-len %d", tc.val_len, ta.cfg.max_len);
        if (task->check_length(&ta.cfg, tc.val_len, &e)) die("--val-len: %s", e.msg);
    }
    if (*eval_lengths) {
        g.n_lengths = parse_int_list(eval_lengths, g.lengths, EVAL_GRID_MAX_LENGTHS, 1, 1 << 22, "--eval-lengths", &e);
        if (g.n_lengths < 0) die_err(&e);
    } else { /* a text is tested at the length it was trained at: longer contexts are another question */
        g.lengths[0] = ta.cfg.max_len;
        g.lengths[1] = 2 * ta.cfg.max_len;
        g.n_lengths = task->text ? 1 : 2;
    }
    if (*eval_depths) {
        if (strcmp(task->name, "needle")) die("--eval-depths is for the needle task (task is %s)", task->name);
        if ((g.n_depths = eval_grid_parse_depths(eval_depths, g.depths, &e)) < 0) die("--eval-%s", e.msg);
    }
    ModelCfg cfg;
    if (model_args_to_cfg(&ma, task->vocab_size(&ta.cfg), &cfg, &e)) die_err(&e);
    Model m;
    if (model_layout(&m, &cfg, &e)) die_err(&e); /* sizes only: the memory check comes before the allocation */
    size_t n_params = m.n_params;
    model_free(&m);
    /* weights, gradients and two Adam moments: none is allocated yet */
    task_args_check_memory(&cfg, tc.batch, task->seq_len(&ta.cfg, ta.cfg.max_len), 4.0 * sizeof(real) * n_params,
                           "training");
    /* evaluation memory is not checked: a length that fits no path is an OOM cell of the result */
    task_args_check_lengths(task, &ta.cfg, g.lengths, g.n_lengths);
    threads_init(threads);
    if (dry) options_print_resolved(stdout, "train", opts, n);
    char count[32];
    fprintf(stderr, "seqbench train: %s on %s, pattern %s, %zu parameters (%s), %d threads%s\n", cfg.model_type,
            task->name, cfg.pattern, n_params, results_count((double)n_params, count, sizeof count), threads_count(),
            dry ? "; dry run, nothing trained" : "");
    if (dry) {
        task_args_free(&ta);
        return 0;
    }
    if (model_create(&m, &cfg, &e)) die_err(&e);
    model_init_weights(&m, tc.seed);
    cJSON *res = results_new("train", argc, argv);

    if (*roofline && rf.threads && rf.threads != threads_count())
        fprintf(stderr, "train: warning: --roofline %s was measured with %d threads, this run uses %d\n", roofline,
                rf.threads, threads_count());

    TrainResult tr;
    if (train_run(&m, task, &ta.cfg, &tc, &tr, &e)) die_err(&e);
    cJSON_AddItemToObject(res, "settings", options_to_json(opts, n));
    options_add_digest(res, "train", opts, n);
    cJSON_AddNumberToObject(res, "seed", (double)tc.seed);
    cJSON_AddStringToObject(res, "task", task->name);
    if (ta.corpus) cJSON_AddItemToObject(res, "data", task_args_data_json(&ta));
    cJSON_AddItemToObject(res, "model", model_describe(&m));
    cJSON_AddStringToObject(res, "status", tr.diverged ? "diverged" : "ok");
    if (tr.diverged) cJSON_AddNumberToObject(res, "diverged_step", tr.diverged_step);
    cJSON_AddItemToObject(res, "loss_curve", train_loss_curve_json(&tr));
    cJSON *metrics = cJSON_AddObjectToObject(res, "metrics");
    cJSON_AddNumberToObject(metrics, "steps", tr.steps_done);
    cJSON_AddNumberToObject(metrics, "tokens", tr.tokens_done);
    /* why training ended: every step given, the validation target reached, or a diverged loss */
    cJSON_AddStringToObject(metrics, "stopped", tr.diverged ? "diverged" : tr.stopped_at_target ? "target" : "steps");
    if (tc.val_seqs) cJSON_AddItemToObject(metrics, "validation", train_validation_json(&tc, &ta.cfg, &tr));
    if (isfinite(tr.final_loss)) cJSON_AddNumberToObject(metrics, "final_train_loss", tr.final_loss);
    cJSON_AddNumberToObject(metrics, "train_seconds", tr.wall_seconds);
    cJSON_AddNumberToObject(metrics, "ms_per_step", tr.ms_per_step);
    add_throughput(metrics, &tr, *roofline ? &rf : NULL);
    if (*roofline) cJSON_AddItemToObject(res, "roofline", roofline_json(&rf, roofline));
    if (!tr.diverged) {
        EvalOpts eo = {eval_seqs, tc.batch, tc.seed, EVAL_AUTO, 1, 0};
        if (eval_grid_run(&m, task, &ta.cfg, &g, &eo, metrics, &e)) die_err(&e);
    } else {
        cJSON_AddArrayToObject(metrics, "eval");
    }
    results_finish(res); /* wall_time_s: the whole command, as bench's; metrics.train_seconds is the training */
    if (*save && !tr.diverged) {
        if (hf_save(&m, save, &e)) die_err(&e);
        /* what eval needs to rebuild the task: the settings beside the weights */
        char path[1100];
        snprintf(path, sizeof path, "%s/seqbench_train.json", save);
        if (json_write_file(path, res, &e)) die_err(&e);
        /* a BPE model's merges beside it, for readers outside seqbench (eval learns them again and compares) */
        if (ta.corpus && ta.corpus->tokens) {
            cJSON *bpe = bpe_to_json(&ta.corpus->bpe);
            snprintf(path, sizeof path, "%s/seqbench_bpe.json", save);
            if (json_write_file(path, bpe, &e)) die_err(&e);
            cJSON_Delete(bpe);
        }
        fprintf(stderr, "saved %s\n", save);
    }
    if (*out) {
        if (json_write_file(out, res, &e)) die_err(&e);
        fprintf(stderr, "wrote %s\n", out);
    }
    cJSON_Delete(res);
    model_free(&m);
    task_args_free(&ta);
    return tr.diverged ? 1 : 0;
}

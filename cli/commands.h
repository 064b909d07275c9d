/* One function per subcommand; each returns the process exit status
 * (0 ok, 1 a check or run failed, 2 user error via die()). */
#ifndef SEQ_COMMANDS_H
#define SEQ_COMMANDS_H

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_sample(int argc, char **argv);

/* An experiment cell's command line (argv[1] train, bench or params) run in
 * this process: what the runner (reproduce/run.c) calls in each cell's forked
 * child, as ExpRun.run_command. */
int run_cell_command(int argc, char **argv);

#endif

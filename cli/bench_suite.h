/* The `seqbench bench` subcommands (cli/cmd_bench.c dispatches to them).
 * Each is `int bench_NAME_main(int argc, char **argv)`: argv[1] is "bench",
 * argv[2] the subcommand, its options start at argv[3]; it returns the exit
 * status like a command (cli/commands.h). A new one is a declaration here
 * and a row in cmd_bench.c's table. */
#ifndef SEQ_BENCH_SUITE_H
#define SEQ_BENCH_SUITE_H

int bench_model_main(int argc, char **argv);     /* plain `seqbench bench`: options from argv[2] */
int bench_roofline_main(int argc, char **argv);
int bench_decode_main(int argc, char **argv);
int bench_latency_main(int argc, char **argv);
int bench_throughput_main(int argc, char **argv);
int bench_prefill_main(int argc, char **argv);
/* bench kernels and bench memory: cli/bench_kernels.h, cli/bench_memory.h */

#endif

/* The `seqbench bench` subcommands (cli/cmd_bench.c dispatches to them).
 * Each is `int bench_NAME_main(int argc, char **argv)`: argv[1] is "bench",
 * argv[2] the subcommand, its options start at argv[3]; it turns them into
 * its instrument's settings (bench/NAME.h), runs it and returns the exit
 * status like a command (cli/commands.h). A new one is a declaration here, a
 * cli/cmd_bench_NAME.c and a row in cmd_bench.c's table. */
#ifndef SEQ_BENCH_SUITE_H
#define SEQ_BENCH_SUITE_H

int bench_roofline_main(int argc, char **argv);
int bench_decode_main(int argc, char **argv);
int bench_latency_main(int argc, char **argv);
int bench_throughput_main(int argc, char **argv);
int bench_prefill_main(int argc, char **argv);
int bench_kernels_main(int argc, char **argv);
int bench_memory_main(int argc, char **argv);
int bench_cells_main(int argc, char **argv);

#endif

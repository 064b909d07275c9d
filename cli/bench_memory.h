/* seqbench bench memory: decode state (KV cache, recurrent state) against
 * context length, analytic for every model and measured (resident memory of
 * a decode) for the small presets. */
#ifndef SEQ_BENCH_MEMORY_H
#define SEQ_BENCH_MEMORY_H

/* argv[0] is the subcommand's name ("memory"); returns the exit status. */
int bench_memory(int argc, char **argv);

#endif

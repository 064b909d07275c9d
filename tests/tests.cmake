# Tests: one executable per file, each ending with "N passed, N failed".
# Unit and golden tests run against the float build; gradient checks against
# the double build of models/ (core/real.h).
# Tests share the cores (ctest -j): OpenMP threads that spin while waiting
# would steal them from each other (measured under load: 330 ms a training
# step spinning, 37 ms passive), so tests wait passively.
set(SEQ_TEST_ENV "SEQ_SOURCE_DIR=${CMAKE_SOURCE_DIR};SEQ_BINARY=$<TARGET_FILE:seqbench>;OMP_NUM_THREADS=2;OMP_WAIT_POLICY=PASSIVE")

function(seq_test name)
  cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
  add_executable(${name} tests/${name}.c)
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${SEQ_TEST_ENV}")
endfunction()

# a test file built a second time as double (real = double, header-only kernels), under its own name
function(seq_test_f64 name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE seq_core)
  seq_use_f64(${name})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${SEQ_TEST_ENV}")
endfunction()

# the folders are layers: no #include reaches up (docs/design.md §1)
add_test(NAME layers COMMAND sh ${CMAKE_SOURCE_DIR}/tests/layers.sh ${CMAKE_SOURCE_DIR})
add_test(NAME f64_symbols COMMAND sh ${CMAKE_SOURCE_DIR}/tests/f64_symbols.sh ${CMAKE_BINARY_DIR})
seq_test(test_safetensors LIBS seq_core)
seq_test(test_atomic_json LIBS seq_core)
seq_test(test_gradcheck LIBS seq_models_f64)
seq_use_f64(test_gradcheck)
# tiny sizes: one thread, so a loaded machine cannot make the pool's spinning dominate
set_tests_properties(test_gradcheck PROPERTIES ENVIRONMENT "${SEQ_TEST_ENV};OMP_NUM_THREADS=1")
seq_test(test_step_forward LIBS seq_models)
# prefill-then-step == stepping all the way, every sublayer family (issue 17)
seq_test(test_prefill LIBS seq_models)
seq_test(test_golden LIBS seq_models)
seq_test(test_core LIBS seq_core)
seq_test(test_model LIBS seq_models)
seq_test(test_kernels LIBS seq_models)
# the tiled attention forward (inference, and training with P) against its reference, as float and as double
seq_test(test_attn_tiled LIBS seq_models)
seq_test_f64(test_attn_tiled_f64 tests/test_attn_tiled.c)
# the Mamba-1 checkpointed training scan against its reference loops, in float and in double
seq_test(test_m1_scan LIBS seq_core)
seq_test_f64(test_m1_scan_f64 tests/test_m1_scan.c)
add_test(NAME train_copy COMMAND sh ${CMAKE_SOURCE_DIR}/tests/train_copy.sh)
set_tests_properties(train_copy PROPERTIES ENVIRONMENT "${SEQ_TEST_ENV}" TIMEOUT 1500)
seq_test(test_cli LIBS seq_core)
add_dependencies(test_cli seqbench)
seq_test(test_paper LIBS seq_models)
seq_test(test_reliability LIBS seq_core)
add_dependencies(test_reliability seqbench)
seq_test(test_hybrid LIBS seq_models)
# the presets' defaults and --param-budget fits, as docs/patterns.md tabulates them;
seq_test(test_presets LIBS seq_models)
seq_test(test_tasks LIBS seq_tasks)
add_dependencies(test_tasks seqbench)
# inference arena, decode vs parallel eval, OOM cells and the needle grid (issue 16)
seq_test(test_eval LIBS seq_tasks)
add_dependencies(test_eval seqbench)
# the lm task: its split never leaks, 8 bits per byte uniform, a tiny model overfits 1 KB, the corpus's
# errors and record through the binary (issue 31)
seq_test(test_lm LIBS seq_tasks)
add_dependencies(test_lm seqbench)
# seqbench sample against make_batch on train's and eval's streams (issue 16)
seq_test(test_sample LIBS seq_tasks)
add_dependencies(test_sample seqbench)
# presets and compare through the binary: tiny models, a few steps each
seq_test(test_compare LIBS seq_core)
add_dependencies(test_compare seqbench)
# every `seqbench bench` instrument, tiny: JSON with machine, roofline and bounds (issue 17)
seq_test(test_bench LIBS seq_core)
add_dependencies(test_bench seqbench)
# bench kernels and bench memory through the binary: tiny widths and lengths, seconds (issue 17)
seq_test(test_bench_kernels LIBS seq_core)
add_dependencies(test_bench_kernels seqbench)
# whole models again through the AVX2 copies of every kernel (SEQBENCH_CPU, core/cpu.h): what a CPU
# without AVX-512 runs, so an AVX-512 machine's run of the tests covers both
foreach(t test_step_forward test_prefill test_golden test_eval test_hybrid)
  add_test(NAME ${t}_avx2 COMMAND ${t})
  set_tests_properties(${t}_avx2 PROPERTIES ENVIRONMENT "${SEQ_TEST_ENV};SEQBENCH_CPU=avx2")
endforeach()
# the experiment runner's interface for make and Slurm: --list-cells, --cell/--seed, bench and params cells (issue 19)
seq_test(test_runner LIBS seq_core)
add_dependencies(test_runner seqbench)
# make reproduce's driver at the smoke profile into a temporary directory, killed after its first result
# and rerun: nothing redone, nothing lost, REPORT.md and the plots (issue 19)
seq_test(test_reproduce LIBS seq_core)
add_dependencies(test_reproduce seqbench)
set_tests_properties(test_reproduce PROPERTIES TIMEOUT 900)
# report: rules and verdicts, REPORT.md and the plot tables from fixture results, a figure through gnuplot
seq_test(test_report LIBS seq_reproduce)
add_dependencies(test_report seqbench)
# the shell blocks of README.md and docs/*.md run as a reader runs them from a fresh clone (slow ones
# as dry runs), the links between the pages, the README's length (issue 27)
add_test(NAME readme_commands COMMAND sh ${CMAKE_SOURCE_DIR}/tests/readme_commands.sh)
set_tests_properties(readme_commands PROPERTIES ENVIRONMENT "${SEQ_TEST_ENV}" TIMEOUT 600)
# make reproduce's progress lines: cells finishing together each count once, in order, failed ones too (issue 28)
add_test(NAME reproduce_progress COMMAND sh ${CMAKE_SOURCE_DIR}/tests/reproduce_progress.sh ${CMAKE_SOURCE_DIR})
# the README's findings block is made from the shipped results/REPORT.md, and its figures are in it (issue 29)
add_test(NAME findings COMMAND sh ${CMAKE_SOURCE_DIR}/tests/findings.sh ${CMAKE_SOURCE_DIR})

# Tests: one executable per file, each ending with "N passed, N failed".
# Unit and golden tests run against the float build; gradient checks against
# the double build of models/ (core/real.h).
set(SEQ_TEST_ENV "SEQ_SOURCE_DIR=${CMAKE_SOURCE_DIR};SEQ_BINARY=$<TARGET_FILE:seqbench>;OMP_NUM_THREADS=2")

function(seq_test name)
  cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
  add_executable(${name} tests/${name}.c)
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${SEQ_TEST_ENV}")
endfunction()

seq_test(test_safetensors LIBS seq_core)
seq_test(test_atomic_json LIBS seq_core)
seq_test(test_gradcheck LIBS seq_models_f64)
seq_use_f64(test_gradcheck)
seq_test(test_step_forward LIBS seq_models)
seq_test(test_golden LIBS seq_models)

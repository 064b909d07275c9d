# Fuzz targets: tests/fuzz/fuzz_*.c, one LLVMFuzzerTestOneInput each, with
# seed corpora in tests/fuzz/corpus/<target>/.
#   SEQ_FUZZ=ON (`make fuzz`, clang): libFuzzer executables <target>, every
#     library instrumented (see the SEQ_FUZZ block in CMakeLists.txt).
#   otherwise: <target>_replay, the same code driven by replay.c, so ctest
#     reruns the committed corpus, crash regressions included, with any compiler.
set(SEQ_FUZZ_TARGETS fuzz_json fuzz_safetensors fuzz_pattern fuzz_hf_config fuzz_tokens fuzz_spec)
foreach(t ${SEQ_FUZZ_TARGETS})
  set(lib seq_core)
  if(t STREQUAL "fuzz_pattern" OR t STREQUAL "fuzz_hf_config")
    set(lib seq_models)
  elseif(t STREQUAL "fuzz_spec")
    set(lib seq_reproduce)
  endif()
  if(SEQ_FUZZ)
    add_executable(${t} tests/fuzz/${t}.c)
    target_link_options(${t} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${t} PRIVATE ${lib})
  else()
    add_executable(${t}_replay tests/fuzz/${t}.c tests/fuzz/replay.c)
    target_link_libraries(${t}_replay PRIVATE ${lib})
    add_test(NAME ${t}_corpus COMMAND ${t}_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${t})
  endif()
endforeach()

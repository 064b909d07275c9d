# Writes OUT (a header defining SEQ_VERSION) from `git describe` in SRC, at
# every build, and only when the text changes: the version a result records
# is the tree's at build time, not at configure time, and an unchanged
# version recompiles nothing.
execute_process(COMMAND git describe --always --dirty --tags
  WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE v OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT v)
  set(v "unknown")
endif()
set(text "#define SEQ_VERSION \"${v}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()

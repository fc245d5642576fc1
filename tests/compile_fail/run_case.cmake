# Runs one compile-fail case: it must compile as written (the control, proving the failure
# below comes from the bad line alone) and fail with ESPAT_COMPILE_FAIL defined, with a
# diagnostic matching the case's "// expect:" line.
# -D CXX=<compiler> -D SOURCE=<case.cpp> -D INCLUDE_DIR=<include/> [-D FLAGS="..."]
file(STRINGS "${SOURCE}" expect_line REGEX "^// expect: ")
if(NOT expect_line)
  message(FATAL_ERROR "${SOURCE}: no '// expect:' line")
endif()
string(REGEX REPLACE "^// expect: " "" expect "${expect_line}")
separate_arguments(extra UNIX_COMMAND "${FLAGS}")
set(cmd "${CXX}" -std=c++20 -fsyntax-only -I "${INCLUDE_DIR}" ${extra} "${SOURCE}")

execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "control build of ${SOURCE} failed:\n${out}${err}")
endif()

execute_process(COMMAND ${cmd} -DESPAT_COMPILE_FAIL RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled with ESPAT_COMPILE_FAIL; it must not")
endif()
if(NOT "${out}${err}" MATCHES "${expect}")
  message(FATAL_ERROR "${SOURCE} failed to compile, but not with /${expect}/:\n${out}${err}")
endif()
message(STATUS "${SOURCE}: fails to compile as expected")

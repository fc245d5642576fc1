# run_example.cmake — runs one example against the simulator (no --port) and checks it: its exit
# status (0, or with FAILS=ON not 0), and that every line of EXPECT (a file of regular
# expressions, one per line; blank lines and lines starting with # are skipped) matches its
# output (standard output, then standard error).
#   cmake -DEXAMPLE=<program> -DEXPECT=<file> [-DARGS="<arguments>"] [-DINPUT=<file>] [-DFAILS=ON]
#         -P run_example.cmake
# INPUT goes to the program's standard input through a pipe; <CTRL-A> in it stands for byte 0x01.
foreach(var EXAMPLE EXPECT)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "run_example.cmake: ${var} is not set")
    endif()
endforeach()

separate_arguments(args UNIX_COMMAND "${ARGS}")
if(DEFINED INPUT)
    file(READ "${INPUT}" input)
    string(ASCII 1 ctrl_a)
    string(REPLACE "<CTRL-A>" "${ctrl_a}" input "${input}")
    get_filename_component(name "${EXAMPLE}" NAME)
    set(piped "${CMAKE_CURRENT_BINARY_DIR}/${name}.stdin")
    file(WRITE "${piped}" "${input}")
    execute_process(COMMAND "${CMAKE_COMMAND}" -E cat "${piped}"
                    COMMAND "${EXAMPLE}" ${args}
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 20)
else()
    execute_process(COMMAND "${EXAMPLE}" ${args} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 20)
endif()

set(failures "")
if(FAILS AND (rc STREQUAL "0" OR NOT rc MATCHES "^[0-9]+$"))
    string(APPEND failures "exit status: ${rc} (expected a failure status)\n")
elseif(NOT FAILS AND NOT rc STREQUAL "0")
    string(APPEND failures "exit status: ${rc} (expected 0)\n")
endif()
file(STRINGS "${EXPECT}" patterns)
foreach(pattern IN LISTS patterns)
    if(pattern STREQUAL "" OR pattern MATCHES "^#")
        continue()
    endif()
    if(NOT "${out}${err}" MATCHES "${pattern}")
        string(APPEND failures "no line of the output matches: ${pattern}\n")
    endif()
endforeach()

if(failures)
    message(FATAL_ERROR "${EXAMPLE}:\n${failures}--- standard output ---\n${out}--- standard error ---\n${err}")
endif()
message(STATUS "${EXAMPLE}: ok\n${out}")

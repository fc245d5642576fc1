# decode_golden.cmake — runs espat-decode on a capture and compares its standard output byte
# for byte with the expected JSON Lines file.
#
#   cmake -DDECODER=<espat-decode> -DINPUT=<capture.bin> -DEXPECTED=<expected.jsonl>
#         [-DACTUAL=<where to keep the actual output>] -P decode_golden.cmake
#
# On a mismatch it prints a unified diff (or the first differing line when `diff` is missing)
# and how to accept the new output.
cmake_minimum_required(VERSION 3.25)

foreach(var DECODER INPUT EXPECTED)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "decode_golden: -D${var}=... is required")
    endif()
endforeach()
foreach(file "${DECODER}" "${INPUT}" "${EXPECTED}")
    if(NOT EXISTS "${file}")
        message(FATAL_ERROR "decode_golden: ${file} does not exist")
    endif()
endforeach()
if(NOT DEFINED ACTUAL)
    get_filename_component(name "${EXPECTED}" NAME_WE)
    set(ACTUAL "${CMAKE_CURRENT_BINARY_DIR}/${name}.actual.jsonl")
endif()

# The output goes to a file, not a CMake string, so every byte (NUL included) is compared.
execute_process(
    COMMAND "${DECODER}" "${INPUT}"
    OUTPUT_FILE "${ACTUAL}"
    ERROR_VARIABLE stderr
    RESULT_VARIABLE rc)
if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "decode_golden: ${DECODER} ${INPUT} failed (${rc}):\n${stderr}")
endif()

execute_process(
    COMMAND "${CMAKE_COMMAND}" -E compare_files "${EXPECTED}" "${ACTUAL}"
    RESULT_VARIABLE differ
    OUTPUT_QUIET ERROR_QUIET)
if(differ STREQUAL "0")
    file(SIZE "${ACTUAL}" size)
    message(STATUS "decode_golden: output matches ${EXPECTED} (${size} bytes)")
    return()
endif()

find_program(DIFF_EXECUTABLE diff)
if(DIFF_EXECUTABLE)
    execute_process(
        COMMAND "${DIFF_EXECUTABLE}" -u --label expected --label actual "${EXPECTED}" "${ACTUAL}"
        OUTPUT_VARIABLE report
        ERROR_VARIABLE report)
    string(LENGTH "${report}" length)
    if(length GREATER 8000)
        string(SUBSTRING "${report}" 0 8000 report)
        string(APPEND report "\n... (diff cut at 8000 characters)")
    endif()
else()
    file(STRINGS "${EXPECTED}" expected_lines)
    file(STRINGS "${ACTUAL}" actual_lines)
    list(LENGTH expected_lines n_expected)
    list(LENGTH actual_lines n_actual)
    set(report "expected ${n_expected} lines, got ${n_actual}")
    set(i 0)
    while(i LESS n_expected AND i LESS n_actual)
        list(GET expected_lines ${i} e)
        list(GET actual_lines ${i} a)
        if(NOT e STREQUAL a)
            math(EXPR line "${i} + 1")
            string(APPEND report "\nfirst difference at line ${line}:\n- ${e}\n+ ${a}")
            break()
        endif()
        math(EXPR i "${i} + 1")
    endwhile()
endif()
# NOTICE prints the report verbatim; FATAL_ERROR would re-wrap it.
message(NOTICE "${report}")
message(NOTICE "The actual output is kept in ${ACTUAL}; if the change is intended:\n"
               "  cp '${ACTUAL}' '${EXPECTED}'")
message(FATAL_ERROR "decode_golden: ${DECODER} output differs from ${EXPECTED}")

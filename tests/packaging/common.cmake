# common.cmake — helpers for the packaging test runners (cmake -P scripts).
#
# Every runner gets -DESPAT_SOURCE_DIR, -DWORK_DIR (a scratch folder in the build tree, wiped
# first), -DGENERATOR, -DMAKE_PROGRAM and -DCXX_COMPILER from tests/CMakeLists.txt, so the
# nested builds use the same generator and compiler as the build that runs them.
cmake_minimum_required(VERSION 3.25)

foreach(var ESPAT_SOURCE_DIR WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "-D${var}=... is required")
    endif()
endforeach()

# The options every nested CMake configure gets.
set(nested_cmake_args)
if(GENERATOR)
    list(APPEND nested_cmake_args -G "${GENERATOR}")
endif()
if(MAKE_PROGRAM)
    list(APPEND nested_cmake_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
    list(APPEND nested_cmake_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
# No optimization: these builds check that the packages configure, build, link and run, and
# at -O0 the coroutine-heavy libraries and consumers compile in a third of the time.
list(APPEND nested_cmake_args -DCMAKE_BUILD_TYPE=)

# espat_run(<what> COMMAND <cmd...> [WORKING_DIRECTORY <dir>] [OUTPUT_VARIABLE <var>])
# Runs a command, echoing it; on failure prints its output and stops the script.
function(espat_run what)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "WORKING_DIRECTORY;OUTPUT_VARIABLE" "COMMAND")
    if(NOT arg_WORKING_DIRECTORY)
        set(arg_WORKING_DIRECTORY "${WORK_DIR}")
    endif()
    list(JOIN arg_COMMAND " " shown)
    message(STATUS "[${what}] ${shown}")
    execute_process(
        COMMAND ${arg_COMMAND}
        WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}"
        OUTPUT_VARIABLE out
        ERROR_VARIABLE err
        RESULT_VARIABLE rc)
    if(NOT rc STREQUAL "0")
        # NOTICE prints the output verbatim; FATAL_ERROR would re-wrap it.
        message(NOTICE "--- stdout of ${what}\n${out}\n--- stderr of ${what}\n${err}")
        message(FATAL_ERROR "[${what}] failed (${rc}): ${shown}")
    endif()
    if(arg_OUTPUT_VARIABLE)
        set(${arg_OUTPUT_VARIABLE} "${out}" PARENT_SCOPE)
    endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# espat_check_installed_consumer(<root> <program>...)
# After a consumer's install into <root> (a prefix or a DESTDIR): each <program> is somewhere
# under <root>, and nothing of espat's is: no header under an espat/ folder or named espat.hpp,
# no espat*.pc, no libespat*, no espat CMake package file.
function(espat_check_installed_consumer root)
    file(GLOB_RECURSE installed LIST_DIRECTORIES false RELATIVE "${root}" "${root}/*")
    foreach(program IN LISTS ARGN)
        set(found "${installed}")
        list(FILTER found INCLUDE REGEX "(^|/)${program}$")
        if(NOT found)
            message(FATAL_ERROR "the consumer's install did not install ${program}; it installed:\n${installed}")
        endif()
    endforeach()
    set(espat_files "${installed}")
    list(FILTER espat_files INCLUDE REGEX "(^|/)espat/|(^|/)espat\\.hpp$|(^|/)espat[^/]*\\.pc$|(^|/)libespat[^/]*$|(^|/)espat-config[^/]*\\.cmake$")
    if(espat_files)
        message(FATAL_ERROR "the consumer's install installed espat's files:\n${espat_files}")
    endif()
    list(LENGTH installed count)
    message(STATUS "the consumer's install: ${count} files, none of espat's")
endfunction()

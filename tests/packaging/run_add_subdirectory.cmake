# run_add_subdirectory.cmake — packaging test: build and run consumers that pull espat in with
# add_subdirectory and link espat::espat, espat::compiled and espat::sim; check that none of
# espat's own tests were configured there and that the consumer's install installs its
# programs and none of espat's files.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

set(build "${WORK_DIR}/consumer-build")
espat_run("configure consumer" COMMAND "${CMAKE_COMMAND}"
    -S "${ESPAT_SOURCE_DIR}/tests/packaging/add_subdirectory" -B "${build}"
    ${nested_cmake_args} "-DESPAT_SOURCE_DIR=${ESPAT_SOURCE_DIR}")
espat_run("build consumer" COMMAND "${CMAKE_COMMAND}" --build "${build}")
espat_run("run consumer" COMMAND "${build}/espat_add_subdirectory_consumer")
espat_run("run espat::compiled consumer" COMMAND "${build}/espat_add_subdirectory_compiled")
espat_run("run espat::sim consumer" COMMAND "${build}/espat_add_subdirectory_sim")

# Nothing of espat's test suite may reach the consumer's build tree or its ctest.
foreach(dir tests examples benchmarks)
    if(EXISTS "${build}/espat-build/${dir}")
        message(FATAL_ERROR "espat's ${dir}/ was configured in the consumer's build")
    endif()
endforeach()
espat_run("list consumer tests" COMMAND "${CMAKE_CTEST_COMMAND}" --test-dir "${build}" -N
    OUTPUT_VARIABLE listed)
if(NOT listed MATCHES "Total Tests: 0")
    message(FATAL_ERROR "the consumer's ctest lists espat tests:\n${listed}")
endif()

# The consumer's install: its three programs, nothing of espat's.
set(prefix "${WORK_DIR}/prefix")
espat_run("install consumer" COMMAND "${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")
espat_check_installed_consumer("${prefix}"
    espat_add_subdirectory_consumer espat_add_subdirectory_compiled espat_add_subdirectory_sim)

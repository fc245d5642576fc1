# run_find_package.cmake — packaging test: install espat (the build that runs the test, or a
# fresh one when -DESPAT_BUILD_DIR is not given) into a scratch prefix, then build
# and run consumers that do find_package(espat 0.1 REQUIRED COMPONENTS compiled sim) and link
# espat::espat, espat::compiled and espat::sim; check that without OpenSSL the package still
# gives espat::espat and espat::compiled; also check that pkg-config finds the installed
# espat.pc, espat-compiled.pc and espat-sim.pc and that their flags build the same consumers.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

set(prefix "${WORK_DIR}/prefix")

# Configure with the default prefix and install with --prefix: the package files must not
# depend on the configured prefix. With -DESPAT_BUILD_DIR (tests/CMakeLists.txt passes the build
# that runs this test, configured with the default prefix), that build is installed as a user
# would install it: building espat's libraries once more would check nothing more.
if(ESPAT_BUILD_DIR)
    set(espat_build "${ESPAT_BUILD_DIR}")
else()
    set(espat_build "${WORK_DIR}/espat-build")
    espat_run("configure espat" COMMAND "${CMAKE_COMMAND}" -S "${ESPAT_SOURCE_DIR}" -B "${espat_build}"
        ${nested_cmake_args}
        -DESPAT_BUILD_TESTS=OFF -DESPAT_BUILD_EXAMPLES=OFF -DESPAT_BUILD_BENCHMARKS=OFF -DESPAT_BUILD_FUZZERS=OFF)
    espat_run("build espat" COMMAND "${CMAKE_COMMAND}" --build "${espat_build}")
endif()
espat_run("install espat" COMMAND "${CMAKE_COMMAND}" --install "${espat_build}" --prefix "${prefix}")

foreach(installed
        include/espat.hpp
        include/espat/config.hpp
        share/cmake/espat/espat-config.cmake
        share/cmake/espat/espat-config-version.cmake
        share/cmake/espat/espat-targets.cmake
        share/cmake/espat/espat-sim-targets.cmake
        share/pkgconfig/espat.pc
        lib/libespat_compiled.a
        lib/libespat_sim.a
        lib/pkgconfig/espat-compiled.pc
        lib/pkgconfig/espat-sim.pc)
    if(NOT EXISTS "${prefix}/${installed}")
        message(FATAL_ERROR "not installed: ${prefix}/${installed}")
    endif()
endforeach()

set(consumer_source "${ESPAT_SOURCE_DIR}/tests/packaging/find_package")
espat_run("configure consumer" COMMAND "${CMAKE_COMMAND}" -S "${consumer_source}" -B "${WORK_DIR}/consumer-build"
    ${nested_cmake_args}
    "-DCMAKE_PREFIX_PATH=${prefix}"
    OUTPUT_VARIABLE configure_output)
espat_run("build consumer" COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer-build")
espat_run("run consumer" COMMAND "${WORK_DIR}/consumer-build/espat_find_package_consumer")
espat_run("run espat::compiled consumer" COMMAND "${WORK_DIR}/consumer-build/espat_find_package_compiled")
espat_run("run espat::sim consumer" COMMAND "${WORK_DIR}/consumer-build/espat_find_package_sim")
espat_run("run espat::sim + espat::compiled consumer"
    COMMAND "${WORK_DIR}/consumer-build/espat_find_package_sim_compiled")

# Without OpenSSL the package still gives espat::espat and espat::compiled (configure only) ...
espat_run("configure consumer without OpenSSL" COMMAND "${CMAKE_COMMAND}" -S "${consumer_source}"
    -B "${WORK_DIR}/consumer-build-no-openssl" ${nested_cmake_args} "-DCMAKE_PREFIX_PATH=${prefix}"
    -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON -DESPAT_REQUESTED_COMPONENTS=compiled -DESPAT_EXPECT_NO_SIM=ON)
# ... and refuses a required `sim` component.
execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${consumer_source}" -B "${WORK_DIR}/consumer-build-no-openssl-sim"
        ${nested_cmake_args} "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON
    OUTPUT_QUIET ERROR_QUIET
    RESULT_VARIABLE rc)
if(rc STREQUAL "0")
    message(FATAL_ERROR "find_package(espat COMPONENTS sim) succeeded without OpenSSL")
endif()

# A request for another minor version must be refused before 1.0.
execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${consumer_source}" -B "${WORK_DIR}/consumer-build-0.2"
        ${nested_cmake_args} "-DCMAKE_PREFIX_PATH=${prefix}" -DESPAT_REQUESTED_VERSION=0.2
    OUTPUT_QUIET ERROR_QUIET
    RESULT_VARIABLE rc)
if(rc STREQUAL "0")
    message(FATAL_ERROR "find_package(espat 0.2) accepted the installed espat 0.1.x")
endif()

if(NOT PKG_CONFIG_EXECUTABLE)
    message(STATUS "pkg-config not found: the .pc files not checked")
    return()
endif()
set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig:${prefix}/share/pkgconfig")
if(NOT CXX_COMPILER)
    set(CXX_COMPILER c++)
endif()
# Each .pc file's flags build its consumer (-O0: these only have to link and run).
foreach(case "espat;main.cpp" "espat-compiled;../consumers/compiled_main.cpp" "espat-sim;../consumers/sim_main.cpp")
    list(GET case 0 module)
    list(GET case 1 source)
    espat_run("pkg-config ${module} version" COMMAND "${PKG_CONFIG_EXECUTABLE}" --modversion ${module}
        OUTPUT_VARIABLE pc_version)
    string(STRIP "${pc_version}" pc_version)
    if(NOT pc_version STREQUAL "0.1.0")
        message(FATAL_ERROR "pkg-config --modversion ${module}: '${pc_version}', expected 0.1.0")
    endif()
    espat_run("pkg-config ${module} cflags" COMMAND "${PKG_CONFIG_EXECUTABLE}" --cflags ${module} OUTPUT_VARIABLE pc_cflags)
    espat_run("pkg-config ${module} libs" COMMAND "${PKG_CONFIG_EXECUTABLE}" --libs ${module} OUTPUT_VARIABLE pc_libs)
    string(STRIP "${pc_cflags}" pc_cflags)
    string(STRIP "${pc_libs}" pc_libs)
    separate_arguments(pc_cflags UNIX_COMMAND "${pc_cflags}")
    separate_arguments(pc_libs UNIX_COMMAND "${pc_libs}")
    espat_run("compile with ${module}'s pkg-config flags" COMMAND "${CXX_COMPILER}" -std=c++20 -O0 ${pc_cflags}
        "${consumer_source}/${source}" -o "${WORK_DIR}/pkg-config-${module}" ${pc_libs})
    espat_run("run ${module}'s pkg-config consumer" COMMAND "${WORK_DIR}/pkg-config-${module}")
endforeach()

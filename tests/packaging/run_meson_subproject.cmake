# run_meson_subproject.cmake — packaging test: copy the meson consumer (and the shared consumer
# sources, as consumers/) to a scratch folder, link the espat source tree in as
# subprojects/espat, then meson setup, compile and run its programs (espat's header-only
# dependency, espat-compiled, espat-sim); then `meson install` into a DESTDIR must install the
# consumer's programs and none of espat's headers, libraries or .pc files.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

if(NOT MESON_EXECUTABLE)
    find_program(MESON_EXECUTABLE meson REQUIRED)
endif()

set(consumer "${WORK_DIR}/consumer")
set(build "${WORK_DIR}/consumer-build")
file(COPY "${ESPAT_SOURCE_DIR}/tests/packaging/meson_subproject/" DESTINATION "${consumer}")
file(COPY "${ESPAT_SOURCE_DIR}/tests/packaging/consumers/" DESTINATION "${consumer}/consumers")
file(MAKE_DIRECTORY "${consumer}/subprojects")
file(CREATE_LINK "${ESPAT_SOURCE_DIR}" "${consumer}/subprojects/espat" SYMBOLIC)

if(CXX_COMPILER)
    set(ENV{CXX} "${CXX_COMPILER}")
endif()
# --force-fallback-for: use the subproject even if some espat .pc file is on the pkg-config path.
espat_run("meson setup" COMMAND "${MESON_EXECUTABLE}" setup "${build}" "${consumer}"
    --wrap-mode=nodownload --force-fallback-for=espat,espat-compiled,espat-sim --buildtype=plain
    --prefix=/usr/local)
# meson compile runs ninja with as many jobs as it likes: follow CMAKE_BUILD_PARALLEL_LEVEL
# (as the CMake builds do) when it is set.
set(jobs)
if(DEFINED ENV{CMAKE_BUILD_PARALLEL_LEVEL} AND NOT "$ENV{CMAKE_BUILD_PARALLEL_LEVEL}" STREQUAL "")
    set(jobs -j "$ENV{CMAKE_BUILD_PARALLEL_LEVEL}")
endif()
espat_run("meson compile" COMMAND "${MESON_EXECUTABLE}" compile -C "${build}" ${jobs})
espat_run("run consumer" COMMAND "${build}/espat_meson_consumer")
espat_run("run espat-compiled consumer" COMMAND "${build}/espat_meson_compiled")
espat_run("run espat-sim consumer" COMMAND "${build}/espat_meson_sim")

set(destdir "${WORK_DIR}/destdir")
espat_run("meson install" COMMAND "${MESON_EXECUTABLE}" install -C "${build}" --destdir "${destdir}" --no-rebuild)
espat_check_installed_consumer("${destdir}" espat_meson_consumer espat_meson_compiled espat_meson_sim)

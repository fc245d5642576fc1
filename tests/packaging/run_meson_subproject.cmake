# run_meson_subproject.cmake — packaging test: copy the meson consumer to a scratch folder,
# link the espat source tree in as subprojects/espat, then meson setup, compile and run it.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

if(NOT MESON_EXECUTABLE)
    find_program(MESON_EXECUTABLE meson REQUIRED)
endif()

set(consumer "${WORK_DIR}/consumer")
set(build "${WORK_DIR}/consumer-build")
file(COPY "${ESPAT_SOURCE_DIR}/tests/packaging/meson_subproject/" DESTINATION "${consumer}")
file(MAKE_DIRECTORY "${consumer}/subprojects")
file(CREATE_LINK "${ESPAT_SOURCE_DIR}" "${consumer}/subprojects/espat" SYMBOLIC)

if(CXX_COMPILER)
    set(ENV{CXX} "${CXX_COMPILER}")
endif()
# --force-fallback-for: use the subproject even if some espat.pc is on the pkg-config path.
espat_run("meson setup" COMMAND "${MESON_EXECUTABLE}" setup "${build}" "${consumer}"
    --wrap-mode=nodownload --force-fallback-for=espat --buildtype=release)
espat_run("meson compile" COMMAND "${MESON_EXECUTABLE}" compile -C "${build}")
espat_run("run consumer" COMMAND "${build}/espat_meson_consumer")

# LabInstall.cmake - `cmake --install`: the plain library, its headers, a
# CMake package (find_package(labyrinth) -> labyrinth::labyrinth) and a
# pkg-config file.  Also registers the `install` test that consumes both.
#
# Sanitized configurations install nothing: their library only links into
# programs built with the same -fsanitize flags, so it is no use to anyone
# outside this build tree.

include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

if(NOT LAB_SANITIZE STREQUAL "")
	message(STATUS "labyrinth: LAB_SANITIZE=${LAB_SANITIZE}: no install rules")
	return()
endif()

set(_lab_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/labyrinth")
set(_lab_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# ---- library and headers ------------------------------------------------------

install(TARGETS labyrinth EXPORT labyrinthTargets
	ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
	LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
	RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/allocator/include/"
	DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
	FILES_MATCHING PATTERN "*.h")

# The instrumentation of user code (labyrinth_instrument(), labyrinth::instr):
# its library, headers and shim directory (include/labyrinth/shim, out of
# the way of a plain -I include).
install(TARGETS labyrinth_instr EXPORT labyrinthTargets
	ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES
	"${LABYRINTH_INSTR_INCLUDE_DIR}/labyrinth/atomic.h"
	"${LABYRINTH_INSTR_INCLUDE_DIR}/labyrinth/sched_point.h"
	"${LABYRINTH_INSTR_INCLUDE_DIR}/labyrinth/sched_instr.h"
	DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/labyrinth")
install(DIRECTORY "${LABYRINTH_SHIM_DIR}/"
	DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/labyrinth/shim"
	FILES_MATCHING PATTERN "*.h")

# ---- CMake package ------------------------------------------------------------

install(EXPORT labyrinthTargets
	NAMESPACE labyrinth::
	FILE labyrinthTargets.cmake
	DESTINATION "${_lab_cmake_dir}")
configure_package_config_file(
	"${PROJECT_SOURCE_DIR}/cmake/labyrinthConfig.cmake.in"
	"${PROJECT_BINARY_DIR}/labyrinthConfig.cmake"
	INSTALL_DESTINATION "${_lab_cmake_dir}")
# Before 1.0 a minor release may break the API, so 0.1 accepts 0.1.x only.
write_basic_package_version_file(
	"${PROJECT_BINARY_DIR}/labyrinthConfigVersion.cmake"
	COMPATIBILITY SameMinorVersion)
install(FILES
	"${PROJECT_BINARY_DIR}/labyrinthConfig.cmake"
	"${PROJECT_BINARY_DIR}/labyrinthConfigVersion.cmake"
	"${PROJECT_SOURCE_DIR}/cmake/LabInstrument.cmake"
	DESTINATION "${_lab_cmake_dir}")

# ---- pkg-config ---------------------------------------------------------------

# _lab_pc_path(<dir> <out>): a directory as the .pc file names it, relative to
# ${prefix} unless the install directory was given as an absolute path.
function(_lab_pc_path dir out)
	if(IS_ABSOLUTE "${dir}")
		set(${out} "${dir}" PARENT_SCOPE)
	else()
		set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
	endif()
endfunction()

# The prefix is found from the .pc file's own location (${pcfiledir}, known
# to pkg-config and pkgconf), so `cmake --install --prefix DIR` to any DIR
# gives a working file, as the CMake package is relocatable too.
if(IS_ABSOLUTE "${_lab_pc_dir}")
	set(LAB_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
	file(RELATIVE_PATH _lab_up "/prefix/${_lab_pc_dir}" "/prefix")
	string(REGEX REPLACE "/$" "" _lab_up "${_lab_up}")
	set(LAB_PC_PREFIX "\${pcfiledir}/${_lab_up}")
endif()
_lab_pc_path("${CMAKE_INSTALL_LIBDIR}" LAB_PC_LIBDIR)
_lab_pc_path("${CMAKE_INSTALL_INCLUDEDIR}" LAB_PC_INCLUDEDIR)
# The headers must see the LAB_RELEASE the library was built with
# (see allocator/CMakeLists.txt).
set(LAB_PC_CFLAGS "")
if(CMAKE_BUILD_TYPE STREQUAL "Release")
	set(LAB_PC_CFLAGS " -DLAB_RELEASE=1")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/labyrinth.pc.in"
	       "${PROJECT_BINARY_DIR}/labyrinth.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/labyrinth.pc" DESTINATION "${_lab_pc_dir}")

# ---- install test -------------------------------------------------------------

# Installs into a scratch prefix inside the build tree and builds
# tests/install-consumer against it, once through find_package and once
# through pkg-config.  Only for native builds: the consumer is run.
if(NOT CMAKE_CROSSCOMPILING)
	find_program(LAB_PKG_CONFIG NAMES pkg-config pkgconf
		     DOC "pkg-config, for the install test")
	set(_lab_static ON)
	if(BUILD_SHARED_LIBS)
		set(_lab_static OFF)
	endif()
	add_test(NAME install_consumer
		COMMAND "${CMAKE_COMMAND}"
			-D "LAB_BUILD_DIR=${PROJECT_BINARY_DIR}"
			-D "LAB_CONFIG=$<CONFIG>"
			-D "LAB_CONSUMER_DIR=${PROJECT_SOURCE_DIR}/tests/install-consumer"
			-D "LAB_WORK_DIR=${PROJECT_BINARY_DIR}/install-check"
			-D "LAB_LIBDIR=${CMAKE_INSTALL_LIBDIR}"
			-D "LAB_GENERATOR=${CMAKE_GENERATOR}"
			-D "LAB_C_COMPILER=${CMAKE_C_COMPILER}"
			-D "LAB_PKG_CONFIG=${LAB_PKG_CONFIG}"
			-D "LAB_STATIC=${_lab_static}"
			-P "${PROJECT_SOURCE_DIR}/cmake/LabInstallCheck.cmake")
	set_tests_properties(install_consumer PROPERTIES
		LABELS install
		SKIP_REGULAR_EXPRESSION "install check: SKIPPED"
		TIMEOUT ${LAB_TEST_TIMEOUT})
endif()

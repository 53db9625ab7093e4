# LabInstallCheck.cmake - the `install_consumer` test (cmake -P script).
#
# 1. cmake --install the build tree into a scratch prefix;
# 2. configure, build and run tests/install-consumer with find_package;
# 3. compile and run the same main.c with `pkg-config --cflags --libs`.
# What it proves: the installed headers, library, CMake package and .pc file
# are complete and relocatable, without touching the real system prefix.
#
# Inputs (-D): LAB_BUILD_DIR LAB_CONFIG LAB_CONSUMER_DIR LAB_WORK_DIR
#   LAB_LIBDIR LAB_GENERATOR LAB_C_COMPILER LAB_PKG_CONFIG LAB_STATIC

cmake_minimum_required(VERSION 3.25)

set(_prefix "${LAB_WORK_DIR}/prefix")
set(_consumer_build "${LAB_WORK_DIR}/consumer")

# _lab_run(<what> <command>...): runs a command, stops with its output on
# failure.
function(_lab_run what)
	execute_process(COMMAND ${ARGN}
		RESULT_VARIABLE _rc
		OUTPUT_VARIABLE _out
		ERROR_VARIABLE _out)
	if(NOT _rc EQUAL 0)
		list(JOIN ARGN " " _cmd)
		message(FATAL_ERROR "install check: ${what} failed (${_rc})\n"
			"command: ${_cmd}\n${_out}")
	endif()
	message(STATUS "install check: ${what}: ok\n${_out}")
endfunction()

# A clean scratch area, so files left by an older run cannot hide a file
# that is no longer installed.
file(REMOVE_RECURSE "${LAB_WORK_DIR}")
file(MAKE_DIRECTORY "${LAB_WORK_DIR}")

set(_config_args "")
if(LAB_CONFIG)
	set(_config_args --config "${LAB_CONFIG}")
endif()
_lab_run("install" "${CMAKE_COMMAND}" --install "${LAB_BUILD_DIR}"
	 --prefix "${_prefix}" ${_config_args})

# ---- find_package ---------------------------------------------------------------

_lab_run("consumer configure (find_package)"
	"${CMAKE_COMMAND}" -S "${LAB_CONSUMER_DIR}" -B "${_consumer_build}"
	-G "${LAB_GENERATOR}"
	"-DCMAKE_C_COMPILER=${LAB_C_COMPILER}"
	"-DCMAKE_PREFIX_PATH=${_prefix}"
	# Only the scratch prefix may satisfy find_package.
	-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
	-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
_lab_run("consumer build (find_package)"
	"${CMAKE_COMMAND}" --build "${_consumer_build}")
_lab_run("consumer run (find_package)" "${_consumer_build}/lab_consumer")

# ---- pkg-config ----------------------------------------------------------------

# Without pkg-config the half above has passed, but the test did not do all
# it says: ctest reports it skipped (SKIP_REGULAR_EXPRESSION in
# LabInstall.cmake), not passed.
if(NOT LAB_PKG_CONFIG)
	message(STATUS "install check: SKIPPED the pkg-config half: pkg-config "
		"not found (apt-get install pkgconf)")
	return()
endif()
set(ENV{PKG_CONFIG_PATH} "${_prefix}/${LAB_LIBDIR}/pkgconfig")
unset(ENV{PKG_CONFIG_LIBDIR})
# --static pulls Libs.private (-lpthread) for the static archive.
set(_static "")
if(LAB_STATIC)
	set(_static --static)
endif()
execute_process(
	COMMAND "${LAB_PKG_CONFIG}" ${_static} --cflags --libs labyrinth
	RESULT_VARIABLE _rc OUTPUT_VARIABLE _pc_flags ERROR_VARIABLE _pc_err
	OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _rc EQUAL 0)
	message(FATAL_ERROR "install check: pkg-config labyrinth failed: ${_pc_err}")
endif()
message(STATUS "install check: pkg-config flags: ${_pc_flags}")
separate_arguments(_pc_flags UNIX_COMMAND "${_pc_flags}")

set(_exe "${LAB_WORK_DIR}/lab_consumer_pc")
# A shared library is found at run time through the rpath.
_lab_run("consumer build (pkg-config)"
	"${LAB_C_COMPILER}" "${LAB_CONSUMER_DIR}/main.c" -o "${_exe}"
	${_pc_flags} "-Wl,-rpath,${_prefix}/${LAB_LIBDIR}")
_lab_run("consumer run (pkg-config)" "${_exe}")

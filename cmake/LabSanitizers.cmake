# LabSanitizers.cmake - sanitizer flags, run-time options and the configure
# checks that the compiler can really build and link them.
#
# A sanitizer "kind" is one of:
#   ""        no sanitizer
#   address   ASan + UBSan (LeakSanitizer is on by default inside ASan)
#   thread    TSan
#   fuzzer    library code instrumented for libFuzzer, with ASan + UBSan;
#             only fuzz targets link the libFuzzer runtime itself
#   fuzzer-thread
#             the same with TSan instead (fuzz_threads, fuzz_sched); runs
#             need TSAN_OPTIONS=halt_on_error=1, or libFuzzer saves the
#             empty input as the crash artifact
#
# The checks run at configure time because a missing runtime otherwise shows
# up as an obscure link error deep inside the build (or, for TSan with gcc,
# as a binary that fails to start).

include_guard(GLOBAL)
include(CheckCSourceCompiles)
include(CMakePushCheckState)

set(_LAB_SAN_KINDS "" address thread fuzzer fuzzer-thread)

# Options for fuzz targets (main supplied by libFuzzer); fuzz/CMakeLists.txt
# uses these instead of the library's fuzzer-no-link flags.
set(LAB_FUZZER_LINK_OPTIONS -fsanitize=fuzzer,address,undefined)
set(LAB_FUZZER_THREAD_LINK_OPTIONS -fsanitize=fuzzer,thread)

# lab_fuzzer_link_options(<kind> <out>)
# Link options that give a fuzz target of sanitizer <kind> (fuzzer or
# fuzzer-thread) libFuzzer's main().
function(lab_fuzzer_link_options kind out)
	if(kind STREQUAL "fuzzer")
		set(${out} "${LAB_FUZZER_LINK_OPTIONS}" PARENT_SCOPE)
	elseif(kind STREQUAL "fuzzer-thread")
		set(${out} "${LAB_FUZZER_THREAD_LINK_OPTIONS}" PARENT_SCOPE)
	else()
		message(FATAL_ERROR "labyrinth: no libFuzzer build for sanitizer '${kind}'")
	endif()
endfunction()

# lab_sanitizer_flags(<kind> <out-compile> <out-link>)
# Compile and link options for one kind.  Frame pointers and debug info
# keep sanitizer stack traces readable in every build type.
function(lab_sanitizer_flags kind out_compile out_link)
	set(_common -fno-omit-frame-pointer -g)
	if(kind STREQUAL "")
		set(_c "")
		set(_l "")
	elseif(kind STREQUAL "address")
		set(_c -fsanitize=address,undefined
		    -fno-sanitize-recover=undefined ${_common})
		set(_l -fsanitize=address,undefined)
	elseif(kind STREQUAL "thread")
		set(_c -fsanitize=thread ${_common})
		set(_l -fsanitize=thread)
	elseif(kind STREQUAL "fuzzer")
		set(_c -fsanitize=fuzzer-no-link,address,undefined
		    -fno-sanitize-recover=undefined ${_common})
		set(_l -fsanitize=fuzzer-no-link,address,undefined)
	elseif(kind STREQUAL "fuzzer-thread")
		# No stack-depth coverage: it updates one thread-local word
		# that the controlled scheduler's fibers share, which TSan
		# reports as a race between them (and depth across fiber
		# stacks means nothing).  fuzz/libfuzzer_tsan.c covers the
		# edge counters.
		set(_c -fsanitize=fuzzer-no-link,thread
		    -fno-sanitize-coverage=stack-depth ${_common})
		set(_l -fsanitize=fuzzer-no-link,thread)
	else()
		message(FATAL_ERROR "labyrinth: unknown sanitizer '${kind}' "
			"(expected one of: empty, address, thread, fuzzer, fuzzer-thread)")
	endif()
	set(${out_compile} "${_c}" PARENT_SCOPE)
	set(${out_link} "${_l}" PARENT_SCOPE)
endfunction()

# lab_sanitizer_env(<kind> <out>)
# ENVIRONMENT entries for tests of that kind.  halt_on_error everywhere: a
# sanitizer report must fail the test, never scroll by.  TSan never gets a
# suppressions file: a race is either fixed or the test is wrong.
function(lab_sanitizer_env kind out)
	set(_asan
	    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1"
	    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
	if(kind STREQUAL "address" OR kind STREQUAL "fuzzer")
		set(${out} "${_asan}" PARENT_SCOPE)
	elseif(kind STREQUAL "thread" OR kind STREQUAL "fuzzer-thread")
		set(${out}
		    "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:exitcode=66"
		    PARENT_SCOPE)
	else()
		set(${out} "" PARENT_SCOPE)
	endif()
endfunction()

# What to install when a sanitizer runtime is missing, for this compiler.
function(_lab_sanitizer_install_hint kind out)
	string(REGEX MATCH "^[0-9]+" _major "${CMAKE_C_COMPILER_VERSION}")
	if(CMAKE_C_COMPILER_ID MATCHES "Clang")
		set(_hint "apt-get install clang-${_major} libclang-rt-${_major}-dev")
	elseif(CMAKE_C_COMPILER_ID STREQUAL "GNU" AND kind MATCHES "^fuzzer")
		set(_hint "libFuzzer needs clang: configure with "
			  "CMAKE_C_COMPILER=clang (apt-get install clang libclang-rt-dev)")
	elseif(CMAKE_C_COMPILER_ID STREQUAL "GNU")
		# gcc 12's runtimes; other gcc versions ship them with
		# libgcc-N-dev under other sonames.
		if(kind STREQUAL "thread")
			set(_hint "apt-get install libtsan2 libgcc-${_major}-dev")
		else()
			set(_hint "apt-get install libasan8 libubsan1 libgcc-${_major}-dev")
		endif()
	else()
		set(_hint "a compiler with -fsanitize support (clang or gcc)")
	endif()
	string(JOIN "" _hint ${_hint})
	set(${out} "${_hint}" PARENT_SCOPE)
endfunction()

# _lab_check_links(<result-var> <source> <compile-options> <link-options>)
# check_c_source_compiles with our flags.  A failed result is removed from
# the cache so that re-running cmake after installing the runtime checks
# again instead of failing from the cache.
function(_lab_check_links var source compile link)
	cmake_push_check_state(RESET)
	list(JOIN compile " " CMAKE_REQUIRED_FLAGS)
	set(CMAKE_REQUIRED_LINK_OPTIONS ${link})
	set(CMAKE_REQUIRED_LIBRARIES Threads::Threads)
	set(CMAKE_REQUIRED_QUIET ON)
	check_c_source_compiles("${source}" ${var})
	cmake_pop_check_state()
	if(NOT ${var})
		unset(${var} CACHE)
		set(${var} FALSE PARENT_SCOPE)
	endif()
endfunction()

# lab_sanitizer_require(<kind>)
# Stops configuration, naming the package to install, if <kind> cannot be
# compiled and linked into a threaded program.
function(lab_sanitizer_require kind)
	if(kind STREQUAL "")
		return()
	endif()
	set(_threaded [=[
#include <pthread.h>
static void *run(void *arg) { return arg; }
int main(void)
{
	pthread_t t;
	if (pthread_create(&t, 0, run, 0))
		return 1;
	return pthread_join(t, 0);
}
]=])
	lab_sanitizer_flags("${kind}" _c _l)
	_lab_check_links(LAB_CC_CAN_SANITIZE_${kind} "${_threaded}" "${_c}" "${_l}")
	set(_ok ${LAB_CC_CAN_SANITIZE_${kind}})
	if(_ok AND kind MATCHES "^fuzzer")
		# Fuzz targets will link the libFuzzer runtime itself.
		lab_fuzzer_link_options("${kind}" _fuzzer_link)
		_lab_check_links(LAB_CC_CAN_LINK_LIBFUZZER_${kind} [=[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return data && size ? 0 : 0;
}
]=] "${_c}" "${_fuzzer_link}")
		set(_ok ${LAB_CC_CAN_LINK_LIBFUZZER_${kind}})
	endif()
	if(NOT _ok)
		_lab_sanitizer_install_hint("${kind}" _hint)
		list(JOIN _c " " _c)
		message(FATAL_ERROR
			"labyrinth: ${CMAKE_C_COMPILER} (${CMAKE_C_COMPILER_ID} "
			"${CMAKE_C_COMPILER_VERSION}) cannot build and link with "
			"sanitizer '${kind}' (${_c}).\n"
			"Install its runtime: ${_hint}")
	endif()
	message(STATUS "labyrinth: sanitizer '${kind}' works with ${CMAKE_C_COMPILER_ID}")
endfunction()

# LabInstrument.cmake - labyrinth_instrument(): compile a user's C11-atomics
# and pthreads code so that labyrinth's controlled scheduler reaches it.
#
#   labyrinth_instrument(<target> [SOURCES <src>...] [LIBRARY <lib>]
#                        [WARN_IMPLICIT])
#
# What it does to <target> (or, with SOURCES, to those files of it only):
#   - puts the shim directory first on the include path (BEFORE, as -I), so
#     <stdatomic.h>, <pthread.h>, <sched.h>, <time.h> and <unistd.h> resolve
#     to the shim, which #include_next's the real header and redefines the
#     atomic generic functions and the lock, yield and sleep calls;
#   - force-includes lab_shim_atomic.h (-include), which instruments the
#     GNU __atomic_* and __sync_* builtins even where <stdatomic.h> is not
#     included;
#   - defines LAB_INSTRUMENT=1;
#   - links the instrumentation library (LIBRARY, default labyrinth_instr in
#     this build tree, labyrinth::instr from an installed package).
#   WARN_IMPLICIT (clang): -Watomic-implicit-seq-cst, which flags the plain
#   operators on _Atomic objects (x++, x = v, reading x) that the shim
#   cannot see.
#
# The same with any other build system (the shim directory must come
# before every other include directory that could hold these headers;
# -I directories are searched before -isystem ones, so -I is right even if
# the project adds its own -isystem paths):
#   cc -I<shim> -I<include> -include lab_shim_atomic.h -DLAB_INSTRUMENT=1 ...
#   ... -llabyrinth_instr
# where <shim> is stress/sched/shim (installed: include/labyrinth/shim) and
# <include> holds labyrinth/atomic.h (stress/sched/include; installed:
# include).

include_guard(GLOBAL)

# Set by stress/sched/instrument.cmake in the build tree and by
# labyrinthConfig.cmake in an installed package.
set(LABYRINTH_SHIM_DIR "${LABYRINTH_SHIM_DIR}" CACHE INTERNAL "")
set(LABYRINTH_INSTR_INCLUDE_DIR "${LABYRINTH_INSTR_INCLUDE_DIR}" CACHE
    INTERNAL "")

function(labyrinth_instrument target)
	cmake_parse_arguments(PARSE_ARGV 1 ARG "WARN_IMPLICIT" "LIBRARY"
			      "SOURCES")
	if(NOT TARGET ${target})
		message(FATAL_ERROR "labyrinth_instrument: no target '${target}'")
	endif()
	if(NOT LABYRINTH_SHIM_DIR OR NOT EXISTS "${LABYRINTH_SHIM_DIR}/stdatomic.h")
		message(FATAL_ERROR "labyrinth_instrument: the shim directory "
			"is unknown ('${LABYRINTH_SHIM_DIR}')")
	endif()
	set(_lib "${ARG_LIBRARY}")
	if(NOT _lib)
		if(TARGET labyrinth_instr)
			set(_lib labyrinth_instr)
		else()
			set(_lib labyrinth::instr)
		endif()
	endif()
	set(_incs "${LABYRINTH_SHIM_DIR}" "${LABYRINTH_INSTR_INCLUDE_DIR}")
	# Source properties take no SHELL: groups (and do not de-duplicate).
	set(_opts "SHELL:-include lab_shim_atomic.h")
	set(_src_opts -include "${LABYRINTH_SHIM_DIR}/lab_shim_atomic.h")
	if(ARG_WARN_IMPLICIT AND CMAKE_C_COMPILER_ID MATCHES "Clang")
		list(APPEND _opts -Watomic-implicit-seq-cst)
		list(APPEND _src_opts -Watomic-implicit-seq-cst)
	endif()
	if(ARG_SOURCES)
		# Source include directories come after the target's; none of
		# the target's may hold a stdatomic.h or pthread.h then.
		# Marked, so instrumenting the same files for several
		# targets (sanitizer variants) adds the flags once.
		get_target_property(_dir ${target} SOURCE_DIR)
		list(GET ARG_SOURCES 0 _first)
		get_property(_done SOURCE "${_first}" DIRECTORY "${_dir}"
			     PROPERTY LAB_INSTRUMENTED)
	endif()
	if(ARG_SOURCES AND NOT _done)
		set_property(SOURCE ${ARG_SOURCES} DIRECTORY "${_dir}"
			     PROPERTY LAB_INSTRUMENTED ON)
		set_property(SOURCE ${ARG_SOURCES} DIRECTORY "${_dir}" APPEND
			     PROPERTY INCLUDE_DIRECTORIES ${_incs})
		set_property(SOURCE ${ARG_SOURCES} DIRECTORY "${_dir}" APPEND
			     PROPERTY COMPILE_DEFINITIONS LAB_INSTRUMENT=1)
		set_property(SOURCE ${ARG_SOURCES} DIRECTORY "${_dir}" APPEND
			     PROPERTY COMPILE_OPTIONS ${_src_opts})
	elseif(NOT ARG_SOURCES)
		target_include_directories(${target} BEFORE PRIVATE ${_incs})
		target_compile_definitions(${target} PRIVATE LAB_INSTRUMENT=1)
		target_compile_options(${target} PRIVATE ${_opts})
	endif()
	target_link_libraries(${target} PRIVATE ${_lib})
endfunction()

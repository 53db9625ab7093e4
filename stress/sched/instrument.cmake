# instrument.cmake - the instrumentation side of the controlled scheduler:
# labyrinth_instr (labyrinth/atomic.h's operations, the scheduler-aware
# pthread wrappers and weak defaults of the contract) and its tests.
#
# Targets (one per sanitizer variant, and libFuzzer variants):
#   labyrinth_instr   atomic.c locks.c point_default.c; PUBLIC include/
# Tests (label sched, plus the variant's):
#   sched_atomic_ops    typed operations = the builtins, one point each
#   sched_shim_ops      the <stdatomic.h> shim on every generic function,
#                       atomic_flag, fences, __atomic_* and __sync_*:
#                       values as without the shim, one point per call,
#                       the caller's file:line as site
#   sched_locks_real    the pthread shim outside a schedule: real threads,
#                       real mutex/cond/spin (TSan: no reports)
#   sched_locks_fibers  the pthread shim inside schedules of a small fiber
#                       scheduler of the test's own (mutual exclusion,
#                       blocking, wake-one, broadcast, lost signal,
#                       deadlock, timeout)

set(_lab_instr_dir "${CMAKE_CURRENT_LIST_DIR}")
set(LABYRINTH_SHIM_DIR "${_lab_instr_dir}/shim" CACHE INTERNAL "")
set(LABYRINTH_INSTR_INCLUDE_DIR "${_lab_instr_dir}/include" CACHE INTERNAL "")

lab_add_variant_library(labyrinth_instr TYPE STATIC WITH_FUZZ_VARIANTS
	SOURCES "${_lab_instr_dir}/atomic.c" "${_lab_instr_dir}/locks.c"
		"${_lab_instr_dir}/point_default.c"
	OUT _lab_instr_targets)
foreach(_t IN LISTS _lab_instr_targets)
	target_include_directories(${_t} PUBLIC
		"$<BUILD_INTERFACE:${_lab_instr_dir}/include>"
		"$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
	target_link_libraries(${_t} PUBLIC Threads::Threads)
endforeach()
set_target_properties(labyrinth_instr PROPERTIES EXPORT_NAME instr)
add_library(labyrinth::instr ALIAS labyrinth_instr)

# lab_instrument_variants(<base> [SOURCES <src>...] [WARN_IMPLICIT])
# labyrinth_instrument() on every variant of <base>, each linked to the
# same variant of labyrinth_instr.
function(lab_instrument_variants base)
	foreach(_v IN LISTS LAB_VARIANTS LAB_FUZZ_VARIANTS)
		set(_sfx "${LAB_VARIANT_${_v}_SUFFIX}")
		if(TARGET ${base}${_sfx})
			labyrinth_instrument(${base}${_sfx} ${ARGN}
				LIBRARY labyrinth_instr${_sfx})
		endif()
	endforeach()
endfunction()

# ---- tests -----------------------------------------------------------------

set(_lab_instr_tests "${_lab_instr_dir}/tests")

lab_add_variant_executable(sched_atomic_ops
	SOURCES "${_lab_instr_tests}/test_atomic_ops.c"
		"${_lab_instr_tests}/count_points.c"
	LINK labyrinth_instr)
lab_add_variant_test(sched_atomic_ops TARGET sched_atomic_ops
	LABELS sched unit)

# shim_body.c twice in one binary: plain, and through labyrinth_instrument
# (SOURCES: only that file).  16-byte atomics may need libatomic.
find_library(LAB_LIBATOMIC NAMES atomic libatomic.so.1
	     PATHS /usr/lib/gcc/x86_64-linux-gnu/12)
lab_add_variant_executable(sched_shim_ops
	SOURCES "${_lab_instr_tests}/test_shim_ops.c"
		"${_lab_instr_tests}/count_points.c"
		"${_lab_instr_tests}/shim_plain.c"
		"${_lab_instr_tests}/shim_instrumented.c"
	INCLUDES "${_lab_instr_tests}" "${_lab_instr_dir}/include"
	OUT _lab_shim_test_targets)
lab_instrument_variants(sched_shim_ops
	SOURCES "${_lab_instr_tests}/shim_instrumented.c")
if(LAB_LIBATOMIC)
	foreach(_t IN LISTS _lab_shim_test_targets)
		target_link_libraries(${_t} PRIVATE "${LAB_LIBATOMIC}")
	endforeach()
endif()
lab_add_variant_test(sched_shim_ops TARGET sched_shim_ops LABELS sched unit)

# The pthread shim inside schedules of fake_sched.c (not instrumented: it
# is the scheduler), test_locks_fibers.c through the shim.
lab_add_variant_executable(sched_locks_fibers
	SOURCES "${_lab_instr_tests}/test_locks_fibers.c"
		"${_lab_instr_tests}/fake_sched.c"
	INCLUDES "${_lab_instr_tests}")
lab_instrument_variants(sched_locks_fibers
	SOURCES "${_lab_instr_tests}/test_locks_fibers.c")
lab_add_variant_test(sched_locks_fibers TARGET sched_locks_fibers
	LABELS sched unit)

# The pthread shim outside schedules, real threads (TSan: no reports).
lab_add_variant_executable(sched_locks_real
	SOURCES "${_lab_instr_tests}/test_locks_real.c"
		"${_lab_instr_tests}/count_points.c"
	INCLUDES "${_lab_instr_tests}")
lab_instrument_variants(sched_locks_real
	SOURCES "${_lab_instr_tests}/test_locks_real.c")
lab_add_variant_test(sched_locks_real TARGET sched_locks_real
	LABELS sched unit mt)

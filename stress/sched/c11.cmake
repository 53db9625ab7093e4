# c11.cmake - the C11 memory model of the controlled scheduler (issue 13):
# labyrinth_c11 (c11.c, labyrinth/c11.h) over labyrinth_instr, and its
# tests.
#
# Targets (one per sanitizer variant, and libFuzzer variants):
#   labyrinth_c11        c11.c; links labyrinth_instr
#   labyrinth_c11_sched  c11_sched.c: lab_c11_wrap, the older way to set a
#                        labyrinth/sched.h test's memory fields (the model
#                        in a run is labyrinth_sched's own: memory.c)
# Tests (labels sched c11, plus the variant's):
#   c11_litmus_CASE   one litmus test, every execution the model allows
#                     enumerated: C11-allowed outcomes reached, forbidden
#                     ones never (message passing, store buffering, load
#                     buffering, IRIW, CoRR, CoWR, release sequences)
#   c11_litmus_sc     choose always 0, and a history of 1, give exactly
#                     the SC execution's outcomes
#   c11_plain         the race check on annotated plain memory
#   c11_bounds        a full history drops its oldest store; a full table
#                     leaves a location unmodelled (newest, synchronising)
#   c11_usage         bad configurations and --history values: one line
#   c11_fibers        the model behind lab_atomic_perform, in schedules of
#                     the tests' fiber scheduler: choose 0 = no model
#   c11_sched         the real scheduler in c11 mode (see below)
# Not tests: `test_c11_fibers bench`, `test_c11_sched bench` (points or
# decisions per second, SC and c11 mode side by side).

set(_lab_c11_dir "${CMAKE_CURRENT_LIST_DIR}")

lab_add_variant_library(labyrinth_c11 TYPE STATIC WITH_FUZZ_VARIANTS
	SOURCES "${_lab_c11_dir}/c11.c"
	OUT _lab_c11_targets)
foreach(_t IN LISTS _lab_c11_targets)
	string(REPLACE "labyrinth_c11" "labyrinth_instr" _instr "${_t}")
	target_link_libraries(${_t} PUBLIC ${_instr})
endforeach()
add_library(labyrinth::c11 ALIAS labyrinth_c11)

lab_add_variant_executable(test_c11_litmus
	SOURCES "${_lab_c11_dir}/tests/test_c11_litmus.c"
	INCLUDES "${_lab_c11_dir}/tests"
	LINK labyrinth_c11)
foreach(_case mp_relaxed mp_relacq mp_fences mp_release_fence_only
		sb_relaxed sb_relacq sb_seqcst sb_sc_fences sb_sc_store_fence lb iriw_acquire
		iriw_seqcst corr corr_hb cowr rs_rmw rs_broken rs_broken_rmw rs_broken_own
		rs_same_thread
		sc)
	lab_add_variant_test(c11_litmus_${_case} TARGET test_c11_litmus
		ARGS ${_case} LABELS sched c11 unit)
endforeach()
lab_add_variant_test(c11_plain TARGET test_c11_litmus ARGS plain
	LABELS sched c11 unit)
lab_add_variant_test(c11_bounds TARGET test_c11_litmus ARGS bounds
	LABELS sched c11 unit)
lab_add_variant_test(c11_usage TARGET test_c11_litmus ARGS usage
	LABELS sched c11 unit)

# The model behind lab_atomic_perform, in schedules of fake_sched.c.
lab_add_variant_executable(test_c11_fibers
	SOURCES "${_lab_c11_dir}/tests/test_c11_fibers.c"
		"${_lab_c11_dir}/tests/fake_sched.c"
	INCLUDES "${_lab_c11_dir}/tests"
	LINK labyrinth_c11)
lab_add_variant_test(c11_fibers TARGET test_c11_fibers LABELS sched c11 unit)

# A labyrinth/sched.h test under the model (memory LAB_SCHED_MEM_C11), where
# the scheduler library is built: labyrinth_c11_sched, and c11_sched (the
# real scheduler: SC misses relaxed message passing, c11 finds it with the
# random walk and PCT, its artifact records reads-from decisions, replays
# exactly and shrinks, a mutated one diverges at its index; release/acquire
# clean; plain data published relaxed is a data-race finding).
if(TARGET labyrinth_sched)
	lab_add_variant_library(labyrinth_c11_sched TYPE STATIC
		WITH_FUZZ_VARIANTS
		SOURCES "${_lab_c11_dir}/c11_sched.c"
		OUT _lab_c11_sched_targets)
	foreach(_t IN LISTS _lab_c11_sched_targets)
		string(REPLACE "labyrinth_c11_sched" "" _sfx "${_t}")
		target_link_libraries(${_t} PUBLIC labyrinth_c11${_sfx}
				      labyrinth_sched${_sfx})
	endforeach()
	lab_add_variant_executable(test_c11_sched
		SOURCES "${_lab_c11_dir}/tests/test_c11_sched.c"
		INCLUDES "${_lab_c11_dir}/tests"
		LINK labyrinth_c11_sched)
	lab_add_variant_test(c11_sched TARGET test_c11_sched
		LABELS sched c11)
endif()

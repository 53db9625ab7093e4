# alloc_c11.cmake - the allocator's own atomics and plain memory under the
# C11 model (issue 13; stress/alloc_model.c), and the memory-order bugs of
# the zoo.  Label c11 (and sched).
#
#   alloc_c11_hand    each memory-order bug driven by hand into its window
#                     on fibers, with the model's reads-from choices forced:
#                     the damage shows with the bug, not without it, and
#                     not in the SC execution (no model)
#   alloc_c11_clean   the correct allocator under lab_c11_wrap (the real
#                     scheduler, 3 logical threads, interrupts, random and
#                     PCT, stale reads forced often): no finding
#   alloc_c11_found   the same program with each bug it can reach: found
#   alloc_c11_sc      the same program with each bug, no model: not found
#                     (not in TSan variants, see below)
lab_add_variant_executable(test_alloc_c11
	SOURCES "${_lab_stress_dir}/tests/test_alloc_c11.c"
	INCLUDES "${_lab_stress_dir}/sched/tests"
		"${PROJECT_SOURCE_DIR}/allocator/src"
	LINK labyrinth_stress)
foreach(_case hand clean found)
	lab_add_variant_test(alloc_c11_${_case} TARGET test_alloc_c11
		ARGS ${_case} LABELS c11 sched)
endforeach()
# Not under TSan: there the SC schedules' real atomics carry their orders,
# and TSan itself reports the stamp and poison races of owner-no-acquire,
# handoff-relaxed, claim-no-acquire and store-breaks-release-seq (it
# cannot see relaxed-free-count's stale count, which needs the model).
set(_lab_ac11_sc_variants "")
foreach(_v IN LISTS LAB_VARIANTS)
	if(NOT LAB_VARIANT_${_v}_SANITIZE STREQUAL "thread")
		list(APPEND _lab_ac11_sc_variants ${_v})
	endif()
endforeach()
if(_lab_ac11_sc_variants)
	lab_add_variant_test(alloc_c11_sc TARGET test_alloc_c11 ARGS sc
		LABELS c11 sched VARIANTS ${_lab_ac11_sc_variants})
endif()

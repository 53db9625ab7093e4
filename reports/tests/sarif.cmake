# sarif.cmake - tests of the SARIF and JUnit renderings (label `report`),
# included from reports/tests/CMakeLists.txt after report_fixture_run.
#
#   report_sarif               fixture/report.sarif against the SARIF 2.1.0
#                              schema and rules and GitHub code scanning's
#                              ingestion rules (Microsoft's SARIF Multitool
#                              from npm, sarif_validate.sh)
#   report_sarif_rejects_bad   the same validator must reject
#                              sarif_bad.sarif (schema errors: no driver
#                              name, level "fatal", startLine 0) and
#                              sarif_bad_github.sarif (schema-valid, but a
#                              result without a location and a rule without
#                              help, which GitHub refuses): proves the
#                              validator can fail
#   report_sarif_edge_fixture  sarif_edge_fixture writes sarif-edge/
#                              (FIXTURES_SETUP report_sarif_edge)
#   report_sarif_edge          sarif_edge_fixture's documents (empty set;
#                              orphans, unplaced findings, paths outside the
#                              repository, invalid UTF-8) are valid too
#   report_junit               fixture/junit.xml: counts, names, escaping
#                              (junit_check.py)
#   report_junit_edge,         the edge set's junit.xml and the empty one
#   report_junit_empty
#
# The multitool is installed once into <build>/sarif-multitool (npm, its
# cache there too) when the configuration lets tests install
# (cmake/LabTestTools.cmake); without it, or without node/npm, the SARIF
# tests are skipped (77), except under CI=true where they fail.

set(_lab_sarif_tests "${CMAKE_CURRENT_LIST_DIR}")
set(_lab_sarif_fixture "${LAB_REPORT_FIXTURE_DIR}")
set(_lab_sarif_edge "${CMAKE_CURRENT_BINARY_DIR}/sarif-edge")
set(_lab_sarif_cache "${CMAKE_BINARY_DIR}/sarif-multitool")
set(_lab_sarif_variant ${_lab_first_variant})
set(_lab_sarif_env ${_lab_report_env})

add_executable(sarif_edge_fixture "${_lab_sarif_tests}/sarif_edge_fixture.c")
lab_target_defaults(sarif_edge_fixture)
lab_target_sanitize(sarif_edge_fixture
		    "${LAB_VARIANT_${_lab_sarif_variant}_SANITIZE}")
target_link_libraries(sarif_edge_fixture PRIVATE
	labyrinth_reports${LAB_VARIANT_${_lab_sarif_variant}_SUFFIX})
add_test(NAME report_sarif_edge_fixture
	 COMMAND sarif_edge_fixture "${_lab_sarif_edge}")
set_tests_properties(report_sarif_edge_fixture PROPERTIES
	FIXTURES_SETUP report_sarif_edge LABELS report)
if(_lab_sarif_env)
	set_tests_properties(report_sarif_edge_fixture PROPERTIES
		ENVIRONMENT "${_lab_sarif_env}")
endif()

# Tools found and announced by cmake/LabTestTools.cmake.
lab_test_tools_env(_lab_sarif_tool_env)
set(_lab_sarif_names report_sarif report_sarif_rejects_bad report_sarif_edge)
if(LAB_BASH)
	set(_lab_sarif_validate ${LAB_BASH} "${_lab_sarif_tests}/sarif_validate.sh"
		--cache "${_lab_sarif_cache}")
	add_test(NAME report_sarif
		 COMMAND ${_lab_sarif_validate} "${_lab_sarif_fixture}/report.sarif")
	add_test(NAME report_sarif_rejects_bad
		 COMMAND ${_lab_sarif_validate} --expect-invalid
			 "${_lab_sarif_tests}/sarif_bad.sarif"
			 "${_lab_sarif_tests}/sarif_bad_github.sarif")
	add_test(NAME report_sarif_edge
		 COMMAND ${_lab_sarif_validate} "${_lab_sarif_edge}/edge.sarif"
			 "${_lab_sarif_edge}/empty.sarif")
	# one npm install into the shared cache at a time
	set_tests_properties(${_lab_sarif_names} PROPERTIES
		LABELS report SKIP_RETURN_CODE 77 TIMEOUT 600
		RESOURCE_LOCK lab_sarif_multitool
		ENVIRONMENT "${_lab_sarif_tool_env};LAB_SARIF_MULTITOOL_VERSION=${LAB_SARIF_MULTITOOL_VERSION}")
	set_tests_properties(report_sarif PROPERTIES
		FIXTURES_REQUIRED report_fixture)
	set_tests_properties(report_sarif_edge PROPERTIES
		FIXTURES_REQUIRED report_sarif_edge)
else()
	foreach(_t IN LISTS _lab_sarif_names)
		lab_add_skipped_test(${_t} "no bash (apt-get install bash)"
				     LABELS report)
	endforeach()
endif()

if(LAB_PYTHON3)
	set(_lab_junit_check ${LAB_PYTHON3} "${_lab_sarif_tests}/junit_check.py")
	# report_fixture.c: 5 runs (one interrupted), 12 findings, all of
	# them naming one of the runs
	add_test(NAME report_junit
		 COMMAND ${_lab_junit_check} "${_lab_sarif_fixture}/junit.xml"
			 --testcases 5 --failure-elements 12 --error-elements 1
			 --orphan-cases 0 --script-title)
	# sarif_edge_fixture.c: 2 runs (one failed without findings of its
	# own, one erred) and 3 findings of 3 tools without a run
	add_test(NAME report_junit_edge
		 COMMAND ${_lab_junit_check} "${_lab_sarif_edge}/edge.xml"
			 --testcases 5 --failure-elements 4 --error-elements 1
			 --orphan-cases 3)
	add_test(NAME report_junit_empty
		 COMMAND ${_lab_junit_check} "${_lab_sarif_edge}/empty.xml"
			 --testcases 0 --failure-elements 0 --error-elements 0)
	set_tests_properties(report_junit report_junit_edge report_junit_empty
		PROPERTIES LABELS report TIMEOUT 60)
	set_tests_properties(report_junit PROPERTIES
		FIXTURES_REQUIRED report_fixture)
	set_tests_properties(report_junit_edge report_junit_empty PROPERTIES
		FIXTURES_REQUIRED report_sarif_edge)
else()
	foreach(_t IN ITEMS report_junit report_junit_edge report_junit_empty)
		lab_add_skipped_test(${_t}
			"no python3, which junit_check.py needs (apt-get install python3)"
			LABELS report)
	endforeach()
endif()

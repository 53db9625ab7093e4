# html.cmake - report_html: report.html as headless Chromium renders it,
# offline (html_chromium.sh).  Included by reports/tests/CMakeLists.txt
# after the report_fixture_run test (fixture
# "report_fixture", LAB_REPORT_FIXTURE_DIR).
#
#   report_html         checks the DOM Chromium builds from its report.html;
#                       skipped (77) when there is no Chromium and it
#                       may not be installed (cmake/LabTestTools.cmake)
#
# The expected numbers are those of report_fixture.c: 12 distinct findings
# (the race is added twice: one row, count 2), 15 sightings, 5 runs of
# which 3 failed, stress series ops/s and failures, fuzz series exec/s and
# coverage, and a title holding "<script>alert(1)</script>" that must come
# out as text; the stress runs' commands, which name no seed, show the
# seed they ran with (and a Seed column).

lab_test_tools_env(_lab_html_tool_env)
if(NOT LAB_BASH)
	lab_add_skipped_test(report_html "no bash (apt-get install bash)"
			     LABELS report)
	return()
endif()
add_test(NAME report_html
	 COMMAND "${LAB_BASH}" "${CMAKE_CURRENT_LIST_DIR}/html_chromium.sh"
		 "${LAB_REPORT_FIXTURE_DIR}"
		 --findings 12 --sightings 15 --runs 5 --failed 3
		 --charts "ops/s,failures,exec/s,coverage,findings-over-time,findings-by-kind"
		 --text "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"owner\""
		 --text "<td class=\"num seed\">12345</td>"
		 --text "<code>labyrinth stress --out x --seed 12345</code>"
		 --timeout 120)
set_tests_properties(report_html PROPERTIES
	FIXTURES_REQUIRED report_fixture
	LABELS report
	SKIP_RETURN_CODE 77
	TIMEOUT 600
	ENVIRONMENT "${_lab_html_tool_env}")

# One finding, no run: its findings chart has a real time axis (a minute
# centred on the point: ticks 0 to 60 s), not -1..1.
add_test(NAME report_html_one
	 COMMAND "${LAB_BASH}" "${CMAKE_CURRENT_LIST_DIR}/html_chromium.sh"
		 "${LAB_REPORT_FIXTURE_ONE_DIR}"
		 --findings 1 --runs 0
		 --charts "findings-over-time,findings-by-kind"
		 --xaxis "findings-over-time:0:60"
		 --timeout 120)
set_tests_properties(report_html_one PROPERTIES
	FIXTURES_REQUIRED report_fixture_one
	LABELS report
	SKIP_RETURN_CODE 77
	TIMEOUT 600
	ENVIRONMENT "${_lab_html_tool_env}")

# LabTestTools.cmake - the programs some tests need beside the compiler,
# found at configure time and announced there: each tool, whether it was
# found, and what the tests that need it will do.
#
#   chromium          report_html renders report.html in it
#   node, npm         report_sarif* run Microsoft's SARIF Multitool (npm)
#   SARIF Multitool   npm package, installed into <build>/sarif-multitool
#   python3           report_junit*, fuzz_clusterfuzzlite, stress cases
#   pkg-config        install_consumer's second half
#
# A missing tool is installed at test time only when the configuration
# lets tests install (LAB_INSTALL_TEST_TOOLS, ON in the `test` preset that
# CI and the README's test command use), LAB_NO_INSTALL is not 1, and, for
# Debian packages, you are root with apt-get.  Otherwise the test that
# needs it is reported by ctest as skipped (exit 77), with the reason in
# its output.  The scripts read the decision from LAB_TOOL_INSTALL in the
# test's environment (lab_test_tools_env) and LAB_NO_INSTALL from yours,
# so `LAB_NO_INSTALL=1 ctest ...` opts out at test time too.

include_guard(GLOBAL)

option(LAB_INSTALL_TEST_TOOLS
       "Let tests install what they miss: Chromium, Node.js and npm with apt-get (as root), the SARIF Multitool with npm into the build tree (LAB_NO_INSTALL=1 overrides)"
       OFF)
set(LAB_SARIF_MULTITOOL_VERSION 5.7.0 CACHE STRING
    "Version of the npm package @microsoft/sarif-multitool-<os> the SARIF tests use")

# lab_test_tools_find(): LAB_BASH, LAB_PYTHON3, LAB_PKG_CONFIG,
# LAB_CHROMIUM, LAB_NODE, LAB_NPM (cache, *-NOTFOUND when missing, looked
# for again at every configure), LAB_TOOLS_MAY_INSTALL and
# LAB_TOOLS_NO_INSTALL_WHY.  A macro: the results are the caller's.
macro(lab_test_tools_find)
	find_program(LAB_BASH bash)
	find_program(LAB_PYTHON3 python3)
	find_program(LAB_PKG_CONFIG NAMES pkg-config pkgconf
		     DOC "pkg-config, for the install test")
	find_program(LAB_CHROMIUM NAMES chromium chromium-browser
		     google-chrome google-chrome-stable
		     DOC "Chromium, for report_html")
	find_program(LAB_NODE node DOC "Node.js, for the SARIF tests")
	find_program(LAB_NPM npm DOC "npm, for the SARIF tests")
	find_program(LAB_APT_GET apt-get)
	mark_as_advanced(LAB_CHROMIUM LAB_NODE LAB_NPM LAB_APT_GET)
	execute_process(COMMAND id -u OUTPUT_VARIABLE _lab_uid
			OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
	set(LAB_TOOLS_MAY_INSTALL OFF)
	set(LAB_TOOLS_MAY_APT OFF)
	if(NOT LAB_INSTALL_TEST_TOOLS)
		set(LAB_TOOLS_NO_INSTALL_WHY
		    "LAB_INSTALL_TEST_TOOLS is OFF in this configuration: the test preset turns it on, -DLAB_INSTALL_TEST_TOOLS=ON too")
	elseif("$ENV{LAB_NO_INSTALL}" STREQUAL "1")
		set(LAB_TOOLS_NO_INSTALL_WHY "LAB_NO_INSTALL=1")
	else()
		set(LAB_TOOLS_MAY_INSTALL ON)
		if(NOT _lab_uid STREQUAL "0")
			set(LAB_TOOLS_NO_INSTALL_WHY "you are not root")
		elseif(NOT LAB_APT_GET)
			set(LAB_TOOLS_NO_INSTALL_WHY "there is no apt-get")
		else()
			set(LAB_TOOLS_MAY_APT ON)
		endif()
	endif()
endmacro()

# lab_test_tools_env(<out>): the environment entries a test that may
# install a tool gets (LAB_TOOL_INSTALL=1 or 0).
function(lab_test_tools_env out)
	if(LAB_TOOLS_MAY_INSTALL)
		set(${out} "LAB_TOOL_INSTALL=1" PARENT_SCOPE)
	else()
		set(${out} "LAB_TOOL_INSTALL=0" PARENT_SCOPE)
	endif()
endfunction()

# One line: "  NAME  found at PATH" or "  NAME  not found: WHAT".
function(_lab_tool_line name path tests what_if_missing)
	string(LENGTH "${name}" _len)
	math(EXPR _pad "17 - ${_len}")
	if(_pad LESS 1)
		set(_pad 1)
	endif()
	string(REPEAT " " ${_pad} _sp)
	if(path)
		message(STATUS "  ${name}${_sp}${path} (${tests})")
	else()
		message(STATUS "  ${name}${_sp}NOT FOUND: ${what_if_missing}")
	endif()
endfunction()

# What a missing Debian package will come to in its tests.
function(_lab_apt_outcome tests packages out)
	if(LAB_TOOLS_MAY_APT)
		set(${out}
		    "installed at test time by ${tests} (apt-get install ${packages}): you are root, LAB_INSTALL_TEST_TOOLS is ON and LAB_NO_INSTALL is unset; LAB_NO_INSTALL=1 skips instead"
		    PARENT_SCOPE)
	else()
		set(${out}
		    "${tests} will be SKIPPED (${LAB_TOOLS_NO_INSTALL_WHY}); to run: apt-get install ${packages}"
		    PARENT_SCOPE)
	endif()
endfunction()

# lab_test_tools_report(): prints the table (call it last, after every
# test is registered, so it is the last thing configuring says).
function(lab_test_tools_report)
	message(STATUS "labyrinth: tools the tests need beside the compiler:")
	_lab_apt_outcome("report_html" "chromium chromium-driver" _chromium)
	_lab_tool_line(chromium "${LAB_CHROMIUM}" "report_html" "${_chromium}")
	set(_node "${LAB_NODE}")
	if(_node AND LAB_NPM)
		set(_node "${LAB_NODE}, ${LAB_NPM}")
	elseif(_node)
		set(_node "")
	endif()
	_lab_apt_outcome("report_sarif*" "nodejs npm" _npm)
	_lab_tool_line("node, npm" "${_node}" "report_sarif*" "${_npm}")
	set(_mt_dir "${PROJECT_BINARY_DIR}/sarif-multitool")
	set(_mt "${_mt_dir}/node_modules/@microsoft")
	if(EXISTS "${_mt}/sarif-multitool-linux/Sarif.Multitool" OR
	   EXISTS "${_mt}/sarif-multitool-darwin/Sarif.Multitool")
		_lab_tool_line("SARIF Multitool" "${_mt_dir}" "report_sarif*" "")
	elseif(LAB_TOOLS_MAY_INSTALL)
		message(STATUS "  SARIF Multitool  not yet in ${_mt_dir}: "
			"report_sarif* will install it there at test time "
			"(npm install @microsoft/sarif-multitool-<os>@"
			"${LAB_SARIF_MULTITOOL_VERSION}, npm's cache inside it "
			"too); LAB_NO_INSTALL=1 skips instead")
	else()
		message(STATUS "  SARIF Multitool  NOT FOUND in ${_mt_dir}: "
			"report_sarif* will be SKIPPED "
			"(${LAB_TOOLS_NO_INSTALL_WHY})")
	endif()
	_lab_tool_line(python3 "${LAB_PYTHON3}"
		"report_junit*, fuzz_clusterfuzzlite, stress cases"
		"report_junit* and fuzz_clusterfuzzlite will be SKIPPED (the stress end-to-end cases fail); to run: apt-get install python3")
	_lab_tool_line(pkg-config "${LAB_PKG_CONFIG}" "install_consumer"
		"install_consumer will be SKIPPED after its find_package half; to run: apt-get install pkgconf")
	if("$ENV{CI}" STREQUAL "true")
		message(STATUS "  CI=true: report_html and report_sarif* FAIL "
			"instead of skipping when their tool cannot be had")
	endif()
	message(STATUS "  (ctest lists a skipped test as \"Skipped\"; its "
		"output says why: ctest -V, Testing/Temporary/LastTest.log)")
endfunction()

# lab_add_skipped_test(<name> <reason> [LABELS <label>...]): a test that
# cannot run here, registered all the same so that ctest reports it as
# skipped, with the reason in its output, instead of leaving it out.
function(lab_add_skipped_test name reason)
	cmake_parse_arguments(PARSE_ARGV 2 ARG "" "" "LABELS")
	add_test(NAME ${name}
		 COMMAND "${CMAKE_COMMAND}" -E echo "SKIPPED: ${reason}")
	set_tests_properties(${name} PROPERTIES
		SKIP_REGULAR_EXPRESSION "^SKIPPED: "
		LABELS "${ARG_LABELS}")
endfunction()

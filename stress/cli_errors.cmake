# cli_errors.cmake - bad command lines and bad artifacts must end with exit
# status 2 and exactly one line on stderr starting "labyrinth: ".
#
#   cmake -DLABYRINTH=<path to labyrinth> -DSCRATCH=<dir> -P cli_errors.cmake
#
# Registered by stress/CMakeLists.txt as labyrinth_cli_errors; SCRATCH
# receives the broken artifacts the cases read.

if(NOT LABYRINTH OR NOT SCRATCH)
	message(FATAL_ERROR "usage: cmake -DLABYRINTH=... -DSCRATCH=... -P cli_errors.cmake")
endif()

file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")

# Inputs for the artifact cases: garbage, and a valid start cut short
# (no `decisions`, no `end`).
string(ASCII 127 1 2 3 255 _binary)
file(WRITE "${SCRATCH}/garbage.lab" "${_binary}ELF binary, not an artifact\n")
file(WRITE "${SCRATCH}/truncated.lab"
"labyrinth-artifact 1
build test
mode controlled
profile mixed
seed 1
maze 8x8
")
set(_missing "${SCRATCH}/missing.lab")

set(_failures 0)

# expect_usage_error(<name> <arg>...)
# Runs the command and checks: status 2, stdout untouched by the error,
# stderr exactly one line beginning "labyrinth: ".
function(expect_usage_error name)
	_lab_expect_error("${name}" "" ${ARGN})
	set(_failures ${_failures} PARENT_SCOPE)
endfunction()

# expect_message(<name> <regex> <arg>...)
# The same, and the line matches <regex> (what it must say: the flag
# named, the value escaped and cut).
function(expect_message name regex)
	_lab_expect_error("${name}" "${regex}" ${ARGN})
	set(_failures ${_failures} PARENT_SCOPE)
endfunction()

function(_lab_expect_error name regex)
	execute_process(COMMAND "${LABYRINTH}" ${ARGN}
		RESULT_VARIABLE _rc
		OUTPUT_VARIABLE _out
		ERROR_VARIABLE _err
		TIMEOUT 60)
	string(REGEX REPLACE "\n$" "" _line "${_err}")
	set(_why "")
	if(NOT _rc EQUAL 2)
		set(_why "exit status ${_rc}, not 2")
	elseif(NOT _line MATCHES "^labyrinth: ")
		set(_why "stderr does not start with 'labyrinth: '")
	elseif(_line MATCHES "\n")
		set(_why "stderr has more than one line")
	elseif(regex AND NOT _line MATCHES "${regex}")
		set(_why "stderr does not match '${regex}'")
	endif()
	if(_why)
		message(SEND_ERROR "${name}: ${_why}\n  command: ${ARGN}\n  stderr: ${_err}")
		math(EXPR _n "${_failures} + 1")
		set(_failures ${_n} PARENT_SCOPE)
	else()
		message(STATUS "ok  ${name}: ${_line}")
	endif()
endfunction()

# expect_help(<name> <regex> <arg>...): exit 0, stdout starts with regex,
# stderr empty.
function(expect_help name regex)
	execute_process(COMMAND "${LABYRINTH}" ${ARGN} RESULT_VARIABLE _rc
		OUTPUT_VARIABLE _out ERROR_VARIABLE _err TIMEOUT 60)
	if(_rc EQUAL 0 AND _out MATCHES "^${regex}" AND NOT _err)
		message(STATUS "ok  ${name}")
		return()
	endif()
	message(SEND_ERROR "${name}: exit ${_rc}, stdout does not start "
		"'${regex}' or stderr not empty\n  command: ${ARGN}\n"
		"  stdout: ${_out}\n  stderr: ${_err}")
	math(EXPR _n "${_failures} + 1")
	set(_failures ${_n} PARENT_SCOPE)
endfunction()

expect_usage_error("unknown subcommand" frobnicate)
expect_usage_error("no subcommand")
expect_usage_error("unknown flag" stress --no-such-flag)
expect_usage_error("missing value" stress --threads)
expect_usage_error("--threads 0" stress --threads 0)
expect_usage_error("--threads abc" stress --threads abc)
expect_usage_error("--threads 5x" stress --threads 5x)
expect_usage_error("--seconds -1" stress --seconds -1)
expect_usage_error("--seconds 1e3" stress --seconds 1e3)
expect_usage_error("--seed overflow" stress --seed 18446744073709551616)
expect_usage_error("--irq-permille 5000" stress --irq-permille 5000)
expect_usage_error("--logical 9" stress --logical 9)
expect_usage_error("--profile unknown" stress --profile nope)
expect_usage_error("--bug unknown" stress --bug nope)
expect_usage_error("--mode unknown" stress --mode sideways)
expect_usage_error("flag with a stray value" stress --no-isolate=1)
expect_usage_error("replay without artifact" replay)
expect_usage_error("replay of a missing file" replay "${_missing}")
expect_usage_error("replay of a garbage file" replay "${SCRATCH}/garbage.lab")
expect_usage_error("replay of a truncated artifact" replay
	"${SCRATCH}/truncated.lab")
expect_usage_error("replay of a directory" replay "${SCRATCH}")
expect_usage_error("shrink of a garbage file" shrink "${SCRATCH}/garbage.lab")
expect_usage_error("shrink --budget 0" shrink "${SCRATCH}/garbage.lab"
	--budget 0)
expect_usage_error("help for an unknown command" help nope)
expect_usage_error("zoo: unknown subcommand" zoo frobnicate)
expect_usage_error("zoo run without a bug" zoo run)
expect_usage_error("zoo run of an unknown bug" zoo run nope --mode pct1)
expect_usage_error("zoo run without a mode" zoo run claim-race)
expect_usage_error("zoo run, unknown mode" zoo run claim-race --mode warp)
expect_usage_error("zoo --seeds 0" zoo run claim-race --mode pct1 --seeds 0)
expect_usage_error("zoo --budget abc" zoo run claim-race --mode pct1
	--budget abc)
expect_usage_error("zoo bench, unknown bug in the list" zoo bench
	--bugs claim-race,nope)
expect_usage_error("zoo bench, empty name in the list" zoo bench
	--bugs claim-race,)
expect_usage_error("zoo bench, the control as a bench bug" zoo bench
	--bugs none)
expect_usage_error("zoo bench, unknown mode in the list" zoo bench
	--modes pct1,nope)


# Repeated flags are rejected, not last-wins, in every subcommand.
expect_message("--seed twice" "--seed is given more than once"
	stress --seed 1 --seed 2)
expect_message("--mode twice" "--mode is given more than once"
	stress --mode free --mode controlled)
expect_message("--seed twice, = form" "--seed is given more than once"
	stress --seed=1 --seed 1)
expect_message("a bare flag twice" "--first is given more than once"
	stress --first --first)
expect_message("replay --out twice" "^labyrinth: replay: --out is given"
	replay "${_missing}" --out a --out b)
expect_message("replay --no-isolate twice" "--no-isolate is given"
	replay "${_missing}" --no-isolate --no-isolate)
expect_message("shrink -o and --out" "^labyrinth: shrink: --out is given"
	shrink "${_missing}" -o a --out b)
expect_message("shrink --budget twice" "--budget is given more than once"
	shrink "${_missing}" --budget 1 --budget 2)
expect_message("report --out twice" "^labyrinth: report: --out is given"
	report --out a -o b "${SCRATCH}")
expect_message("report --bench twice" "--bench is given more than once"
	report --bench a --bench b "${SCRATCH}")
expect_message("zoo --mode twice" "^labyrinth: zoo: --mode is given"
	zoo run claim-race --mode pct1 --mode pct2)
expect_message("zoo --seed twice" "--seed is given more than once"
	zoo bench --seed 1 --seed 2)

# Extra words are rejected; -h/--help COMMAND is help for COMMAND.
expect_message("help with two commands" "^labyrinth: help: one COMMAND only \\('extra'"
	help stress extra)
expect_message("-h with two commands" "^labyrinth: help: one COMMAND only"
	-h stress extra)
expect_message("--version with a word" "^labyrinth: --version takes no arguments"
	--version x)
expect_message("bugs with a word" "^labyrinth: bugs: takes no arguments"
	bugs x)
expect_message("zoo list with a word" "^labyrinth: zoo: list takes no"
	zoo list x)
expect_help("-h stress" "usage: labyrinth stress " -h stress)
expect_help("--help report" "usage: labyrinth report " --help report)
expect_help("help zoo" "usage: labyrinth zoo " help zoo)
expect_help("--version" "labyrinth " --version)

# Control bytes in a value are escaped, a long value is cut with its
# length: the error stays one line, and short.
string(ASCII 27 _esc)
string(REPEAT "x" 5000 _long)
expect_message("newline in --seed" "--seed: '1\\\\n2' is not"
	stress --seed "1\n2")
expect_message("escape in --profile" "unknown profile '\\\\x1b\\[31mred'"
	stress --profile "${_esc}[31mred")
expect_message("newline in a flag name" "unknown flag '--se\\\\ned'"
	stress "--se\ned")
expect_message("newline in a command" "unknown command 'a\\\\nb'"
	"a\nb")
expect_message("newline in a replay path" "a\\\\nb[.]lab: cannot open"
	replay "${SCRATCH}/a\nb.lab")
expect_message("newline in a zoo mode" "unknown mode 'a\\\\nb'"
	zoo run claim-race --mode "a\nb")
expect_message("newline in a report flag" "unknown flag '--x\\\\n'"
	report "--x\n" "${SCRATCH}")
expect_message("long --out" "'x+[.][.][.]x+' \\(5000 bytes\\) must be"
	stress --out "${_long}")
expect_message("long command" "unknown command 'x+[.][.][.]x+' \\(5000 bytes\\)"
	"${_long}")
expect_message("long replay path" "[.][.][.]x+' \\(5000 bytes\\): cannot open"
	replay "${_long}")
expect_message("long help topic" "unknown command 'x+[.][.][.]x+' \\(5000"
	help "${_long}")

# report: a path it cannot use is named with why; nothing read: exit 2.
file(MAKE_DIRECTORY "${SCRATCH}/empty")
expect_message("report of a missing path"
	"^labyrinth: report: skipped [^ ]*/missing.lab: No such file"
	report --out "${SCRATCH}/out" "${_missing}")
expect_message("report of an empty directory"
	"^labyrinth: report: skipped [^ ]*/empty: no finding"
	report --out "${SCRATCH}/out" "${SCRATCH}/empty")
expect_message("report of an artifact"
	"^labyrinth: report: skipped [^ ]*/garbage.lab: an artifact"
	report --out "${SCRATCH}/out" "${SCRATCH}/garbage.lab")
if(EXISTS "${SCRATCH}/out")
	message(SEND_ERROR "report that read nothing created ${SCRATCH}/out")
	math(EXPR _failures "${_failures} + 1")
endif()
# ... and does not touch the renderings already there (a typo once
# replaced a good findings.json with an empty one).
file(WRITE "${SCRATCH}/good/findings.json" "the good report\n")
expect_message("report of a typo into a report directory"
	"^labyrinth: report: skipped /typo: No such file"
	report --out "${SCRATCH}/good" /typo)
file(READ "${SCRATCH}/good/findings.json" _kept)
file(GLOB _good_files RELATIVE "${SCRATCH}/good" "${SCRATCH}/good/*"
	"${SCRATCH}/good/.*")
if(NOT _kept STREQUAL "the good report\n" OR NOT _good_files STREQUAL "findings.json")
	message(SEND_ERROR "report of /typo touched ${SCRATCH}/good: ${_good_files}")
	math(EXPR _failures "${_failures} + 1")
endif()

if(_failures GREATER 0)
	message(FATAL_ERROR "${_failures} case(s) failed")
endif()

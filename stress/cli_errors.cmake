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
	endif()
	if(_why)
		message(SEND_ERROR "${name}: ${_why}\n  command: ${ARGN}\n  stderr: ${_err}")
		math(EXPR _n "${_failures} + 1")
		set(_failures ${_n} PARENT_SCOPE)
	else()
		message(STATUS "ok  ${name}: ${_line}")
	endif()
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
expect_usage_error("--profile misuse, controlled" stress --mode controlled --profile misuse)
expect_usage_error("--profile relaxed, campaign" stress --profile relaxed)
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

if(_failures GREATER 0)
	message(FATAL_ERROR "${_failures} case(s) failed")
endif()

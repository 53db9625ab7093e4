#!/usr/bin/env bash
# readme_check.sh CHECK README ARGS... - the figures and lists README.md
# quotes still have the shape the named commands print now (their numbers
# vary from run to run; their columns, rows and words must not).  Each
# CHECK is one ctest test (label docs, docs/CMakeLists.txt):
#
#   commands LABYRINTH   the subcommands of "The `labyrinth` command" block
#                        are those `labyrinth help` lists
#   exit LABYRINTH       the README's "Exit status: ..." sentence lists the
#                        statuses and meanings of `labyrinth help`'s line
#   renderings LABYRINTH WORKDIR
#                        the files the README says a run writes are the
#                        ones a run prints ("reports: DIR/{...}")
#   bench LAB_BENCH      the allocator table: header line and the rows
#                        (shape, threads, backend) of `lab_bench --smoke`
#   bench-sched LAB_BENCH_SCHED
#                        the scheduler table: header line and strategies
#                        of `lab_bench_sched --smoke`
#   zoo LABYRINTH WORKDIR
#                        the bug zoo table: header of `labyrinth zoo bench`
#                        and one row per bug of `labyrinth bugs`
#   tests CTEST BUILDDIR the "(N tests)" of the test workflow is what
#                        `ctest -N` counts there (the test preset's filter:
#                        label mainjob left out)
#
# Pipelines read their input to the end (sed -n 1p, not head): with
# pipefail, a reader that stops early would kill the writer with SIGPIPE
# and the check with it, now and then.
#
# exit: 0 the README matches, 1 it does not (the message names the README
# line, what the command printed and the command to regenerate it), 2 usage.
set -euo pipefail

me=readme_check
trap 'echo "$me: FAIL: the check itself failed at line $LINENO (exit $?)" >&2' ERR
usage() {
	echo "usage: $me CHECK README ARGS... (see the top of $0)" >&2
	exit 2
}
[ $# -ge 2 ] || usage
check=$1
readme=$2
shift 2
[ -r "$readme" ] || { echo "$me: cannot read $readme" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lab-readme-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
	echo "$me: FAIL: $*" >&2
	exit 1
}

# section TITLE: README lines from the heading "## TITLE" to the next "## ".
section() {
	awk -v t="## $1" '
		$0 == t { on = 1; next }
		on && /^## / { exit }
		on' "$readme"
}

# block TITLE FIRST-WORD: the fenced block of section TITLE whose first
# line starts with FIRST-WORD (without the fences).
block() {
	section "$1" | awk -v w="$2" '
		done { next }
		/^```/ { if (inb) { if (keep) done = 1; inb = 0; next }
			 inb = 1; first = 1; keep = 0; n = 0; next }
		inb && first { first = 0; keep = index($0, w) == 1 }
		inb && keep { print }'
}

# same WHAT FILE-README FILE-COMMAND REGENERATE: the two files are equal,
# or a diff and the command that regenerates the README's copy.
same() {
	if ! diff -u --label "README.md: $1" --label "command: $1" "$2" "$3" >"$work/diff"; then
		cat "$work/diff" >&2
		fail "README.md's $1 differs from what the command prints; regenerate it: $4"
	fi
	echo "ok: $1 ($(grep -c . "$2") lines match)"
}

# run OUT CMD...: runs a command, its stdout to OUT; a failure is fatal.
run() {
	local out=$1
	shift
	"$@" >"$out" 2>"$work/stderr" ||
		{ cat "$work/stderr" >&2; fail "'$*' failed (exit $?)"; }
}

case $check in
commands)
	[ $# = 1 ] || usage
	run "$work/help" "$1" help
	awk '/^commands:/ { on = 1; next } on && /^$/ { exit }
	     on { print $1 }' "$work/help" | sort >"$work/cmd"
	block 'The `labyrinth` command' labyrinth |
		awk '$1 == "labyrinth" { print $2 }' | sort >"$work/doc"
	[ -s "$work/cmd" ] || fail "no commands: section in 'labyrinth help'"
	same "subcommands (The \`labyrinth\` command)" "$work/doc" "$work/cmd" \
		"labyrinth help"
	;;
exit)
	[ $# = 1 ] || usage
	run "$work/help" "$1" help
	# "N meaning" items, parentheses dropped, up to the sentence's end
	items() { sed 's/([^)]*)//g; s/\.\( .*\)\{0,1\}$//; s/, */\n/g' |
		  sed 's/^ *//; s/ *$//' | grep .; }
	sed -n 's/^exit status: //p' "$work/help" | sed -n 1p | items >"$work/cmd"
	[ -s "$work/cmd" ] || fail "no 'exit status:' line in 'labyrinth help'"
	tr '\n' ' ' <"$readme" | grep -o 'Exit status: [^.]*\(([^)]*)[^.]*\)*\.' |
		sed -n 1p | sed 's/^Exit status: //' | items >"$work/doc" ||
		fail "no 'Exit status: ...' sentence in README.md"
	same "exit statuses" "$work/doc" "$work/cmd" "labyrinth help"
	;;
renderings)
	[ $# = 2 ] || usage
	run "$work/out" "$1" stress --mode controlled --schedules 1 --seed 1 \
		--no-progress --out "$2"
	sed -n 's/^reports: .*{\(.*\)}$/\1/p' "$work/out" | tr ',' '\n' |
		grep . >"$work/cmd" ||
		fail "no 'reports: DIR/{...}' line from labyrinth stress"
	# "`reports/latest/` gets `a`, `b`, ... and `c`"
	tr '\n' ' ' <"$readme" | grep -o 'gets `summary.md`[^(]*(' | sed -n 1p |
		grep -o '`[^`]*`' | tr -d '`' >"$work/doc" ||
		fail "no 'gets \`summary.md\`, ...' sentence in README.md"
	same "renderings a run writes" "$work/doc" "$work/cmd" \
		"labyrinth stress --mode controlled --schedules 1"
	;;
bench)
	[ $# = 1 ] || usage
	run "$work/out" "$1" --smoke
	# header words, then "shape thr backend" of every row
	awk '$1 == "shape" { on = 1; print; next } on && NF >= 3 && $2 ~ /^[0-9]+$/ { print $1, $2, $3 }' \
		"$work/out" | tr -s ' ' >"$work/cmd"
	block Benchmarks shape |
		awk '$1 == "shape" { print; next } NF >= 3 { print $1, $2, $3 }' |
		tr -s ' ' >"$work/doc"
	[ -s "$work/doc" ] || fail "no table starting 'shape' in README.md's Benchmarks"
	same "allocator table (header and rows)" "$work/doc" "$work/cmd" \
		"cmake --preset release && cmake --build --preset release -j2 && build/release/bench/lab_bench"
	;;
bench-sched)
	[ $# = 1 ] || usage
	run "$work/out" "$1" --smoke
	# the header, then each row's name: the words before the first number
	names() { awk '$1 == "strategy" { on = 1; print; next }
		       on && NF { s = ""; for (i = 1; i <= NF && $i !~ /^[0-9]/; i++) s = s (s ? " " : "") $i; print s }' |
		  tr -s ' '; }
	names <"$work/out" >"$work/cmd"
	block Benchmarks strategy | names >"$work/doc"
	[ -s "$work/doc" ] || fail "no table starting 'strategy' in README.md's Benchmarks"
	same "scheduler table (header and strategies)" "$work/doc" "$work/cmd" \
		"build/release/bench/lab_bench_sched"
	;;
zoo)
	[ $# = 2 ] || usage
	run "$work/out" "$1" zoo bench --bugs claim-race --modes random \
		--seeds 1 --budget 5 --seed 1 --out "$2"
	grep -m 1 '^| bug | best' "$work/out" >"$work/cmd" ||
		fail "no '| bug | best ...' table from labyrinth zoo bench"
	run "$work/bugs" "$1" bugs
	section 'The bug zoo' | grep '^| bug |' | sed -n 1p >"$work/doc"
	[ -s "$work/doc" ] ||
		fail "no '| bug | ...' table in README.md's The bug zoo"
	same "bug zoo table header" "$work/doc" "$work/cmd" \
		"labyrinth zoo bench --seeds 5 --budget 10 --seed 1"
	# one row per seeded bug, in the order `labyrinth bugs` lists them
	sed -n 's/^  \([a-z][a-z0-9-]*\)$/\1/p' "$work/bugs" |
		grep -v '^none$' >"$work/cmd"
	section 'The bug zoo' | awk -F' *\\| *' '/^\| [a-z]/ && $2 != "bug" { print $2 }' \
		>"$work/doc"
	same "bug zoo table rows (one per bug)" "$work/doc" "$work/cmd" \
		"labyrinth bugs; labyrinth zoo bench --seeds 5 --budget 10 --seed 1"
	;;
tests)
	[ $# = 2 ] || usage
	run "$work/out" "$1" --test-dir "$2" -N -LE '^mainjob$'
	sed -n 's/^Total Tests: \([0-9]*\)$/\1/p' "$work/out" >"$work/cmd"
	[ -s "$work/cmd" ] || fail "no 'Total Tests: N' from ctest -N"
	section 'The two commands' | tr '\n' ' ' |
		grep -o '([0-9][0-9]* tests' | sed -n 1p | tr -dc '0-9\n' >"$work/doc"
	[ -s "$work/doc" ] ||
		fail "no '(N tests' in README.md's The two commands"
	same "test count of the test workflow" "$work/doc" "$work/cmd" \
		"cmake --workflow --preset test (ctest's 'out of N'; or ctest --preset test -N)"
	;;
*)
	usage
	;;
esac

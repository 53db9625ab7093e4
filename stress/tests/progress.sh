#!/usr/bin/env bash
# progress.sh LABYRINTH WORKDIR CASE - what the controlled mode prints while
# it runs and when it stops.  Each CASE is one ctest test:
#   progress  stderr is not a terminal (a CI log): an 11 s controlled run
#             prints a plain progress line at 5 s and at 10 s, each with
#             the elapsed time, the schedules run, decisions and
#             decisions/s, and findings; the counts only grow
#   count     a seeded bug found by a later schedule: "schedule N" that
#             found it and the summary's "N schedules" are the same N;
#             a run of --schedules M without a finding counts M
set -euo pipefail

bin=$1
work=$2
case_name=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run EXPECTED-EXIT OUT ERR ARGS...: runs the command (stdout and stderr
# apart, neither a terminal), checks its status.
run() {
	local want=$1 out=$2 err=$3 status=0
	shift 3
	"$bin" "$@" >"$out" 2>"$err" </dev/null || status=$?
	if [ "$status" != "$want" ]; then
		cat "$out" "$err" >&2
		fail "'$bin $*' exited $status, expected $want"
	fi
}

line_re='^controlled: ([0-9]+\.[0-9]) s, ([0-9]+\.[0-9]) s left, ([0-9]+) schedules, ([0-9]+) decisions \(([0-9]+)/s\), ([0-9]+) findings?$'

case "$case_name" in
progress)
	run 0 out.log err.log stress --mode controlled --seconds 11 --seed 5 \
		--out out
	grep -q '^controlled summary:' out.log || fail "no summary"
	# a live line would carry a carriage return: none off a terminal
	if grep -q $'\r' err.log; then
		fail "carriage returns in non-terminal output"
	fi
	grep -E "$line_re" err.log >lines || true
	cat lines
	n=$(grep -c . lines || true)
	[ "$n" = 2 ] || fail "$n progress lines in 11 s, expected 2 (one every 5 s)"
	# time, schedules, decisions grow; each line at or after its 5 s mark,
	# and not long after (a schedule takes milliseconds)
	awk '
	{
		t = $2 + 0; s = $7 + 0; d = $9 + 0
		rate = $11; gsub(/[(\/s),]/, "", rate)
		if (t < 5 * NR || t > 5 * NR + 2) {
			print "line " NR " at " t " s, expected " 5 * NR "..." 5 * NR + 2; bad = 1
		}
		if (s <= ps || d <= pd || rate + 0 <= 0) {
			print "line " NR ": counts did not grow: " $0; bad = 1
		}
		ps = s; pd = d
	}
	END { exit bad }' lines || fail "progress lines out of shape or rate"
	;;
count)
	# claim-race with PCT, seed 2: found by a schedule after the first
	run 1 out.log err.log stress --mode controlled --bug claim-race \
		--strategy pct --seed 2 --schedules 400 --out found
	found=$(sed -n 's/^schedule \([0-9]*\) (seed .*/\1/p' out.log)
	counted=$(sed -n 's/^controlled summary: \([0-9]*\) schedules,.*/\1/p' out.log)
	cat out.log
	[ -n "$found" ] || fail "no 'schedule N (seed ...)' line"
	[ "$found" -gt 1 ] || fail "found by schedule $found; the case needs a later one"
	[ "$found" = "$counted" ] ||
		fail "schedule $found found it, but the summary counts $counted schedules"
	run 0 out2.log err2.log stress --mode controlled --seed 3 \
		--schedules 25 --out clean
	counted=$(sed -n 's/^controlled summary: \([0-9]*\) schedules,.*/\1/p' out2.log)
	[ "$counted" = 25 ] || fail "--schedules 25 counted '$counted' schedules"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"

#!/usr/bin/env bash
# controlled.sh LABYRINTH WORKDIR CASE - end-to-end tests of the controlled
# scheduler through the `labyrinth` command.  Each CASE is one ctest test:
#   determinism  two processes, same seed and options: same trace digest
#   replay       a seeded bug is found, its artifact replays to the same
#                finding at the same step, every time (3 replays)
#   shrink       shrinking keeps the finding and makes nothing longer
#   tsan-race    (TSan builds) a data race that a schedule exercises is
#                reported by TSan and becomes a data-race finding
#   free-irq     free-running mode delivers interrupts and defers some
#                while IRQs are disabled
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

# run EXPECTED-EXIT OUTFILE ARGS...: runs the command, checks its status.
run() {
	local want=$1 out=$2 status=0
	shift 2
	"$bin" "$@" >"$out" 2>&1 || status=$?
	if [ "$status" != "$want" ]; then
		cat "$out" >&2
		fail "'$bin $*' exited $status, expected $want"
	fi
}

field() { # field FILE KEY: value of "KEY value" in an artifact
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}

find_bug() { # find_bug BUG OUTDIR [ARGS...]: controlled run that must find it
	local bug=$1 out=$2
	shift 2
	run 1 "$out.log" stress --mode controlled --bug "$bug" --seed 1 \
		--schedules 400 --no-progress --out "$out" "$@"
	[ -f "$out/artifact-1.lab" ] || fail "no artifact for $bug in $out"
}

case "$case_name" in
determinism)
	for i in 1 2; do
		run 0 "run$i.log" stress --mode controlled --seed 7 \
			--schedules 40 --no-progress --out "out$i"
	done
	d1=$(grep '^trace digest' run1.log) || fail "no digest in run 1"
	d2=$(grep '^trace digest' run2.log) || fail "no digest in run 2"
	[ "$d1" = "$d2" ] || fail "runs differ: '$d1' vs '$d2'"
	# a different seed takes a different path (the digest is not constant)
	run 0 run3.log stress --mode controlled --seed 8 --schedules 40 \
		--no-progress --out out3
	d3=$(grep '^trace digest' run3.log)
	[ "$d1" != "$d3" ] || fail "seeds 7 and 8 gave the same trace"
	;;
replay)
	find_bug claim-race found
	art=found/artifact-1.lab
	kind=$(field "$art" finding-kind)
	step=$(field "$art" finding-step)
	for i in 1 2 3; do
		run 1 "replay$i.log" replay "$art"
		grep -q "^reproduced: yes - the same finding at the same step" \
			"replay$i.log" || fail "replay $i did not reproduce"
		grep -q "^finding: $kind at .*step $step" "replay$i.log" ||
			fail "replay $i: not $kind at step $step"
	done
	;;
shrink)
	find_bug claim-race found
	art=found/artifact-1.lab
	# exit 1: the (shrunk) finding is there, as for replay
	run 1 shrink.log shrink "$art" -o small.lab --budget 300
	[ -f small.lab ] || fail "shrink wrote nothing"
	[ "$(field small.lab finding-kind)" = "$(field "$art" finding-kind)" ] ||
		fail "shrink changed the finding"
	[ "$(field small.lab finding-where)" = "$(field "$art" finding-where)" ] ||
		fail "shrink changed the finding's site"
	before=$(field "$art" decisions)
	after=$(field small.lab decisions)
	[ "$after" -le "$before" ] || fail "shrunk: $after > $before decisions"
	[ "$(field small.lab ops-per-thread)" -le \
		"$(field "$art" ops-per-thread)" ] || fail "more ops after shrink"
	run 1 replay-small.log replay small.lab
	grep -q "^reproduced: yes" replay-small.log ||
		fail "the shrunk artifact does not reproduce"
	echo "shrunk $before -> $after decisions"
	;;
tsan-race)
	find_bug racy-free-count found --irq-permille 0
	grep -q "ThreadSanitizer: data race" found.log ||
		fail "TSan did not report the race"
	[ "$(field found/artifact-1.lab finding-kind)" = data-race ] ||
		fail "finding is not a data-race"
	;;
free-irq)
	run 0 free.log stress --mode free --profile irq-storm --seconds 3 \
		--threads 2 --no-progress --out out
	# "interrupts: ... N ran at once, M deferred while IRQs were off"
	delivered=$(sed -n 's/.* \([0-9][0-9]*\) ran at once.*/\1/p' free.log |
		head -n 1)
	deferred=$(sed -n 's/.* \([0-9][0-9]*\) deferred while IRQs.*/\1/p' \
		free.log | head -n 1)
	[ -n "$delivered" ] && [ "$delivered" -gt 0 ] ||
		fail "no interrupts delivered"
	[ -n "$deferred" ] && [ "$deferred" -gt 0 ] ||
		fail "no interrupt was deferred while IRQs were disabled"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS: $case_name"

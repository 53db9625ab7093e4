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
#   sigint       Ctrl-C stops a run early: summary, run record (result
#                interrupted) and the five renderings are still written
#   report       the records a run writes, merged by `labyrinth report`
#                with another run's and a corrupt file: one finding per
#                signature, the bad file named, every rendering written
#   tsan-free    (TSan builds) a race in free-running mode is captured by
#                the TSan hooks and saved as a finding record after the
#                run, with both racing sides, and the run is rendered
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

jfield() { # jfield FILE KEY: a top-level string or number of a JSON record
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(v if not isinstance(v, list) else len(v))' "$1" "$2"
}

renderings() { # renderings DIR: the five files exist and are not empty
	local f
	for f in summary.md findings.json report.sarif junit.xml report.html; do
		[ -s "$1/$f" ] || fail "$1/$f missing or empty"
	done
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
	# the capture hook replaces TSan's own: the line must still print
	grep -q "^SUMMARY: ThreadSanitizer: data race" found.log ||
		fail "no SUMMARY line in the log"
	[ "$(field found/artifact-1.lab finding-kind)" = data-race ] ||
		fail "finding is not a data-race"
	# captured in the child by the TSan hooks: both sides' frames
	j=found/finding-1.json
	[ "$(jfield $j kind)" = data-race ] || fail "record kind"
	grep -q "^SUMMARY: ThreadSanitizer: data race" <<<"$(jfield $j summary)" ||
		fail "no sanitizer summary in the record"
	grep -q '^data-race/data-race@.*|' <<<"$(jfield $j signature)" ||
		fail "signature does not name both racing sides"
	[ "$(jfield $j frames)" -ge 2 ] || fail "no project frames"
	[ "$(jfield $j ops)" -ge 1 ] || fail "no last operations"
	renderings found
	;;
tsan-free)
	# TSan goes on after the report (halt_on_error=0): its hooks may only
	# copy, and the main thread saves the record after the run
	status=0
	TSAN_OPTIONS=halt_on_error=0:exitcode=66 "$bin" stress --mode free \
		--bug racy-free-count --seconds 20 --first --seed 5 \
		--no-progress --out free >free.log 2>&1 || status=$?
	[ "$status" = 66 ] || [ "$status" = 1 ] ||
		fail "no finding (exit $status)"
	j=$(grep -l '"kind": "data-race"' free/finding-*.json | head -n 1)
	[ -n "$j" ] || fail "the race was not saved as a finding"
	[ "$(jfield $j tool)" = stress-free ] || fail "record tool"
	grep -q "^labyrinth replay " <<<"$(jfield $j reproduce)" ||
		fail "no replay command"
	grep -q "of size" <<<"$(jfield $j excerpt)" || fail "no racing accesses"
	grep -q '^data-race/data-race@.*|' <<<"$(jfield $j signature)" ||
		fail "signature does not name both racing sides"
	renderings free
	;;
sigint)
	"$bin" stress --mode free --seconds 60 --seed 3 --no-progress \
		--out out >run.log 2>&1 &
	pid=$!
	for _ in $(seq 50); do # until it runs (its start line is printed)
		grep -q "^free: profile" run.log 2>/dev/null && break
		sleep 0.2
	done
	sleep 1
	kill -INT $pid
	status=0
	wait $pid || status=$?
	[ "$status" = 0 ] || { cat run.log >&2; fail "exit $status after Ctrl-C"; }
	grep -q "^RESULT: PASS (stopped early by a signal)" run.log ||
		fail "no result line"
	[ "$(jfield out/run-*.json result)" = interrupted ] ||
		fail "run record does not say interrupted"
	renderings out
	grep -q "interrupted" out/summary.md || fail "summary.md"
	;;
report)
	find_bug claim-race a
	run 0 clean.log stress --mode controlled --seed 2 --schedules 5 \
		--no-progress --out b
	cp -r a c # the same finding again: merged, count 2
	echo '{"format": "labyrinth-finding", "version": 1, "kind"' \
		>c/finding-99.json
	run 2 report.log report --out merged a b c # a skip outranks findings
	grep -q "skipped .*c/finding-99.json: line [0-9]* column" report.log ||
		fail "the truncated record is not named"
	grep -q "^report: 1 distinct finding(s), 2 sighting(s), 2 run(s)" \
		report.log || fail "not merged by signature"
	renderings merged
	[ "$(python3 -c 'import json; d = json.load(open("merged/findings.json"))
print(len(d["findings"]), d["findings"][0]["count"], len(d["runs"]))')" = \
		"1 2 2" ] || fail "findings.json"
	run 1 report2.log report --out merged2 a
	run 2 usage.log report --out x
	run 2 missing.log report --out x /no/such/dir
	grep -q "/no/such/dir: No such file" missing.log || fail "missing dir"
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

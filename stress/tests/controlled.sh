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
#   sigint       Ctrl-C stops a run early: exit 130, RESULT: INTERRUPTED,
#                summary, run record (result interrupted) and the five
#                renderings are still written
#   run-dirs     without --out each run writes into its own directory
#                reports/TIME-stress-MODE-seedN/, reports/latest links to
#                the newest; --out DIR is used as given
#   report       the records a run writes, merged by `labyrinth report`
#                with another run's and a corrupt file: one finding per
#                signature, the bad file named, every rendering written
#   tsan-free    (TSan builds) a race in free-running mode is captured by
#                the TSan hooks and saved as a finding record after the
#                run, with both racing sides, and the run is rendered
#   livelock     the seeded livelock (stale-retry) is found by random walk
#                and PCT as a livelock naming every thread's position, and
#                its artifact replays to it at the same step
#   budget       a correct schedule that makes progress but runs past its
#                decision budget is cut with a note, not a finding
set -euo pipefail

bin=$1
work=$2
case_name=$3
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fresh_dir "$work"

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
	# A run sees this race within its first few hundred operations or
	# not at all: measured here, 7 of 8 runs of seed 5 got the TSan report
	# after 140-340 operations (0.2-0.4 s); the 8th ran 25,000 operations
	# in 5 s without one (nor a lost update), and 20 s do not change
	# that.  Most likely: the global free count the bug races on is hot while the
	# per-context caches are still empty; later, frees mostly stay in
	# those caches, and every path between two threads' counter updates
	# passes seq_cst atomics and mailbox mutexes that give TSan a
	# happens-before edge, so only two workers running at the same time
	# in the first moments collide - which a loaded machine (threads
	# started one at a time, one core between them) often prevents.  So:
	# both CPUs for this test (PROCESSORS 2 in CMake) and up to four
	# fresh runs of 5 s; four misses in a row fail.
	j=
	for try in 1 2 3 4; do
		rm -rf free
		status=0
		TSAN_OPTIONS=halt_on_error=0:exitcode=66 "$bin" stress \
			--mode free --bug racy-free-count --seconds 5 --first \
			--seed 5 --no-progress --out free >free.log 2>&1 ||
			status=$?
		j=$(grep -l '"kind": "data-race"' free/finding-*.json 2>/dev/null |
			head -n 1) || true
		[ -n "$j" ] && break
		echo "try $try: no data-race finding (exit $status)"
	done
	[ "$status" = 66 ] || [ "$status" = 1 ] ||
		fail "no finding (exit $status)"
	[ -n "$j" ] || fail "the race was not saved as a finding"
	[ "$(jfield $j tool)" = stress-free ] || fail "record tool"
	# the replay command names this binary (no `labyrinth` on PATH here)
	case $(jfield $j reproduce) in
	"TSAN_OPTIONS="*" $bin replay "*" --out "*) ;;
	*) fail "no replay command: $(jfield $j reproduce)" ;;
	esac
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
	# 130: interrupted with nothing found (not a PASS: the run was cut)
	[ "$status" = 130 ] || { cat run.log >&2; fail "exit $status after Ctrl-C"; }
	grep -q "^RESULT: INTERRUPTED$" run.log || fail "no result line"
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
run-dirs)
	# without --out every run gets its own directory, latest links to
	# the newest, and nothing of one run is in the other's
	run 0 a.log stress --mode free --seconds 0.3 --threads 2 --seed 42 \
		--no-progress
	run 0 b.log stress --mode controlled --schedules 3 --seed 42 \
		--no-progress
	da=$(sed -n 's/^out: //p' a.log)
	db=$(sed -n 's/^out: //p' b.log)
	[[ "$da" =~ ^reports/[0-9]{8}T[0-9]{6}Z-stress-free-seed42$ ]] ||
		fail "first run's directory '$da'"
	[[ "$db" =~ ^reports/[0-9]{8}T[0-9]{6}Z-stress-controlled-seed42$ ]] ||
		fail "second run's directory '$db'"
	[ -L reports/latest ] || fail "reports/latest is not a link"
	[ "reports/$(readlink reports/latest)" = "$db" ] ||
		fail "latest -> $(readlink reports/latest), not $db"
	for d in "$da" "$db"; do
		renderings "$d"
		[ "$(ls "$d"/run-*.json | wc -l)" = 1 ] || fail "$d: runs mixed"
	done
	[ "$(jfield "$da"/run-*.json tool)" = stress-free ] || fail "$da tool"
	[ "$(jfield "$db"/run-*.json tool)" = stress-controlled ] ||
		fail "$db tool"
	# the same second, mode and seed: a second directory, not a shared one
	run 0 c.log stress --mode free --seconds 0.1 --threads 2 --seed 7 \
		--no-progress
	run 0 d.log stress --mode free --seconds 0.1 --threads 2 --seed 7 \
		--no-progress
	[ "$(sed -n 's/^out: //p' c.log)" != "$(sed -n 's/^out: //p' d.log)" ] ||
		fail "two runs shared a directory"
	# an explicit --out is used as given and leaves latest alone
	before=$(readlink reports/latest)
	run 0 e.log stress --mode free --seconds 0.1 --threads 2 --seed 1 \
		--no-progress --out mine
	grep -q "^out: mine$" e.log || fail "--out not used as given"
	[ "$(ls mine/run-*.json | wc -l)" = 1 ] || fail "mine: no run record"
	[ "$(readlink reports/latest)" = "$before" ] || fail "latest moved"
	# report without --out merges into reports/merged, not into the
	# newest run's directory that latest links to
	sum=$(md5sum <reports/latest/summary.md)
	run 0 merge.log report "$da"
	[ -s reports/merged/findings.json ] || fail "report: no reports/merged"
	[ "$(md5sum <reports/latest/summary.md)" = "$sum" ] ||
		fail "report without --out rewrote the latest run's renderings"
	;;
zoo-broken)
	# a zoo trial that cannot start measured nothing: an error (exit 2
	# naming the trial), never a "missed" in the table.  The binary is
	# a copy deleted while the first 1 s trial runs.
	cp "$bin" ./lab-copy
	status=0
	./lab-copy zoo bench --bugs claim-race --modes naive --seeds 3 \
		--budget 1 --out zb >zb.log 2>&1 &
	pid=$!
	sleep 0.5
	rm -f ./lab-copy
	wait $pid || status=$?
	[ "$status" = 2 ] || { cat zb.log >&2; fail "zoo bench exited $status"; }
	grep -q "^labyrinth: zoo: the naive trial of claim-race (seed [23]) did not run (exit 127)" \
		zb.log || fail "the trial that did not run is not named"
	! grep -q "missed in 0\.0[0-9] s, 0 steps" zb.log ||
		fail "a trial that did not run counted as missed"
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
livelock)
	for strategy in random pct; do
		find_bug stale-retry "$strategy" --strategy "$strategy" \
			--profile pressure --width 4 --height 8 --max-steps 20000
		art=$strategy/artifact-1.lab
		[ "$(field "$art" finding-kind)" = livelock ] ||
			fail "$strategy: not a livelock: $(field "$art" finding-kind)"
		msg=$(grep '^finding-message ' "$art")
		grep -q "no thread completed an operation in 20000 decisions" \
			<<<"$msg" || fail "$strategy: no progress verdict: $msg"
		for t in 0 1 2; do
			grep -Eq "[ ;]t$t (runnable|blocked|done) op [0-9]+/[0-9]+" \
				<<<"$msg" || fail "$strategy: t$t's position missing"
		done
		grep -q "alloc:wmark-reserve <- alloc:wmark-reserve" <<<"$msg" ||
			fail "$strategy: the stuck retry loop is not shown"
		step=$(field "$art" finding-step)
		run 1 "replay-$strategy.log" replay "$art"
		grep -q "^reproduced: yes - the same finding at the same step" \
			"replay-$strategy.log" || fail "$strategy: no exact replay"
		grep -q "^finding: livelock at .*step $step" \
			"replay-$strategy.log" || fail "$strategy: not at step $step"
	done
	;;
budget)
	# 3 x 200 operations need about 3,500 decisions; the budget is
	# 16 x 200: cut, but every stretch without progress is far below 200
	run 0 budget.log stress --mode controlled --seed 1 --irq-permille 0 \
		--max-steps 200 --ops-per-thread 200 --schedules 3 \
		--no-progress --out out
	grep -q "^note: schedule seed [0-9]* stopped at its budget of 3200 decisions .*not a finding" \
		budget.log || fail "no budget note"
	grep -q ", 0 finding(s)$" budget.log || fail "a finding"
	[ ! -e out/artifact-1.lab ] || fail "an artifact was written"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS: $case_name"

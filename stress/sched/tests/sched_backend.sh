#!/usr/bin/env bash
# sched_backend.sh LABYRINTH WORKDIR CASE - controlled schedules of backend
# table allocators through the `labyrinth` command (LABYRINTH is a build of
# it with stress/sched/tests/sched_hot_backend.c or, for tsan,
# examples/racy_backend.c).  Each CASE is one ctest test (label sched):
#   clean     the correct mutex buddy: controlled (PCT, random) and
#             campaign with --backend stay clean
#   found     sched-hot-slot's check-then-act race is found by the
#             controlled mode (two owners of a block: a stamp mismatch, or
#             under TSan their data race on the block); the artifact names the backend and the
#             build id of its code; replay is exact and says so; shrink
#             keeps the finding; an artifact of another build of the code
#             or of a backend this build lacks is a one-line error, exit 2
#   tsan      (TSan builds) example-racy-count's unlocked counter is a data
#             race TSan reports inside a controlled schedule, saved as a
#             data-race finding whose artifact replays to it
set -euo pipefail

bin=$1
work=$2
case_name=$3
. "$(dirname "$0")/../../tests/lib.sh"
fresh_dir "$work"

case "$case_name" in
clean)
	run 0 pct.log stress --mode controlled --backend mutex-buddy \
		--schedules 80 --seed 1 --no-progress --out pct
	run 0 random.log stress --mode controlled --backend mutex-buddy \
		--strategy random --logical 4 --schedules 80 --seed 2 --no-isolate \
		--no-progress --out random
	grep -q "controlled: backend mutex-buddy" pct.log ||
		fail "the run does not say which backend it schedules"
	run 0 campaign.log stress --mode campaign --backend mutex-buddy \
		--seconds 2 --seed 3 --no-progress --out campaign
	grep -q "controlled: backend mutex-buddy" campaign.log ||
		fail "the campaign's controlled part did not run the backend"
	;;
found)
	run 1 found.log stress --mode controlled --backend sched-hot-slot \
		--seconds 10 --seed 1 --no-progress --out found
	a=found/artifact-1.lab
	[ -f $a ] || fail "no artifact"
	[ "$(field $a backend)" = sched-hot-slot ] || fail "backend not recorded"
	id=$(field $a user-build)
	[ -n "$id" ] && [ "$id" != none ] && [ "$id" != unknown ] ||
		fail "no build id of the backend's code: '$id'"
	# two owners of one block: their stamps collide, or (TSan) they race
	case "$(field $a finding-kind)" in
	stamp-mismatch | data-race) ;;
	*) fail "not a stamp-mismatch: $(field $a finding-kind)" ;;
	esac
	for i in 1 2; do
		run 1 replay$i.log replay $a
		grep -q "^followed: every recorded decision fitted (backend sched-hot-slot, build id $id: the same code, an exact replay)" replay$i.log ||
			fail "replay $i does not say it is exact"
		grep -q "^reproduced: yes - the same finding at the same step" replay$i.log ||
			fail "replay $i did not reproduce"
	done
	run 1 shrink.log shrink $a -o min.lab --quiet
	run 1 replay-min.log replay min.lab
	grep -q "^reproduced: yes - the same finding at the same step" replay-min.log ||
		fail "the shrunk artifact does not reproduce"
	sed 's/^user-build .*/user-build 0123abcd/' $a >other-build.lab
	run 2 other-build.log replay other-build.lab
	[ "$(wc -l <other-build.log)" = 1 ] || fail "more than one line"
	grep -q "^labyrinth: other-build.lab: recorded with another build of backend 'sched-hot-slot' (build id 0123abcd, this one $id)" other-build.log ||
		fail "another build is not named: $(cat other-build.log)"
	run 2 other-build-shrink.log shrink other-build.lab
	sed 's/^backend .*/backend no-such-backend/' $a >no-backend.lab
	run 2 no-backend.log replay no-backend.lab
	grep -q "^labyrinth: no-backend.lab: recorded with backend 'no-such-backend', which this build does not have (registered: labyrinth, mutex-buddy, sched-hot-slot)$" no-backend.log ||
		fail "a missing backend is not named: $(cat no-backend.log)"
	;;
tsan)
	export TSAN_OPTIONS=halt_on_error=1:exitcode=66
	run 1 race.log stress --mode controlled --backend example-racy-count \
		--seconds 10 --seed 1 --no-progress --out race
	grep -q "ThreadSanitizer: data race" race.log ||
		fail "TSan did not report the race"
	a=race/artifact-1.lab
	[ "$(field $a finding-kind)" = data-race ] ||
		fail "finding is not a data-race: $(field $a finding-kind)"
	[ "$(field $a backend)" = example-racy-count ] ||
		fail "backend not recorded"
	run 1 replay.log replay $a
	grep -q "^reproduced: yes - the same finding at the same step" replay.log ||
		fail "the race does not replay"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS: $case_name"

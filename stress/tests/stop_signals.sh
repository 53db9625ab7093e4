#!/usr/bin/env bash
# stop_signals.sh LABYRINTH TGKILL WORKDIR CASE [TRIALS] - stop signals
# (Ctrl-C, SIGTERM) end a run cleanly whatever thread they land on.  Each
# CASE is one ctest test:
#   workers     TRIALS (default 20) free-running runs of the correct
#               allocator (the TSan variant: 20), each sent
#               one SIGINT or SIGTERM aimed at one worker thread (by tid,
#               with tgkill: the helper TGKILL) at a random moment: no
#               finding (no TSan report under TSan), exit 130,
#               RESULT: INTERRUPTED, run record "interrupted", renderings
#   twice       a second signal kills at once (the first one stops)
#   controlled  Ctrl-C to the process group of a controlled run (parent
#               and the child running a schedule): one stop, exit 130,
#               no crash finding from the child
# The moments are drawn from a seed (LAB_STOP_SEED, default the time),
# printed first, so a failure reruns with the same moments.
set -euo pipefail

bin=$1
tgkill=$2
work=$3
case_name=$4
trials=${5:-20}
rm -rf "$work"
mkdir -p "$work"
cd "$work"
seed=${LAB_STOP_SEED:-$(date +%s)}
echo "seed $seed (rerun: LAB_STOP_SEED=$seed)"
RANDOM=$seed
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:exitcode=66}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

jfield() { # jfield FILE KEY: a top-level field of a JSON record
	python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# started LOG PID: waits until the run printed LINE-PREFIX $3 (10 s at most)
started() {
	local _
	for _ in $(seq 500); do
		grep -q "$3" "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# workers PID N: the tids of the run's N worker threads (named
# lab-worker), once they all run (10 s at most)
workers() {
	local t _ found
	for _ in $(seq 500); do
		found=()
		for t in /proc/"$1"/task/*; do
			[ "$(cat "$t/comm" 2>/dev/null)" = lab-worker ] &&
				found+=("${t##*/}")
		done
		[ "${#found[@]}" -ge "$2" ] && break
		sleep 0.02
	done
	printf '%s\n' "${found[@]}"
}

# interrupted DIR LOG STATUS: what an interrupted clean run leaves
interrupted() {
	local dir=$1 log=$2 status=$3 f
	[ "$status" = 130 ] || { cat "$log" >&2; fail "$dir: exit $status, expected 130"; }
	grep -q "^RESULT: INTERRUPTED$" "$log" || fail "$dir: no RESULT: INTERRUPTED"
	! grep -q "ThreadSanitizer\|^finding:" "$log" ||
		{ cat "$log" >&2; fail "$dir: a finding on the correct allocator"; }
	! ls "$dir"/finding-*.json >/dev/null 2>&1 || fail "$dir: a finding record"
	[ "$(jfield "$dir"/run-*.json result)" = interrupted ] ||
		fail "$dir: the run record does not say interrupted"
	for f in summary.md findings.json report.sarif junit.xml report.html; do
		[ -s "$dir/$f" ] || fail "$dir/$f missing or empty"
	done
}

case "$case_name" in
workers)
	for trial in $(seq "$trials"); do
		sig=INT
		[ $((trial % 2)) = 0 ] && sig=TERM
		"$bin" stress --mode free --threads 3 --seconds 30 --width 16 \
			--height 16 --seed "$trial" --no-progress \
			--out "t$trial" >"t$trial.log" 2>&1 &
		pid=$!
		started "t$trial.log" $pid "^free: profile" ||
			{ cat "t$trial.log" >&2; fail "trial $trial did not start"; }
		mapfile -t tids < <(workers $pid 3)
		[ "${#tids[@]}" = 3 ] || fail "trial $trial: ${#tids[@]} workers named"
		w=$((trial % 3))
		delay=$(printf '0.%03d' $((RANDOM % 250)))
		sleep "$delay"
		echo "trial $trial: SIG$sig to worker $w (tid ${tids[$w]}) after ${delay} s"
		"$tgkill" $pid "${tids[$w]}" $sig || fail "tgkill"
		status=0
		wait $pid || status=$?
		interrupted "t$trial" "t$trial.log" $status
	done
	;;
twice)
	"$bin" stress --mode free --threads 2 --seconds 30 --seed 1 \
		--no-progress --out out >run.log 2>&1 &
	pid=$!
	started run.log $pid "^free: profile" || fail "did not start"
	mapfile -t tids < <(workers $pid 2)
	[ "${#tids[@]}" = 2 ] || fail "${#tids[@]} workers named"
	# back to back on one worker: the first handler puts the default
	# action back, so the second (blocked while the first runs) kills
	"$tgkill" $pid "${tids[1]}" INT TERM
	status=0
	wait $pid || status=$?
	# killed by SIGTERM (the shell says 128 + 15), before any summary
	[ "$status" = 143 ] || { cat run.log >&2; fail "exit $status"; }
	! grep -q "^RESULT:" run.log || fail "the second signal did not kill"
	grep -q "stopping (again to kill)" run.log || fail "the first did not stop"
	;;
controlled)
	# its own process group, as a shell job: kill -INT -PGID is Ctrl-C
	set -m
	"$bin" stress --mode controlled --seconds 30 --seed 4 --no-progress \
		--out out >run.log 2>&1 &
	pid=$!
	set +m
	started run.log $pid "^controlled: seed" || fail "did not start"
	sleep "0.$((RANDOM % 5 + 2))"
	kill -INT -- -$pid
	status=0
	wait $pid || status=$?
	interrupted out run.log $status
	[ "$(grep -c "stopping (again to kill)" run.log)" = 1 ] ||
		fail "the schedule's child took the signal too"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS: $case_name"

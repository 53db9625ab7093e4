#!/usr/bin/env bash
# zoo_shrink.sh LABYRINTH WORKDIR - every seeded bug this build lists
# (`labyrinth bugs`, so a bug added later is covered too) is found by a
# quick controlled mode, its artifact is shrunk, and the shrunk artifact
# replays exactly: the command shrink printed, run as printed from another
# directory, gives the same finding (kind and site) at the same step.
#
# Finding a bug: the zoo's workload (a small maze near its watermarks, as
# `labyrinth zoo run` uses) with random walk, then PCT depth 1, 2 and
# 3, each up to 20000 schedules or 5 s (the canary finds every bug in well
# under a second with one of them).
set -euo pipefail

bin=$1
work=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fresh_dir "$work"
mkdir elsewhere

# The bug names: `labyrinth bugs` lists each as "  NAME" (two blanks, one
# word), its description indented further.  handoff-relaxed is a missing
# release that only TSan sees, with real threads (docs/bug-zoo.md): no
# SC controlled mode finds it; under --memory c11 with the controlled
# relaxed profile it is found like the memory-order bugs.  Those are found
# with --memory c11, shrunk and replayed like the rest, but for
# desc-publish-relaxed, which no workload of the stress program reaches
# (docs/bug-zoo.md; its test is alloc_c11_hand).
mapfile -t bugs < <("$bin" bugs | sed -n 's/^  \([a-z0-9-][a-z0-9-]*\)$/\1/p' |
	grep -vx -e none -e desc-publish-relaxed)
[ "${#bugs[@]}" -ge 10 ] || fail "only ${#bugs[@]} bugs listed: ${bugs[*]}"

modes=("random 1" "pct 1" "pct 2" "pct 3")

# The zoo's workload for BUG (zoo.c's, for its c11 modes where the bug
# needs the memory model): racy-task-id needs contexts set up inside the
# schedule, which the late-start profile's threads do; the ownership bugs
# a handover that orders nothing (the relaxed profile); relaxed-free-count
# every load with a choice reading an older store.
workload_for() {
	case $1 in
	racy-task-id) echo --profile late-start --width 4 --height 8 ;;
	owner-no-acquire | handoff-relaxed)
		echo --memory c11 --profile relaxed ;;
	relaxed-free-count)
		echo --memory c11 --stale-permille 1000 --profile pressure \
			--width 4 --height 8 ;;
	claim-no-acquire | store-breaks-release-seq)
		echo --memory c11 --profile pressure --width 4 --height 8 ;;
	*) echo --profile pressure --width 4 --height 8 ;;
	esac
}

# find BUG: a controlled run of some mode finds it; the artifact's path.
find_bug() {
	local bug=$1 m strategy depth status
	for m in "${modes[@]}"; do
		read -r strategy depth <<<"$m"
		status=0
		# shellcheck disable=SC2046 # the workload is words
		"$bin" stress --mode controlled --strategy "$strategy" \
			--depth "$depth" $(workload_for "$bug") \
			--bug "$bug" --seed 1 --schedules 20000 --seconds 5 \
			--no-progress --out "$bug-$strategy$depth" \
			>"$bug-$strategy$depth.log" 2>&1 || status=$?
		if [ "$status" = 1 ] && [ -f "$bug-$strategy$depth/artifact-1.lab" ]; then
			echo "$bug-$strategy$depth/artifact-1.lab"
			return 0
		fi
		[ "$status" = 0 ] || fail "$bug, $m: exit $status"
	done
	return 1
}

for bug in "${bugs[@]}"; do
	art=$(find_bug "$bug") || fail "$bug: no quick controlled mode found it"
	status=0
	"$bin" shrink "$art" -o "$bug.min.lab" --budget 100 --quiet \
		>"$bug.shrink.log" 2>&1 || status=$?
	[ "$status" = 1 ] || { cat "$bug.shrink.log" >&2; fail "$bug: shrink exited $status"; }
	grep -q "^verified: " "$bug.shrink.log" || fail "$bug: shrink did not verify"
	for k in finding-kind finding-where; do
		[ "$(field "$bug.min.lab" $k)" = "$(field "$art" $k)" ] ||
			fail "$bug: shrink changed $k"
	done
	cmd=$(sed -n 's/^reproduce: //p' "$bug.shrink.log")
	[ -n "$cmd" ] || fail "$bug: shrink printed no command"
	status=0
	(cd elsewhere && bash -c "$cmd") >"$bug.replay.log" 2>&1 || status=$?
	[ "$status" = 1 ] || { cat "$bug.replay.log" >&2; fail "$bug: '$cmd' exited $status"; }
	grep -q "^followed: every recorded decision fitted" "$bug.replay.log" ||
		fail "$bug: the shrunk schedule diverged on replay"
	grep -q "^reproduced: yes - the same finding at the same step" \
		"$bug.replay.log" || fail "$bug: the shrunk artifact does not replay exactly"
	grep -q "^finding: $(field "$art" finding-kind) at $(field "$art" finding-where): " \
		"$bug.replay.log" || fail "$bug: another finding on replay"
	echo "$bug: $(field "$art" decisions) -> $(field "$bug.min.lab" decisions) decisions," \
		"$(field "$art" logical) -> $(field "$bug.min.lab" logical) threads, replays exactly"
done
echo "PASS: ${#bugs[@]} bugs"

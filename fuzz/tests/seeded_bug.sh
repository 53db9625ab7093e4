#!/usr/bin/env bash
# seeded_bug.sh FUZZ_BINARY STANDALONE_BINARY WORKDIR [SEED_DIR] - proves
# that fuzz_sched finds a seeded allocator bug and that its crash file is a
# reproducer.
#
#   FUZZ_BINARY        fuzz_sched linked with libFuzzer (fuzz build)
#   STANDALONE_BINARY  fuzz_sched linked with the standalone replay driver
#   WORKDIR            scratch directory (emptied first)
#   SEED_DIR           seed corpus, default corpus/fuzz_sched of this tree
#
# Steps: libFuzzer runs on a copy of the seed corpus with LAB_BUG=claim-race,
# bounded by time and runs, and must write a crash file; the standalone
# driver replays it under the same LAB_BUG and must crash with the same
# finding (kind, site, decision index, thread); without LAB_BUG it must run
# clean, as regression corpora are replayed on the correct allocator.
#
# ctest (fuzz/CMakeLists.txt) registers it as:
#   add_test(NAME fuzz_sched_seeded_bug
#            COMMAND bash fuzz/tests/seeded_bug.sh
#                    $<TARGET_FILE:fuzz_sched> $<TARGET_FILE:fuzz_sched-standalone>
#                    ${CMAKE_CURRENT_BINARY_DIR}/seeded-bug)
# in a build where seeded bugs exist (not Release), label `fuzz`.
set -euo pipefail

fuzz=$1
standalone=$2
work=$3
seeds=${4:-$(cd "$(dirname "$0")/../../corpus/fuzz_sched" && pwd)}
bug=claim-race

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# The finding a run printed: "finding KIND at SITE (step N, thread T)".
# The message after it may hold addresses, which differ between processes.
finding() {
	grep -a -o 'finding [^ ]* at [^ ]* (step [0-9]*, thread -\?[0-9]*)' "$1" |
		head -n 1
}

rm -rf "$work"
mkdir -p "$work/corpus"
cp "$seeds"/* "$work/corpus/"

status=0
LAB_BUG=$bug "$fuzz" -max_total_time=60 -runs=2000000 \
	-print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" \
	>"$work/fuzz.log" 2>&1 || status=$?
crash=$(find "$work" -maxdepth 1 -name 'crash-*' | head -n 1)
if [ "$status" = 0 ] || [ -z "$crash" ]; then
	tail -n 20 "$work/fuzz.log" >&2
	fail "libFuzzer (exit $status) wrote no crash file for LAB_BUG=$bug"
fi
want=$(finding "$work/fuzz.log")
[ -n "$want" ] || fail "the crash in $work/fuzz.log is not a finding"
grep -a 'stat::number_of_executed_units' "$work/fuzz.log" || true
echo "found: $want"

status=0
# In a subshell that waits for it, so bash's "Aborted" line lands in the
# log, not on the test's output.
(
	LAB_BUG=$bug "$standalone" "$crash"
	exit $?
) >"$work/replay-bug.log" 2>&1 || status=$?
got=$(finding "$work/replay-bug.log")
if [ "$status" = 0 ] || [ "$got" != "$want" ]; then
	cat "$work/replay-bug.log" >&2
	fail "replay under LAB_BUG=$bug (exit $status): '$got', expected '$want'"
fi

status=0
env -u LAB_BUG "$standalone" "$crash" >"$work/replay-clean.log" 2>&1 ||
	status=$?
if [ "$status" != 0 ]; then
	cat "$work/replay-clean.log" >&2
	fail "replay without LAB_BUG exited $status"
fi
echo "PASS: $bug found, replayed to '$got', clean without the bug"

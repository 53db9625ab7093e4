#!/usr/bin/env bash
# controlled.sh LABYRINTH_EXAMPLE_C11 WORKDIR CASE - end-to-end tests of
# the controlled scheduler on the example allocator (backend c11-pages,
# built through labyrinth_instrument), for the scheduler library to
# register once `--mode controlled --backend NAME` exists:
#   clean      the correct allocator: PCT and random-walk schedules, no
#              finding (exit 0)
#   finds      backend c11-pages-split-claim is found by PCT (exit 1, an
#              artifact), while free-running stress of the same binary for
#              the same time is expected to miss it (reported, not failed:
#              free-running is not deterministic)
#   replay     the artifact of `finds` replays exactly (3 times), and the
#              printed reproduce command, run as printed from another
#              directory with a clean environment, reproduces it
#   shrink     shrinking keeps the finding and makes nothing longer
#   bad-bug    C11_PAGES_BUG set for the backend (which takes its bug from
#              its name, so artifacts record it) is one `labyrinth:` line,
#              exit 2
# Flags follow stress/tests/controlled.sh; adjust them here if the
# backend mode names them differently.
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

run() { # run EXPECTED-EXIT OUTFILE ARGS...
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

controlled() { # controlled EXIT OUT BACKEND STRATEGY-ARGS...
	local want=$1 out=$2 backend=$3
	shift 3
	run "$want" "$out.log" stress --mode controlled --backend "$backend" \
		--seed 1 --seconds 10 --first --no-progress --out "$out" "$@"
}

find_split_claim() {
	controlled 1 found c11-pages-split-claim --strategy pct --depth 2
	[ -f found/artifact-1.lab ] || fail "no artifact"
}

case "$case_name" in
clean)
	controlled 0 pct c11-pages --strategy pct --depth 3
	controlled 0 random c11-pages --strategy random
	;;
finds)
	find_split_claim
	grep -m1 '^finding:' found.log
	status=0
	"$bin" stress --mode free --backend c11-pages-split-claim \
		--seed 1 --seconds 10 --first --no-progress --out free \
		>free.log 2>&1 || status=$?
	echo "free-running, same 10 s: exit $status ($(grep -c '^finding:' free.log || true) findings)"
	;;
replay)
	find_split_claim
	art=found/artifact-1.lab
	for i in 1 2 3; do
		run 1 "replay$i.log" replay "$art"
		grep -q "^reproduced: yes" "replay$i.log" ||
			fail "replay $i did not reproduce"
	done
	# the command as printed, from elsewhere, nothing in the environment
	cmd=$(sed -n 's/^reproduce: //p' found.log | head -n 1)
	[ -n "$cmd" ] || fail "no reproduce: line"
	status=0
	(cd / && env -i PATH=/usr/bin:/bin bash -c "$cmd") >printed.log 2>&1 ||
		status=$?
	[ "$status" = 1 ] && grep -q "^reproduced: yes" printed.log || {
		cat printed.log >&2
		fail "the printed command '$cmd' did not reproduce (exit $status)"
	}
	;;
shrink)
	find_split_claim
	art=found/artifact-1.lab
	run 1 shrink.log shrink "$art" -o small.lab \
		--budget 300
	[ "$(field small.lab finding-kind)" = "$(field "$art" finding-kind)" ] ||
		fail "shrink changed the finding"
	[ "$(field small.lab decisions)" -le "$(field "$art" decisions)" ] ||
		fail "more decisions after shrink"
	run 1 replay-small.log replay small.lab
	grep -q "^reproduced: yes" replay-small.log ||
		fail "the shrunk artifact does not reproduce"
	;;
bad-bug)
	C11_PAGES_BUG=split-claim run 2 bad.log stress --mode free \
		--backend c11-pages --seconds 1 --no-progress --out bad
	grep -q "^labyrinth: C11_PAGES_BUG='split-claim': the backend takes its seeded bug from its name" bad.log ||
		fail "no one-line error naming the variable"
	;;
*)
	fail "unknown case '$case_name'"
	;;
esac
echo "ok: $case_name"

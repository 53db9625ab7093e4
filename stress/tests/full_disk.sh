#!/usr/bin/env bash
# full_disk.sh LABYRINTH WORKDIR CASE - runs on a really full filesystem:
# a tiny tmpfs mounted in a user+mount namespace (unshare -rm) and filled
# up, so every write fails with ENOSPC while creating names still works.
#   finding  a run that finds a seeded bug cannot save its finding, run
#            record or renderings: exit 2, NOT SAVED naming each file
#            with the real cause (no "Input/output error")
#   clean    a clean run whose records cannot be written: exit 2, not 0
#   report   `labyrinth report --out FULL` of a real finding exits 2 with
#            the real cause for each rendering
# Exit 77 (ctest SKIP_RETURN_CODE) when the namespace or the mount is not
# possible here, with the reason.
set -euo pipefail

bin=$1
work=$2
case_name=$3

if [ -z "${LAB_FULL_DISK_NS:-}" ]; then
	rm -rf "$work"
	mkdir -p "$work"
	if ! command -v unshare >/dev/null; then
		echo "SKIP: no unshare(1) (util-linux) to mount a tiny tmpfs"
		exit 77
	fi
	if ! why=$(unshare -rm sh -c "mount -t tmpfs -o size=16k tmpfs '$work'" 2>&1); then
		echo "SKIP: cannot mount a tmpfs in a user+mount namespace: $why"
		exit 77
	fi
	LAB_FULL_DISK_NS=1 exec unshare -rm "$BASH" "$0" "$@"
fi

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

cd "$work"
mkdir -p full
mount -t tmpfs -o size=16k tmpfs full
dd if=/dev/zero of=full/filler bs=4k 2>/dev/null || true
df -k full | tail -n 1
! echo x >>full/filler 2>/dev/null || fail "the tmpfs is not full"

# run WANT LOG ARGS...: the command's status must be WANT
run() {
	local want=$1 log=$2 status=0
	shift 2
	"$bin" "$@" >"$log" 2>&1 || status=$?
	[ "$status" = "$want" ] ||
		{ cat "$log" >&2; fail "'$*' exited $status, expected $want"; }
}

# lost LOG FILE...: each FILE is named as not saved, for lack of space
lost() {
	local log=$1 f
	shift
	grep -q "^labyrinth: NOT SAVED: " "$log" || fail "no NOT SAVED line"
	for f in "$@"; do
		grep -q "^labyrinth:   .*$f.*(No space left on device)" "$log" ||
			{ cat "$log" >&2; fail "$f not named as lost (ENOSPC)"; }
	done
	! grep -q "Input/output error" "$log" ||
		{ cat "$log" >&2; fail "the real cause was lost (EIO)"; }
}

case "$case_name" in
finding)
	run 2 run.log stress --mode controlled --bug claim-race --seed 1 \
		--schedules 400 --no-progress --out full/out
	grep -q "^finding: \|^schedule .*claim\|claim-race" run.log ||
		fail "the bug was not found"
	lost run.log "finding .* its record and artifact" "run-stress-controlled" \
		summary.md findings.json report.sarif junit.xml report.html
	;;
clean)
	run 2 run.log stress --mode free --seconds 0.5 --threads 2 \
		--no-progress --out full/out
	grep -q "^RESULT: PASS" run.log || fail "not a clean run"
	lost run.log "run-stress-free" report.html
	;;
report)
	# records of a real finding (on the real disk): report.html is then
	# larger than a stdio buffer, so its write fails inside the renderer,
	# which only sees ferror() (this said "Input/output error")
	run 1 find.log stress --mode controlled --bug claim-race --seed 1 \
		--schedules 400 --no-progress --out in
	run 2 report.log report --out full/merged in
	grep -q "report.html: cannot write: No space left on device" report.log ||
		{ cat report.log >&2; fail "report.html: not the real cause"; }
	! grep -q "Input/output error" report.log || fail "EIO in the report"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS: $case_name"

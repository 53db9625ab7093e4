#!/usr/bin/env bash
# latency.sh LABYRINTH WORKDIR - the latency of a free-running run, end to
# end: the summary prints one row per class and context with count, mean,
# p50, p90, p99, p99.9 and max; the run record carries the same rows
# ("latency", reports/README.md); `labyrinth report` reads them back into
# findings.json and renders them in summary.md and report.html; a run
# record with a malformed "latency" is named and skipped (exit 2).
set -euo pipefail

bin=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

"$bin" stress --mode free --seconds 2 --seed 7 --no-progress --out run \
	>out.txt 2>&1 || {
	cat out.txt >&2
	fail "stress exited $?"
}

# The summary: a header and eight rows (3 classes + the interrupts' ATOMIC,
# on the wall and on the CPU clock), each with a non-zero count.
grep -q '^latency (us): ' out.txt || fail "no latency section in the summary"
grep -Eq '^  class +context +count +mean +p50 +p90 +p99 +p99\.9 +max$' out.txt ||
	fail "no percentile header in the summary"
for row in "KERNEL task " "NOWAIT task " "ATOMIC task " "ATOMIC irq " \
	"KERNEL task-cpu" "NOWAIT task-cpu" "ATOMIC task-cpu" "ATOMIC irq-cpu"; do
	cls=${row%% *}
	ctx=${row#* }
	ctx=${ctx% }
	grep -Eq "^  $cls +$ctx +[1-9][0-9]* +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$" out.txt ||
		fail "no summary row for $cls $ctx"
done

# The run record: the same eight rows, percentiles ordered, with the note.
rec=$(ls run/run-*.json)
python3 - "$rec" <<'EOF' || fail "run record latency"
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency"]
assert "interrupts" in lat["note"] and "CPU time" in lat["note"], lat["note"]
assert lat["note"].split("; ")[-1].startswith("watcher's longest stall "), lat["note"]
rows = {(c["class"], c["context"]): c for c in lat["classes"]}
want = [(k, c) for c in ("task", "task-cpu") for k in ("KERNEL", "NOWAIT", "ATOMIC")]
want += [("ATOMIC", "irq"), ("ATOMIC", "irq-cpu")]
assert sorted(rows) == sorted(want), sorted(rows)
for key, c in rows.items():
    assert c["count"] > 0, key
    assert c["p50_ns"] <= c["p90_ns"] <= c["p99_ns"] <= c["p999_ns"] <= c["max_ns"], (key, c)
    assert c["mean_ns"] <= c["max_ns"], (key, c)
EOF

# Read back and rendered by `labyrinth report`.
"$bin" report --out rendered run >report.txt 2>&1 || {
	cat report.txt >&2
	fail "report exited $?"
}
python3 - "$rec" rendered/findings.json <<'EOF' || fail "latency lost in findings.json"
import json, sys
a = json.load(open(sys.argv[1]))["latency"]
b = json.load(open(sys.argv[2]))["runs"][0]["latency"]
assert a == b, (a, b)
EOF
grep -q '^## Allocation latency' rendered/summary.md || fail "no latency in summary.md"
grep -Eq '^\| ` stress-free-[^|]* ` \| ATOMIC \| irq \| [1-9]' rendered/summary.md ||
	fail "no ATOMIC irq row in summary.md"
grep -q 'id="latency"' rendered/report.html || fail "no latency in report.html"
grep -q '<td>irq-cpu</td>' rendered/report.html || fail "no irq-cpu row in report.html"

# A malformed "latency" is named and the file skipped.
mkdir bad
python3 - "$rec" bad/run-bad.json <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
del r["latency"]["classes"][0]["p99_ns"]
json.dump(r, open(sys.argv[2], "w"))
EOF
status=0
"$bin" report --out bad-out bad >bad.txt 2>&1 || status=$?
[ "$status" = 2 ] || fail "report of a bad latency exited $status, expected 2"
grep -q 'run-bad.json: field "p99_ns": missing' bad.txt ||
	fail "the bad latency field is not named: $(cat bad.txt)"
echo "ok latency"

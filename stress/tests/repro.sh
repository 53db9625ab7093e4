#!/usr/bin/env bash
# repro.sh LABYRINTH WORKDIR CASE - the way from a finding to its
# reproduction: printed commands run as printed, artifacts hold every
# option of the run, shrink keeps only what replays, messages say what is
# true.  Each CASE is one ctest test:
#   controlled-cmd  a controlled finding's `reproduce:` line and the
#                   record's reproduce field, run exactly as printed from
#                   another directory: the same finding at the same step;
#                   the `rerun:` line runs the same schedules again
#   free-cmd        a free-running --first finding: the printed command,
#                   run from another directory, stops at its first finding
#                   as the hunt did, writes where it says (not into the
#                   current directory) and finds the same kind and site
#   fields          every option is an artifact field or does not change
#                   the run: --first, --no-delays, --out recorded;
#                   --no-isolate gives the same trace; an artifact without
#                   the newer fields still replays; a bad value is one
#                   error line
#   one-thread      a finding that needs only one logical thread (and an
#                   interrupt) shrinks to 1 thread, and that artifact
#                   replays; --logical 1 runs; shrink says it verified
#   messages        "1 thread" (not "1 threads"); --first says how many
#                   findings were saved and how many detected
#   campaign-report fuzz/campaign.sh's finding report of a crash log: an
#                   address shows as masked on purpose ("0x<addr>", not
#                   "0x?", which reads as a formatting failure), and its
#                   reproduce command is absolute (this needs no fuzz build:
#                   the script's functions run on a made-up log)
set -euo pipefail

bin=$1
work=$2
case_name=$3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/stress/tests/lib.sh"
fresh_dir "$work"

printed() { # printed LOG PREFIX: the rest of the first line starting PREFIX
	sed -n "s/^$2//p" "$1" | head -n 1
}

# How the commands must name this binary: `labyrinth` only when that is
# what PATH finds, else its absolute path.
self=$bin
if [ "$(readlink -f "$(command -v labyrinth 2>/dev/null || echo /nonexistent)")" = \
	"$(readlink -f "$bin")" ]; then
	self=labyrinth
fi

# elsewhere OUTFILE COMMAND: runs a printed command exactly as printed
# (through the shell, as a user pastes it) from a fresh directory that
# is not the work directory; its exit status goes to $status.
elsewhere() {
	local out=$1 cmd=$2
	mkdir -p "$work/elsewhere"
	status=0
	(cd "$work/elsewhere" && bash -c "$cmd") >"$out" 2>&1 || status=$?
}

names_binary() { # names_binary COMMAND: it starts with this binary
	# (TSan builds put the run's TSAN_OPTIONS first: they decide where
	# TSan stops a schedule)
	case $1 in
	"$self "* | "TSAN_OPTIONS="*" $self "*) ;;
	*) fail "'$1' does not start with '$self'" ;;
	esac
}

case "$case_name" in
controlled-cmd)
	run 1 found.log stress --mode controlled --bug claim-race --seed 1 \
		--schedules 400 --no-progress --out found
	art=found/artifact-1.lab
	kind=$(field $art finding-kind) where=$(field $art finding-where)
	step=$(field $art finding-step)
	cmd=$(printed found.log 'reproduce: ')
	[ "$cmd" = "$(jfield found/finding-1.json reproduce)" ] ||
		fail "printed and recorded commands differ"
	names_binary "$cmd"
	names_binary "$(jfield found/run-*.json command)" # the run record's
	elsewhere replay.log "$cmd"
	[ "$status" = 1 ] || { cat replay.log >&2; fail "'$cmd' exited $status"; }
	grep -q "^reproduced: yes - the same finding at the same step" \
		replay.log || fail "'$cmd' did not reproduce"
	grep -q "^finding: $kind at $where: .*(step $step," replay.log ||
		fail "'$cmd': not $kind at $where, step $step"
	# the rerun line: the same schedules, into the directory it names
	rerun=$(printed found.log 'rerun: ')
	names_binary "$rerun"
	rm -rf found
	elsewhere rerun.log "$rerun"
	[ "$status" = 1 ] || fail "'$rerun' exited $status"
	cmp -s <(grep '^trace digest' found.log) <(grep '^trace digest' rerun.log) ||
		fail "the rerun took other schedules"
	[ -f found/artifact-1.lab ] || fail "the rerun did not write into found/"
	[ ! -e elsewhere/reports ] || fail "a command wrote into its cwd"
	;;
free-cmd)
	# free-keeps-owner is found within a few hundred operations; 30 s
	# is what a replay that ignored --first would take
	run 1 hunt.log stress --mode free --bug free-keeps-owner --first \
		--seconds 30 --threads 2 --seed 3 --no-progress --out hunt
	art=hunt/artifact-1.lab
	[ "$(field $art first)" = on ] || fail "--first not recorded"
	[ "$(field $art out)" = "$work/hunt" ] || fail "--out not recorded"
	cmd=$(printed hunt.log 'reproduce: ')
	[ "$cmd" = "$(jfield hunt/finding-1.json reproduce)" ] ||
		fail "printed and recorded commands differ"
	names_binary "$cmd"
	case $cmd in
	*" --out $work/hunt/replay") ;;
	*) fail "'$cmd' does not name its output directory" ;;
	esac
	# a free-running replay is a re-run: up to three tries
	for try in 1 2 3; do
		start=$(date +%s)
		elsewhere "replay$try.log" "$cmd"
		took=$(($(date +%s) - start))
		[ "$status" = 1 ] && break
		[ "$status" = 0 ] || fail "'$cmd' exited $status"
	done
	[ "$status" = 1 ] || fail "'$cmd' found nothing in three runs"
	grep -q "^reproduced: yes - the same finding (kind and site)" \
		"replay$try.log" || fail "'$cmd': another finding"
	[ "$took" -lt 15 ] || fail "the replay ran ${took} s: --first not honoured"
	grep -q "^findings: 1\( \|$\)" "replay$try.log" || fail "findings line"
	ls hunt/replay/finding-*.json >/dev/null 2>&1 ||
		fail "the replay did not write into hunt/replay"
	[ ! -e elsewhere/reports ] || fail "the replay wrote into its cwd"
	;;
fields)
	run 1 free.log stress --mode free --bug free-keeps-owner --first \
		--no-delays --seconds 30 --threads 2 --seed 3 --no-progress \
		--out free
	art=free/artifact-1.lab
	[ "$(field $art no-delays)" = on ] || fail "--no-delays not recorded"
	[ "$(field $art first)" = on ] || fail "--first not recorded"
	[ "$(field $art out)" = "$work/free" ] || fail "--out not recorded"
	# every flag `stress --help` lists is a field, or one of those known
	# not to change the run: --width/--height are the field maze,
	# --no-progress draws a line, --no-isolate is tested below
	fields=" $(sed -n '/^build /,/^finding-kind /p' $art | awk '{print $1}' | tr '\n' ' ')"
	for flag in $("$bin" help stress | sed -n 's/^  --\([a-z-]*\).*/\1/p'); do
		case "$fields width height no-progress no-isolate " in
		*" $flag "*) ;;
		*) fail "--$flag is neither an artifact field nor known not to change the run" ;;
		esac
	done
	# --no-isolate is not recorded: it does not change the schedules
	run 0 iso.log stress --mode controlled --seed 4 --schedules 30 \
		--no-progress --out iso
	run 0 noiso.log stress --mode controlled --seed 4 --schedules 30 \
		--no-progress --no-isolate --out noiso
	[ "$(grep '^trace digest' iso.log)" = "$(grep '^trace digest' noiso.log)" ] ||
		fail "--no-isolate changed the schedules"
	# an artifact of an older build (no no-delays, first, out, memory,
	# history, stale-permille) replays
	run 1 ctl.log stress --mode controlled --bug claim-race --seed 1 \
		--schedules 400 --no-progress --out ctl
	[ "$(field ctl/artifact-1.lab memory)" = sc ] || fail "memory not sc"
	grep -v '^\(no-delays\|first\|out\|memory\|history\|stale-permille\) ' \
		ctl/artifact-1.lab >old.lab
	run 1 old.log replay old.lab
	grep -q "^reproduced: yes - the same finding at the same step" old.log ||
		fail "an artifact without the newer fields does not replay"
	sed 's/^first off$/first maybe/' ctl/artifact-1.lab >bad.lab
	run 2 bad.log replay bad.lab
	[ "$(wc -l <bad.log)" = 1 ] || fail "more than one error line"
	grep -q "^labyrinth: bad.lab:[0-9]*: 'maybe' is not on or off (field 'first')" \
		bad.log || fail "bad value: $(cat bad.log)"
	;;
one-thread)
	# claim-race needs only one logical thread: an interrupt is the
	# second context that claims the same block
	run 1 found.log stress --mode controlled --strategy pct --depth 1 \
		--profile pressure --width 4 --height 8 --bug claim-race \
		--seed 1 --schedules 400 --no-progress --out found
	run 1 shrink.log shrink found/artifact-1.lab -o small.lab --budget 300
	[ "$(field small.lab logical)" = 1 ] ||
		fail "not shrunk to one thread ($(field small.lab logical))"
	grep -q "^verified: small.lab read back and replayed exactly" shrink.log ||
		fail "shrink did not verify what it wrote"
	cmd=$(printed shrink.log 'reproduce: ')
	names_binary "$cmd"
	elsewhere replay.log "$cmd"
	[ "$status" = 1 ] || { cat replay.log >&2; fail "'$cmd' exited $status"; }
	grep -q "^reproduced: yes - the same finding at the same step" \
		replay.log || fail "the 1-thread artifact does not replay"
	run 0 one.log stress --mode controlled --logical 1 --seed 2 \
		--schedules 50 --no-progress --out one
	run 2 zero.log stress --mode controlled --logical 0
	grep -q "'0' is out of range 1..8" zero.log || fail "range of --logical"
	;;
messages)
	run 0 t1.log stress --mode free --threads 1 --seconds 0.5 --seed 1 \
		--no-progress --out t1
	grep -q "^free: .*, 1 thread, " t1.log || fail "free: not '1 thread'"
	grep -q "^ops .*, 1 thread, " t1.log || fail "summary: not '1 thread'"
	run 0 l1.log stress --mode controlled --logical 1 --schedules 3 \
		--seed 1 --no-progress --out l1
	grep -q "^controlled: .* 1 logical thread x " l1.log ||
		fail "controlled: not '1 logical thread'"
	! grep -q " 1 \(logical \)\?threads" t1.log l1.log || fail "1 threads"
	run 1 first.log stress --mode free --bug free-keeps-owner --first \
		--seconds 30 --threads 2 --seed 3 --no-progress --out first
	saved=$(ls first/finding-*.json | wc -l)
	line=$(grep '^findings: ' first.log)
	# as many saved as there are records; detections counted apart
	case $line in
	"findings: $saved") ;;
	"findings: $saved saved (the first of "*" detected)") ;;
	*) fail "'$line' with $saved record(s) saved" ;;
	esac
	;;
campaign-report)
	fuzz_dir=$root/fuzz tsan=0 build_given=""
	eval "$(sed -n '/^\(if_tsan\|finding_report\|reproduce_[a-z]*\)() {/,/^}/p' \
		"$root/fuzz/campaign.sh")"
	mkdir -p crashes
	printf 'x' >crashes/crash-1
	printf '%s\n' "INFO: Seed: 1" \
		"labyrinth fuzz: check failed: free: block 0x7f3a5c001000 lost its stamp (magic 0, tag 5, expected 6): another owner wrote it" \
		"==123==ERROR: libFuzzer: deadly signal" \
		"SUMMARY: libFuzzer: deadly signal" >crash.log
	(cd "$work" && finding_report crash.log crashes/crash-1 fuzz_threads) >report.txt
	grep -q "^  what:  labyrinth fuzz: check failed: free: block 0x<addr> lost its stamp" \
		report.txt || fail "address mask: $(grep what: report.txt)"
	grep -q "^  reproduce: $root/fuzz/campaign.sh reproduce $work/crashes/crash-1 fuzz_threads$" \
		report.txt || fail "reproduce: $(grep reproduce: report.txt)"
	# a finding `labyrinth report` makes of libFuzzer's own log (no
	# record from the target): its reproduce command, from campaign.env
	# (a TSan campaign with its own build directory)
	tsan=1 build_given=1 build=$work/my\ build
	mkdir -p camp/artifacts
	{ echo target=fuzz_ops; reproduce_env; } >camp/campaign.env
	printf 'x' >camp/artifacts/timeout-1
	printf '%s\n' "INFO: Seed: 7" "==9== ERROR: libFuzzer: timeout after 25 seconds" \
		"SUMMARY: libFuzzer: timeout" >camp/artifacts/timeout-1.log
	run 1 report.log report --out merged camp
	want="$root/fuzz/campaign.sh reproduce $work/camp/artifacts/timeout-1 fuzz_ops --tsan --build $work/my\\ build"
	got=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["findings"][0]["reproduce"])' merged/findings.json)
	[ "$got" = "$want" ] || fail "report's reproduce: '$got', not '$want'"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS: $case_name"

#!/usr/bin/env bash
# sched_c11.sh LABYRINTH WORKDIR CASE - the controlled mode's C11 memory
# model (--memory c11) end to end, on the message-passing slot backends of
# stress/sched/tests/sched_mp_backend.c (LABYRINTH is labyrinth_sched_mp).
# Each CASE is one ctest test (labels c11 sched):
#   sc-misses  --memory sc (and the default) never finds mp-slot-relaxed's
#              relaxed publish, with PCT or the random walk
#   finds      --memory c11 finds it with PCT and with the random walk; the
#              run says the model and counts reads-from decisions and stale
#              reads; the artifact records memory c11 and TrK decisions
#   replay     the artifact replays exactly (twice), and the printed
#              reproduce command, run from / with a clean environment,
#              reproduces it
#   shrink     shrink keeps the finding, has no more stale reads, and its
#              output replays exactly
#   correct    mp-slot (release publish) is clean in c11 mode under PCT and
#              the random walk, also with every choice stale
#   diverge    a reads-from decision turned into a thread decision, or into
#              a store the load does not have, is reported as a divergence
#              at its index
#   usage      bad flags and artifact fields: exit 2, one line
# A fourth argument quiet-tsan (TSan builds) turns TSan's reports off: the
# relaxed publish is a race TSan sees by itself in both modes.
#   campaign   --mode campaign --memory c11: the controlled half runs the
#              model and finds the bug (artifact memory c11); the free half
#              runs (SC: the model is the scheduler's)
set -euo pipefail

bin=$1
work=$2
case_name=$3
if [ "${4:-}" = quiet-tsan ]; then
	export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}report_bugs=0"
fi
. "$(dirname "$0")/../../tests/lib.sh"
fresh_dir "$work"

bug=mp-slot-relaxed

ctl() { # ctl EXIT OUT BACKEND ARGS...
	local want=$1 out=$2 backend=$3
	shift 3
	run "$want" "$out.log" stress --mode controlled --backend "$backend" \
		--seed 1 --first --no-progress --out "$out" "$@"
}

find_bug() { # find_bug STRATEGY: the artifact of c11 mode's finding
	ctl 1 "found-$1" $bug --memory c11 --strategy "$1" --seconds 20
	[ -f "found-$1/artifact-1.lab" ] || fail "no artifact ($1)"
}

# one_line EXIT OUT WHAT ARGS...: a usage error of one line matching WHAT
one_line() {
	local want=$1 out=$2 what=$3
	shift 3
	run "$want" "$out" "$@"
	[ "$(wc -l <"$out")" = 1 ] || {
		cat "$out" >&2
		fail "'$*': not one line"
	}
	grep -q "^labyrinth: .*$what" "$out" || {
		cat "$out" >&2
		fail "'$*': no line saying '$what'"
	}
}

# index_of FILE PATTERN: the decision index of the first token matching
# the extended regex PATTERN
index_of() {
	awk -v pat="^($2)\$" '$1 == "d" {
		for (i = 2; i <= NF; i++) {
			if ($i ~ pat) { print n; exit }
			n++
		}
	}' n=0 "$1"
}

# replace_at FILE INDEX TOKEN: FILE with decision INDEX replaced
replace_at() {
	awk -v at="$2" -v tok="$3" '$1 == "d" {
		for (i = 2; i <= NF; i++) { if (n == at) $i = tok; n++ }
	} { print }' n=0 "$1"
}

case "$case_name" in
sc-misses)
	for s in pct random; do
		ctl 0 "sc-$s" $bug --memory sc --strategy $s --schedules 3000
		ctl 0 "default-$s" $bug --strategy $s --schedules 1000
		grep -q "memory c11" "sc-$s.log" &&
			fail "an SC run talks of the c11 model"
	done
	;;
finds)
	for s in pct random; do
		find_bug $s
		a=found-$s/artifact-1.lab
		[ "$(field $a memory)" = c11 ] || fail "memory not recorded ($s)"
		[ "$(field $a history)" = 8 ] || fail "history not recorded"
		[ "$(field $a stale-permille)" = 200 ] ||
			fail "stale-permille not recorded"
		grep '^d ' $a | grep -Eq ' [0-9]+r[1-9][0-9]*( |$)' ||
			fail "no stale reads-from decision in the artifact ($s)"
		grep -q "^controlled: memory c11, history 8, stale reads 200/1000" \
			found-$s.log || fail "the run does not name the model"
		grep -Eq "^controlled memory c11: [0-9]+ reads-from decisions, [1-9][0-9]* stale reads" \
			found-$s.log || fail "no reads-from counts"
	done
	;;
replay)
	find_bug pct
	a=found-pct/artifact-1.lab
	for i in 1 2; do
		run 1 "replay$i.log" replay $a
		grep -q "^followed: every recorded decision fitted" "replay$i.log" ||
			fail "replay $i did not follow every decision"
		grep -q "^reproduced: yes - the same finding at the same step" \
			"replay$i.log" || fail "replay $i is not exact"
	done
	cmd=$(sed -n 's/^reproduce: //p' found-pct.log | head -n 1)
	[ -n "$cmd" ] || fail "no reproduce: line"
	status=0
	(cd / && env -i PATH=/usr/bin:/bin bash -c "$cmd") >printed.log 2>&1 ||
		status=$?
	[ "$status" = 1 ] &&
		grep -q "^reproduced: yes - the same finding at the same step" printed.log || {
		cat printed.log >&2
		fail "the printed command '$cmd' did not reproduce (exit $status)"
	}
	# the run's own command as printed (--memory c11 in it) finds it again
	rerun=$(sed -n 's/^rerun: //p' found-pct.log)
	case "$rerun" in *" --memory c11 "*) ;; *) fail "rerun: no --memory c11" ;; esac
	(cd / && env -i PATH=/usr/bin:/bin bash -c "$rerun") >again.log 2>&1 ||
		true
	grep -q "^finding: $(field $a finding-kind) at $(field $a finding-where)" \
		again.log || fail "the rerun command did not find it again"
	;;
shrink)
	find_bug random
	a=found-random/artifact-1.lab
	run 1 shrink.log shrink $a -o small.lab --budget 300
	grep -q "^verified: small.lab read back and replayed exactly" shrink.log ||
		fail "shrink did not verify its output"
	[ "$(field small.lab finding-kind)" = "$(field $a finding-kind)" ] ||
		fail "shrink changed the finding"
	stale() { grep '^d ' "$1" | grep -Eo '[0-9]+r[1-9][0-9]*' | wc -l; }
	[ "$(stale small.lab)" -le "$(stale $a)" ] ||
		fail "more stale reads after shrink"
	[ "$(stale small.lab)" -ge 1 ] ||
		fail "no stale read left: the bug needs one"
	run 1 replay-small.log replay small.lab
	grep -q "^reproduced: yes - the same finding at the same step" \
		replay-small.log || fail "the shrunk artifact is not exact"
	echo "stale reads: $(stale $a) -> $(stale small.lab)," \
		"decisions: $(field $a decisions) -> $(field small.lab decisions)"
	;;
correct)
	for s in pct random; do
		ctl 0 "ok-$s" mp-slot --memory c11 --strategy $s --schedules 3000
		ctl 0 "ok-all-stale-$s" mp-slot --memory c11 --strategy $s \
			--stale-permille 1000 --history 64 --schedules 1000
	done
	;;
diverge)
	find_bug pct
	a=found-pct/artifact-1.lab
	i=$(index_of $a '[0-9]+r[0-9]+')
	[ -n "$i" ] || fail "no reads-from decision"
	# diverges NAME INDEX WHY: NAME.lab replays, saying it stopped
	# fitting at decision INDEX because WHY
	diverges() {
		run 1 "$1.log" replay "$1.lab"
		grep -q "^diverged: the recorded decisions stopped fitting at decision $2 of [0-9]*: $3" \
			"$1.log" || {
			cat "$1.log" >&2
			fail "$1.lab: no divergence at decision $2 saying '$3'"
		}
	}
	replace_at $a "$i" 0 >thread.lab
	diverges thread $i "decision $i named thread 0, but the program makes a reads-from choice among [0-9]* stores there"
	tok=$(awk -v at="$i" '$1 == "d" { for (k = 2; k <= NF; k++) { if (n == at) print $k; n++ } }' n=0 $a)
	replace_at $a "$i" "${tok%%r*}r63" >store.lab
	diverges store $i "decision $i is a reads-from choice of store 63, but the load has [0-9]* stores to read from"
	j=$(index_of $a '[0-9]+')
	replace_at $a "$j" "0r0" >read.lab
	diverges read $j "decision $j is a reads-from choice (store 0), but the program takes a thread decision there"
	;;
usage)
	one_line 2 free.log "--memory c11 runs in --mode controlled or campaign" \
		stress --mode free --memory c11 --seconds 1 --no-progress
	one_line 2 h0.log "--history: .*out of range 1..64" \
		stress --mode controlled --memory c11 --history 0
	one_line 2 h999.log "--history: .*out of range 1..64" \
		stress --mode controlled --memory c11 --history 999
	one_line 2 sp.log "--stale-permille: .*out of range 0..1000" \
		stress --mode controlled --memory c11 --stale-permille 2000
	one_line 2 mem.log "unknown memory 'weak'" \
		stress --mode controlled --memory weak
	one_line 2 nomem.log "--history shapes the c11 memory model" \
		stress --mode controlled --history 4
	find_bug pct
	a=found-pct/artifact-1.lab
	n=$(grep -n '^memory ' $a | cut -d: -f1)
	sed 's/^memory c11$/memory c12/' $a >m.lab
	one_line 2 m.log "m.lab:$n: unknown memory 'c12'" replay m.lab
	sed 's/^history 8$/history 0/' $a >h.lab
	one_line 2 h.log "h.lab:[0-9]*: .*out of range 1..64 (field 'history')" \
		replay h.lab
	sed 's/^history 8$/history 999/' $a >h9.lab
	one_line 2 h9.log "out of range 1..64 (field 'history')" replay h9.lab
	sed 's/^stale-permille 200$/stale-permille 2000/' $a >s.lab
	one_line 2 s.log "out of range 0..1000 (field 'stale-permille')" \
		replay s.lab
	i=$(index_of $a '[0-9]+r[0-9]+')
	for tok in 0r 0r64 r1 0rx; do
		replace_at $a "$i" "$tok" >bad.lab
		one_line 2 "bad-$tok.log" "bad.lab:[0-9]*: decision '$tok' is not a reads-from choice" \
			replay bad.lab
	done
	sed 's/^mode controlled$/mode free/' $a >free.lab
	one_line 2 free-art.log "free.lab:$n: memory c11 in a free-running artifact" \
		replay free.lab
	sed 's/^memory c11$/memory sc/' $a >sc.lab
	one_line 2 sc.log "is a reads-from choice in an artifact of memory sc" \
		replay sc.lab
	;;
campaign)
	run 1 camp.log stress --mode campaign --backend $bug --memory c11 \
		--seconds 20 --seed 1 --no-progress --out camp
	grep -q "^== campaign part 1 of 2: free-running" camp.log ||
		fail "no free-running half"
	grep -q "^controlled: memory c11" camp.log ||
		fail "the controlled half does not run the model"
	for a in camp/artifact-*.lab; do
		case "$(field "$a" mode)" in
		controlled) [ "$(field "$a" memory)" = c11 ] ||
			fail "$a: controlled without memory c11" ;;
		*) [ "$(field "$a" memory)" = sc ] ||
			fail "$a: a free-running artifact with memory c11" ;;
		esac
	done
	grep -l '^mode controlled$' camp/artifact-*.lab >/dev/null ||
		fail "the controlled half found nothing"
	;;
*)
	fail "unknown case '$case_name'"
	;;
esac
echo "ok: $case_name"

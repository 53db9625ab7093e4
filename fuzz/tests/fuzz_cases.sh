#!/usr/bin/env bash
# fuzz_cases.sh WORKDIR CASE ARGS... - end-to-end tests of the fuzzing
# tools; each CASE is one ctest test (fuzz/CMakeLists.txt):
#
#   driver-errors REPLAY SEEDGEN BUILD
#       the replay driver (standalone.c) on missing, empty, huge and
#       special files and on directories; lab_seedgen and campaign.sh on
#       bad arguments: exit 2 and one line naming the problem
#   seeded-bug BUILD REPLAY TARGET BUG [--tsan]
#       a campaign with LAB_BUG=BUG finds it within a bounded time; the
#       crash reproduces through campaign.sh (same report, bug taken from
#       the campaign) and through the replay driver; it minimises; the
#       campaign's corpus merges into a scratch copy of the corpus
#   clusterfuzzlite CC CXX
#       .clusterfuzzlite/build.sh with a local libFuzzer in place of the
#       OSS-Fuzz image; every binary it produces runs on its unzipped seed
#       corpus with its .dict and .options
#
# Nothing is written outside WORKDIR.
set -euo pipefail

work=$1
case_name=$2
shift 2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
campaign=$root/fuzz/campaign.sh
rm -rf "$work"
mkdir -p "$work"
cd "$work"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect STATUS OUTFILE CMD...: runs CMD, output in OUTFILE, checks status.
expect() {
	local want=$1 out=$2 status=0
	shift 2
	"$@" >"$out" 2>&1 || status=$?
	if [ "$status" != "$want" ]; then
		cat "$out" >&2
		fail "'$*' exited $status, expected $want"
	fi
}

# expect_error PREFIX CMD...: exit 2, stderr exactly one line starting
# with PREFIX, naming the problem.
expect_error() {
	local prefix=$1 status=0 lines
	shift
	"$@" >stdout.txt 2>stderr.txt || status=$?
	lines=$(wc -l <stderr.txt)
	[ "$status" = 2 ] || { cat stderr.txt >&2; fail "'$*' exited $status, expected 2"; }
	[ "$lines" = 1 ] || { cat stderr.txt >&2; fail "'$*' wrote $lines lines to stderr, expected 1"; }
	grep -q "^$prefix" stderr.txt || { cat stderr.txt >&2; fail "'$*': stderr does not start with '$prefix'"; }
	echo "ok: $* -> $(cat stderr.txt)"
}

# must_contain FILE TEXT
must_contain() {
	grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks '$2'"; }
}

case_driver_errors() {
	local replay=$1 seedgen=$2 build=$3 big
	mkdir -p inputs/sub notes-only empty-dir
	printf 'one' >inputs/b-one
	printf 'two' >inputs/a-two
	printf 'note' >inputs/a-two.txt
	printf 'readme' >inputs/README.md
	printf 'hidden' >inputs/.hidden
	printf 'nested' >inputs/sub/nested
	printf 'x' >notes-only/only.txt
	: >empty
	big=$(printf '%*s' 1048577 '' | tr ' ' x)
	printf '%s' "$big" >huge
	printf 'ok' >good
	mkfifo fifo

	# A directory: sorted, notes, hidden files and subdirectories left out.
	expect 0 dir.log "$replay" inputs
	[ "$(grep -c '^Running: ' dir.log)" = 2 ] || { cat dir.log; fail "directory: expected 2 inputs run"; }
	grep '^Running: ' dir.log | head -n 1 | grep -q 'a-two$' || fail "directory: not sorted"
	# libFuzzer flags are accepted and ignored.
	expect 0 flags.log "$replay" -runs=0 -dict=nothing.dict good
	# Bad files: one line each, the others still run, exit 2.
	expect 2 bad.log "$replay" good missing empty huge fifo inputs
	must_contain bad.log "missing: No such file or directory, skipped"
	must_contain bad.log "empty: empty, skipped"
	must_contain bad.log "huge: larger than 1 MiB, skipped"
	must_contain bad.log "fifo: not a regular file, skipped"
	[ "$(grep -c '^Running: ' bad.log)" = 3 ] || { cat bad.log; fail "bad files: the good ones did not all run"; }
	if [ "$(id -u)" != 0 ]; then
		printf 'secret' >unreadable && chmod 000 unreadable
		expect 2 perm.log "$replay" unreadable good
		must_contain perm.log "unreadable: Permission denied, skipped"
	fi
	# Nothing to run is a failure, never a silent pass.
	expect 2 none.log "$replay" empty-dir notes-only
	must_contain none.log "no input ran"
	expect 2 usage.log "$replay" -runs=0
	must_contain usage.log "usage:"
	echo "ok: replay driver"

	expect_error "lab_seedgen: " "$seedgen"
	expect_error "lab_seedgen: " "$seedgen" no_such_target out
	expect_error "lab_seedgen: " "$seedgen" all ""
	expect 1 seedgen-io.log "$seedgen" all good/below-a-file
	expect 0 seedgen-list.log "$seedgen" list

	local c=(bash "$campaign")
	local b=(--build "$build")
	expect_error "campaign.sh: " "${c[@]}"
	expect_error "campaign.sh: " "${c[@]}" frobnicate
	# the help its usage lines point to: as a command or after one
	for h in --help -h help "run --help"; do
		# shellcheck disable=SC2086 # "run --help" is two words
		expect 0 help.txt "${c[@]}" $h
		must_contain help.txt "fuzz/campaign.sh run TARGET"
	done
	expect_error "campaign.sh: help takes no arguments" "${c[@]}" help run
	expect_error "campaign.sh: " "${c[@]}" run "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" run no_such_target "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" run fuzz_x y "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" run "$(target_any)" --seconds soon "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" run "$(target_any)" --jobs 0 "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" run "$(target_any)" --seconds "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" run "$(target_any)" --bogus "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" run "$(target_any)" --build "$work/no-such-dir"
	expect_error "campaign.sh: " "${c[@]}" bench "$(target_any)" --tsan "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" merge "$(target_any)" "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" merge "$(target_any)" "$work/no-such-dir" "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" reproduce "$work/no-such-crash" "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" reproduce good "${b[@]}"
	expect_error "campaign.sh: " "${c[@]}" minimize good no_such_target "${b[@]}"

	# reproduce takes fuzz_sched_backend's backend from the campaign, as
	# it takes the seeded bug: a crash needs the backend it was found on
	if [ -x "$build/fuzz_sched_backend-fuzz" ]; then
		mkdir -p camp/artifacts
		printf 'x' >camp/artifacts/crash-1
		printf 'target=fuzz_sched_backend\ntsan=0\nbug=\nfuzz_backend=no-such-backend\n' \
			>camp/campaign.env
		env -u LAB_FUZZ_BACKEND "${c[@]}" reproduce camp/artifacts/crash-1 \
			"${b[@]}" >backend.log 2>&1 || true
		grep -q "LAB_FUZZ_BACKEND=no-such-backend is not in this build" \
			backend.log || { cat backend.log; fail "reproduce did not take the campaign's backend"; }
	fi
}

# A target that has no TSan build, for the argument checks.
target_any() {
	local f
	for f in "$root"/fuzz/fuzz_*.c; do
		f=$(basename "$f" .c)
		case $f in
		fuzz_common | *_seeds | fuzz_sched | fuzz_threads) ;;
		*) echo "$f" && return ;;
		esac
	done
}

case_seeded_bug() {
	local build=$1 replay=$2 target=$3 bug=$4 tsan=${5:-}
	# --timeout 5: a crash file a seeded bug turns into a hang must not
	# hold the test (the bug can corrupt the maze into a loop).
	local c=(bash "$campaign") o=(--build "$build" --out "$work/reports" --timeout 5)
	local crash what f

	expect 1 run.log env LAB_BUG="$bug" "${c[@]}" run "$target" $tsan \
		--seconds 120 --jobs 1 --name bug "${o[@]}"
	cat run.log
	# The first finding with a report, and its crash file.  A crash
	# libFuzzer saved without any report ("(no report: see the log)")
	# is skipped here: it happens now and then with this seeded bug and
	# does not replay alone (not tracked down; see fuzz/README.md).
	crash=$(awk '/^finding: / { f = 1; w = "" } f && /^  what: / { w = $0 }
		     f && /^  input: / && w !~ /\(no report/ { print $2; exit }' \
		"$work/reports/bug/findings.txt")
	[ -n "$crash" ] || fail "the campaign reported no crash file with a report"
	# TSan without halt_on_error saves the empty input instead.
	[ -s "$crash" ] || fail "$crash is empty: not the input that failed"
	must_contain "$work/reports/bug/campaign.env" "bug=$bug"
	what=$(awk -v c="$crash" '/^finding: / { w = "" } /^  what: / { w = $0 }
		   /^  input: / && $2 == c { print w; exit }' "$work/reports/bug/findings.txt")
	[ -n "$what" ] || fail "no finding report in findings.txt"

	# reproduce: LAB_BUG comes from the campaign; the same report.
	expect 1 reproduce.log env -u LAB_BUG "${c[@]}" reproduce "$crash" $tsan "${o[@]}"
	cat reproduce.log
	must_contain reproduce.log "$what"
	grep '^  \(kind\|where\): ' "$work/reports/bug/findings.txt" | head -n 2 >expected.txt
	while IFS= read -r line; do
		must_contain reproduce.log "$line"
	done <expected.txt

	# The command the campaign printed runs as printed from another
	# directory (absolute paths, the build named) to the same report.
	local cmd status=0
	cmd=$(awk -v c="$crash" '/^  input: / { i = $2 } /^  reproduce: / && i == c {
		sub(/^  reproduce: /, ""); print; exit }' "$work/reports/bug/findings.txt")
	case $cmd in
	/*" reproduce /"*" $target"*) ;;
	*) fail "the printed command '$cmd' does not run from anywhere" ;;
	esac
	mkdir -p "$work/elsewhere"
	(cd "$work/elsewhere" && env -u LAB_BUG bash -c "$cmd") >printed.log 2>&1 ||
		status=$?
	[ "$status" = 1 ] || { cat printed.log; fail "'$cmd' exited $status"; }
	must_contain printed.log "$what"

	# The replay driver finds it too (a crash: any non-zero status).
	if env LAB_BUG="$bug" "$replay" "$crash" >replay.log 2>&1; then
		cat replay.log
		fail "the replay driver ran $crash cleanly"
	fi
	echo "ok: the replay driver fails on the crash file"

	expect 1 minimize.log "${c[@]}" minimize "$crash" --runs 300 --seconds 5 "${o[@]}"
	cat minimize.log
	[ -f "$crash.min" ] || fail "no $crash.min"

	mkdir -p corpus
	cp -r "$root/corpus/$target" corpus/ 2>/dev/null || mkdir -p "corpus/$target"
	expect 0 merge.log "${c[@]}" merge "$target" "$work/reports/bug/corpus" \
		--corpus "$work/corpus" "${o[@]}"
	cat merge.log
}

case_clusterfuzzlite() {
	local cc=$1 cxx=$2
	local flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize=fuzzer-no-link"
	local bin t n opts
	expect 0 build.log env CC="$cc" CXX="$cxx" CFLAGS="$flags" \
		CXXFLAGS="$flags" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
		OUT="$work/out" SRC="$(dirname "$root")" WORK="$work/work" \
		bash "$root/.clusterfuzzlite/build.sh"
	cat build.log
	n=0
	for bin in "$work"/out/*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		t=$(basename "$bin")
		[ -f "$work/out/${t}_seed_corpus.zip" ] || fail "no ${t}_seed_corpus.zip"
		[ -f "$work/out/$t.options" ] || fail "no $t.options"
		mkdir -p "seeds/$t"
		python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
			"$work/out/${t}_seed_corpus.zip" "seeds/$t"
		[ -n "$(ls -A "seeds/$t")" ] || fail "$t: empty seed corpus"
		# As ClusterFuzzLite runs it: from $OUT, so the options' dict resolves.
		mapfile -t opts < <(sed -n 's/^ *\([a-z_]*\) *= *\(.*\)$/-\1=\2/p' \
			"$work/out/$t.options")
		(cd "$work/out" && expect 0 "$work/$t.log" "./$t" -runs=200 \
			-artifact_prefix="$work/$t-" "${opts[@]}" "$work/seeds/$t")
		grep -a 'Done [0-9]* runs' "$work/$t.log"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || fail "build.sh produced no fuzz targets"
	echo "ok: $n targets built by build.sh ran on their seed corpora"
}

case "$case_name" in
driver-errors) case_driver_errors "$@" ;;
seeded-bug) case_seeded_bug "$@" ;;
clusterfuzzlite) case_clusterfuzzlite "$@" ;;
*) fail "unknown case '$case_name'" ;;
esac

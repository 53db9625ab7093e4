#!/usr/bin/env bash
# campaign.sh - libFuzzer campaigns over labyrinth's fuzz targets, corpus
# upkeep, crash minimisation and local reproduction.
#
#   fuzz/campaign.sh run TARGET [--seconds N] [--jobs N] [--tsan]
#                               [--name NAME] [--keep-going]
#       A time-bounded campaign in libFuzzer's fork mode on N cores (all by
#       default), starting from the seeds and regressions.  Everything goes
#       to reports/NAME/ (default fuzz-TARGET[-tsan]-YYYYmmdd-HHMMSS):
#       fuzz.log, corpus/ (new inputs), artifacts/ (crash files),
#       campaign.env, stats.txt and findings.txt; findings/ (one finding
#       record per crash, saved by the target itself) and the renderings
#       of reports/README.md (summary.md, report.html, ...).  A progress line every
#       few seconds.  It stops at the first finding unless --keep-going.
#       LAB_BUG=NAME in the environment selects a seeded allocator bug
#       (`labyrinth bugs`); it is recorded, and reproduce uses it again.
#       So are LAB_FUZZ_BACKEND (fuzz_sched_backend's backend) and
#       LAB_FUZZ_MEMORY=c11 (the schedule targets under the C11 memory
#       model, whose reads-from decisions the input gives).
#   fuzz/campaign.sh merge TARGET DIR...
#       Adds the inputs of DIR... that bring new coverage to
#       corpus/TARGET/ (-merge=1).
#   fuzz/campaign.sh minimize CRASH [TARGET] [--runs N] [--seconds N]
#       Shrinks a crash file (-minimize_crash=1, bounded) into CRASH.min and
#       prints its finding.
#   fuzz/campaign.sh reproduce CRASH [TARGET] [--tsan]
#       Runs the crash file once through the binary that found it and
#       prints the same finding report the campaign did.  TARGET is needed
#       only for a file outside a campaign directory and outside
#       corpus/**/TARGET/.
#   fuzz/campaign.sh bench [TARGET...] [--seconds N] [--tsan]
#       exec/s of each target (default: all) on its seeds, one process,
#       -print_final_stats=1, as a table; "stable" says whether two replays
#       of the seeds reach the same coverage (libFuzzer's stability).
#   fuzz/campaign.sh targets
#       The targets, and which have a TSan build.
#   fuzz/campaign.sh help (or --help, -h; also after a command)
#       This text.
#
# Common options: --timeout N (seconds one input may run before libFuzzer
# reports it as a hang: campaigns, minimize, reproduce; default 25, as
# ClusterFuzz), --build DIR (the libFuzzer binaries <target>-fuzz and
# <target>-fuzz-tsan; default build/fuzz/fuzz, configured and brought up to
# date with `cmake --preset fuzz` / `cmake --build --preset fuzz` as needed),
# --out DIR (reports root, default reports/), --corpus DIR (corpus root,
# default corpus/).  --tsan picks the ThreadSanitizer build (fuzz_sched,
# fuzz_threads) and sets TSAN_OPTIONS=halt_on_error=1: without it libFuzzer
# saves the empty input as the crash artifact.
#
# Exit status: 0 nothing found, 1 a finding or a failed run, 2 bad
# arguments (one line "campaign.sh: ...").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzz_dir=$root/fuzz
me=campaign.sh

usage_error() {
	echo "$me: $*" >&2
	exit 2
}

die() {
	echo "$me: $*" >&2
	exit 1
}

# ---- targets and binaries ---------------------------------------------------

all_targets() {
	local f name
	for f in "$fuzz_dir"/fuzz_*.c; do
		name=$(basename "$f" .c)
		case $name in
		fuzz_common | *_seeds) ;;
		*) echo "$name" ;;
		esac
	done
}

# The targets with a TSan build: one list, in fuzz/CMakeLists.txt.
thread_targets() {
	sed -n 's/^set(LAB_FUZZ_THREAD_TARGETS \(.*\))$/\1/p' \
		"$fuzz_dir/CMakeLists.txt"
}

# in_list WORD LIST: WORD is one of the (blank-separated) words of LIST.
in_list() {
	local w
	for w in $2; do
		[ "$w" != "$1" ] || return 0
	done
	return 1
}

check_target() {
	local t=$1 targets
	targets=$(all_targets)
	[ -n "$t" ] || usage_error "no TARGET given"
	in_list "$t" "$targets" ||
		usage_error "unknown target '$t' (targets: $(echo "$targets" | tr '\n' ' ' | sed 's/ $//'))"
	if [ "$tsan" = 1 ] && ! in_list "$t" "$(thread_targets)"; then
		usage_error "$t has no TSan build (only: $(thread_targets))"
	fi
}

# if_tsan TEXT: TEXT for the TSan build, nothing otherwise; always status
# 0 (under set -e, a failing $(...) in an assignment ends the script).
if_tsan() {
	if [ "$tsan" = 1 ]; then
		echo "$1"
	fi
}

binary_name() { # binary_name TARGET
	if [ "$tsan" = 1 ]; then
		echo "$1-fuzz-tsan"
	else
		echo "$1-fuzz"
	fi
}

# ensure_binaries TARGET...: with the default build directory, configures
# the fuzz preset if needed and brings the binaries up to date (a no-op
# when nothing changed); with --build DIR they must already exist.
ensure_binaries() {
	local t names=()
	for t in "$@"; do
		names+=("$(binary_name "$t")")
	done
	if [ -z "$build_given" ]; then
		if [ ! -f "$root/build/fuzz/CMakeCache.txt" ]; then
			echo "$me: configuring the fuzz preset" >&2
			(cd "$root" && cmake --preset fuzz >/dev/null) ||
				die "cmake --preset fuzz failed"
		fi
		(cd "$root" && cmake --build --preset fuzz --target "${names[@]}" \
			>/dev/null) || die "cmake --build --preset fuzz --target ${names[*]} failed"
	fi
	for t in "${names[@]}"; do
		[ -x "$build/$t" ] || usage_error "no binary $build/$t"
	done
}

# ---- libFuzzer flags and environment ---------------------------------------

# target_flags TARGET: -key=value for each `key = value` of the [libfuzzer]
# section of fuzz/TARGET.options (as OSS-Fuzz reads it), the dictionary with
# an absolute path; fuzz/TARGET.dict if the options name none.
target_flags() {
	local t=$1 opts=$fuzz_dir/$1.options have_dict=0
	if [ -f "$opts" ]; then
		while IFS= read -r flag; do
			case $flag in
			-dict=*)
				have_dict=1
				flag="-dict=$fuzz_dir/${flag#-dict=}"
				;;
			esac
			echo "$flag"
		done < <(awk '
			/^[ \t]*\[/ { in_lf = ($0 ~ /^[ \t]*\[libfuzzer\]/); next }
			in_lf && /=/ && !/^[ \t]*[#;]/ {
				k = $0; sub(/=.*/, "", k); gsub(/[ \t]/, "", k)
				v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
				print "-" k "=" v
			}' "$opts")
	fi
	if [ "$have_dict" = 0 ] && [ -f "$fuzz_dir/$t.dict" ]; then
		echo "-dict=$fuzz_dir/$t.dict"
	fi
}

# Sanitizer options for every run.  The user's own come last and win,
# except halt_on_error for TSan, which libFuzzer needs (see the top).
setup_env() {
	export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	if [ "$tsan" = 1 ]; then
		export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}halt_on_error=1"
	fi
}

# copy_seeds TARGET DIR: the inputs of corpus/TARGET/ and
# corpus/regressions/TARGET/ (not notes: *.txt, README*, hidden files) into
# DIR, regressions prefixed "regression-".  Never writes into corpus/.
copy_seeds() {
	local t=$1 dest=$2 src f name
	mkdir -p "$dest"
	for src in "$corpus/$t" "$corpus/regressions/$t"; do
		[ -d "$src" ] || continue
		for f in "$src"/*; do
			name=$(basename "$f")
			[ -f "$f" ] || continue
			case $name in
			.* | *.txt | README*) continue ;;
			esac
			[ "$src" = "$corpus/$t" ] || name="regression-$name"
			cp "$f" "$dest/$name"
		done
	done
}

# ---- finding reports --------------------------------------------------------

# reproduce_cmd CRASH TARGET: the command that reproduces CRASH, as it runs
# from any directory: this script and the crash by absolute path, the
# build directory when it is not the default one, --tsan for the TSan
# build.
reproduce_cmd() {
	local crash flags
	crash=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	flags=$(reproduce_flags)
	printf '%q reproduce %q %s%s' "$fuzz_dir/campaign.sh" "$crash" "$2" \
		"${flags:+ $flags}"
}

# reproduce_env: reproduce_cmd's parts for campaign.env, read by
# `labyrinth report` when it makes a finding of libFuzzer's own log (a
# timeout, an out-of-memory): the command up to the crash file, and what
# follows the target.
reproduce_env() {
	echo "reproduce=$(printf '%q reproduce' "$fuzz_dir/campaign.sh")"
	echo "reproduce_flags=$(reproduce_flags)"
}

# reproduce_flags: what follows the target in reproduce_cmd.
reproduce_flags() {
	local flags
	flags=$(if_tsan '--tsan')
	[ -z "$build_given" ] || flags+="${flags:+ }--build $(printf %q "$build")"
	echo "$flags"
}

# finding_report LOG CRASH TARGET: the finding in a run's output, the same
# whoever ran it (campaign or reproduce): what failed, the sanitizer's
# summary, the top 3 frames of our code (ClusterFuzz's "crash state"),
# addresses ("0x<addr>") and pids ("pid=?") masked.
finding_report() {
	local log=$1 crash=$2 t=$3
	local size
	size=$(wc -c <"$crash" | tr -d ' ')
	echo "finding: $t$(if_tsan ' (tsan)') $(basename "$crash")"
	awk -v root="$root/" '
		function clean(s) {
			gsub(root, "", s)
			gsub(/==[0-9]+==/, "", s)
			gsub(/pid=[0-9]+/, "pid=?", s)
			gsub(/0x[0-9a-fA-F]+/, "0x<addr>", s)
			sub(/^[ \t]+/, "", s)
			return s
		}
		!what && (/^labyrinth fuzz: / || /^BUG: / || /runtime error: / ||
			  /ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer/ ||
			  /WARNING: ThreadSanitizer: / || /ERROR: libFuzzer: /) {
			what = clean($0)
		}
		/^SUMMARY: / && !summary { summary = clean($0) }
		# Stack frames of the first stack after it: "#N 0xADDR in FN
		# FILE:LINE:COL" (ASan, libFuzzer) or "#N FN FILE:LINE:COL
		# (BIN+0x...)" (TSan).
		in_stack && !/^ *#[0-9]+ / { stack_done = 1 }
		what && !stack_done && nframes < 3 && /^ *#[0-9]+ / {
			in_stack = 1
			line = $0
			sub(/^ *#[0-9]+ +/, "", line)
			sub(/^0x[0-9a-f]+ +in +/, "", line)
			n = split(line, part, " ")
			fn = part[1]; file = (n >= 2) ? part[2] : ""
			if (fn ~ /^0x/ || file !~ /:[0-9]+/ || file ~ /^\(/ ||
			    fn ~ /^(__sanitizer|__asan|__tsan|__ubsan|__interceptor|___interceptor|__interception|fuzzer::|__pthread_kill|pthread_kill|raise|abort|gsignal|__GI_|__libc_|_start|main|std::)/)
				next
			if (file ~ /:[0-9]+:[0-9]+$/)
				sub(/:[0-9]+$/, "", file)       # drop the column
			frames = frames (nframes ? " < " : "") fn " " clean(file)
			nframes++
		}
		END {
			print "  what:  " (what ? what : "(no report: see the log)")
			if (summary)
				print "  kind:  " summary
			if (frames)
				print "  where: " frames
		}' "$log"
	echo "  input: $crash ($size bytes)"
	echo "  reproduce: $(reproduce_cmd "$crash" "$t")"
}

# run_crash BIN CRASH LOG: one run of the crash file; its exit status.
# An input that hangs is reported by libFuzzer after --timeout seconds.
run_crash() {
	local status=0
	timeout -k 10 $((input_timeout + 60)) \
		"$1" -runs=1 -timeout="$input_timeout" "$2" >"$3" 2>&1 || status=$?
	return $status
}

# ---- run ----------------------------------------------------------------------

# progress_line LOG ELAPSED SECONDS: one line from the last status line of
# fork mode ("#EXECS: cov: C ft: F corp: N exec/s E oom/timeout/crash:
# a/b/c time: ..."); exec/s over the whole campaign so far.
progress_line() {
	local last
	last=$(grep -aE '^#[0-9]+: cov: ' "$1" | tail -n 1 || true)
	if [ -z "$last" ]; then
		echo "$target: $2/$3 s  starting"
		return
	fi
	echo "$last" | awk -v t="$target" -v e="$2" -v s="$3" '{
		execs = substr($1, 2); sub(/:$/, "", execs)
		for (i = 1; i <= NF; i++) {
			if ($i == "cov:") cov = $(i + 1)
			if ($i == "ft:") ft = $(i + 1)
			if ($i == "corp:") corp = $(i + 1)
			if ($i == "oom/timeout/crash:") bad = $(i + 1)
		}
		printf "%s: %d/%d s  execs %d (%d/s)  cov %s  ft %s  corpus %s  oom/timeout/crash %s\n",
			t, e, s, execs, (e > 0 ? execs / e : 0), cov, ft, corp, bad
	}'
}

cmd_run() {
	check_target "$target"
	ensure_binaries "$target"
	local bin
	bin=$build/$(binary_name "$target")
	local stamp dir status=0 start elapsed every flags=()
	stamp=$(date +%Y%m%d-%H%M%S)
	name=${name:-fuzz-$target$(if_tsan -tsan)-$stamp}
	case $name in
	*/* | .* | "") usage_error "bad campaign name '$name'" ;;
	esac
	dir=$out/$name
	[ ! -e "$dir" ] || usage_error "$dir exists; choose another --name"
	mkdir -p "$dir/corpus" "$dir/artifacts"
	copy_seeds "$target" "$dir/seeds"
	mapfile -t flags < <(target_flags "$target")
	# Defaults first: the target's .options may override them.
	flags=(-timeout="$input_timeout" "${flags[@]}")
	if [ "$keep_going" = 1 ]; then
		flags+=(-ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
	fi
	{
		echo "target=$target"
		echo "tsan=$tsan"
		echo "binary=$bin"
		reproduce_env
		echo "bug=${LAB_BUG:-}"
		echo "fuzz_backend=${LAB_FUZZ_BACKEND:-}"
		echo "fuzz_memory=${LAB_FUZZ_MEMORY:-}"
		echo "seconds=$seconds"
		echo "jobs=$jobs"
		echo "started=$stamp"
	} >"$dir/campaign.env"
	setup_env
	echo "campaign $name: $target, $seconds s on $jobs job(s)$([ -n "${LAB_BUG:-}" ] && echo ", LAB_BUG=$LAB_BUG")$([ -n "${LAB_FUZZ_MEMORY:-}" ] && echo ", LAB_FUZZ_MEMORY=$LAB_FUZZ_MEMORY")"
	# timeout: a target that hangs in a crash handler must not hold the
	# campaign past its time.
	(cd "$dir" && exec timeout -k 10 $((seconds + 300)) \
		"$bin" -fork="$jobs" -max_total_time="$seconds" \
		-print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
		"${flags[@]}" "$dir/corpus" "$dir/seeds") >"$dir/fuzz.log" 2>&1 &
	child=$!
	start=$(date +%s)
	every=$((seconds < 30 ? 2 : 10))
	while kill -0 "$child" 2>/dev/null; do
		sleep 1
		elapsed=$(($(date +%s) - start))
		if [ $((elapsed % every)) = 0 ]; then
			progress_line "$dir/fuzz.log" "$elapsed" "$seconds"
		fi
	done
	wait "$child" || status=$?
	child=""
	elapsed=$(($(date +%s) - start))
	echo "final: $(progress_line "$dir/fuzz.log" "$elapsed" "$seconds")" |
		tee "$dir/stats.txt"
	report_artifacts "$dir" "$bin" "$status"
}

# report_artifacts DIR BIN STATUS: runs each artifact once and prints
# its finding report, once per distinct finding (sanitizer summary, top
# frames and message with numbers masked, like ClusterFuzz's crash state);
# the reports go to DIR/findings.txt too.  Returns the campaign's status.
report_artifacts() {
	local dir=$1 bin=$2 status=$3 f key found=0 dup=0
	local seen=$'\n'
	: >"$dir/findings.txt"
	for f in "$dir"/artifacts/*; do
		[ -f "$f" ] || continue
		case $(basename "$f") in
		*.log) continue ;;
		esac
		found=$((found + 1))
		# the target saves its finding record from inside (capture.h)
		LAB_FINDINGS_DIR=$dir/findings LAB_FINDING_ARTIFACT=$f \
			LAB_FINDING_RUN=campaign-$(basename "$dir") \
			LAB_FINDING_REPRODUCE="$(reproduce_cmd "$f" "$target")" \
			run_crash "$bin" "$f" "$f.log" || true
		finding_report "$f.log" "$f" "$target" >"$f.report"
		key=$(grep -E '^  (what|kind|where): ' "$f.report" | tr -s '0-9' 'N')
		case $seen in
		*$'\n'"$key"$'\n'*)
			dup=$((dup + 1))
			rm -f "$f.report"
			continue
			;;
		esac
		seen+="$key"$'\n'
		tee -a "$dir/findings.txt" <"$f.report"
		rm -f "$f.report"
	done
	if [ "$dup" -gt 0 ]; then
		echo "($dup more crash files repeat these findings; all in $dir/artifacts)" |
			tee -a "$dir/findings.txt"
	fi
	render_reports "$dir"
	echo "report directory: $dir"
	if [ "$found" -gt 0 ]; then
		return 1
	fi
	if [ "$status" != 0 ]; then
		tail -n 20 "$dir/fuzz.log" >&2
		die "libFuzzer exited $status without an artifact (log: $dir/fuzz.log)"
	fi
	echo "no findings"
}

# render_reports DIR: summary.md, findings.json, report.sarif, junit.xml
# and report.html of the campaign (its fuzz.log as a run with exec/s and
# coverage over time, the findings the targets saved) by `labyrinth
# report`: $LABYRINTH, or the newest build's.  Without one, says how.
render_reports() {
	local lab=${LABYRINTH:-} f
	if [ -z "$lab" ]; then
		for f in "$(dirname "$build")/stress/labyrinth" \
			$(ls -t "$root"/build/*/stress/labyrinth 2>/dev/null); do
			[ -x "$f" ] && { lab=$f; break; }
		done
	fi
	if [ -z "$lab" ] || [ ! -x "$lab" ]; then
		echo "(no labyrinth command built: render the reports with 'labyrinth report --out $1 $1')"
		return 0
	fi
	"$lab" report --out "$1" "$1" | sed -n 's/^reports: /reports: /p' || true
}

# ---- reproduce, minimize ----------------------------------------------------

# crash_context CRASH: sets target, tsan, LAB_BUG, LAB_FUZZ_BACKEND and
# LAB_FUZZ_MEMORY from the campaign that
# wrote CRASH (its campaign.env), unless given on the command line; else
# the target from a path component such as corpus/regressions/fuzz_ops/.
crash_context() {
	local crash=$1 env_file key value part
	env_file=$(dirname "$crash")/../campaign.env
	if [ -f "$env_file" ]; then
		while IFS='=' read -r key value; do
			case $key in
			target) [ -n "$target" ] || target=$value ;;
			tsan) [ "$tsan_given" = 1 ] || tsan=$value ;;
			bug) [ -n "${LAB_BUG+set}" ] || { [ -z "$value" ] || export LAB_BUG=$value; } ;;
			# fuzz_sched_backend's backend: like the bug, part of
			# what the crash needs
			fuzz_backend) [ -n "${LAB_FUZZ_BACKEND+set}" ] ||
				{ [ -z "$value" ] || export LAB_FUZZ_BACKEND=$value; } ;;
			# the memory model a schedule target's crash ran under
			fuzz_memory) [ -n "${LAB_FUZZ_MEMORY+set}" ] ||
				{ [ -z "$value" ] || export LAB_FUZZ_MEMORY=$value; } ;;
			esac
		done <"$env_file"
	fi
	if [ -z "$target" ]; then
		for part in $(dirname "$crash" | tr '/' ' '); do
			if in_list "$part" "$(all_targets)"; then
				target=$part
			fi
		done
	fi
	[ -n "$target" ] || usage_error "cannot tell the target of $crash; name it: $me $cmd CRASH TARGET"
}

cmd_reproduce() {
	[ -f "$crash" ] || usage_error "no crash file '$crash'"
	crash_context "$crash"
	check_target "$target"
	ensure_binaries "$target"
	local bin log status=0
	bin=$build/$(binary_name "$target")
	log=${TMPDIR:-/tmp}/labyrinth-reproduce-$(basename "$crash").log
	setup_env
	run_crash "$bin" "$crash" "$log" || status=$?
	if [ "$status" = 0 ]; then
		echo "$crash: no finding (it ran cleanly through $bin)"
		return 0
	fi
	finding_report "$log" "$crash" "$target"
	echo "  log: $log"
	return 1
}

cmd_minimize() {
	[ -f "$crash" ] || usage_error "no crash file '$crash'"
	crash_context "$crash"
	check_target "$target"
	ensure_binaries "$target"
	local bin min=$crash.min status=0
	bin=$build/$(binary_name "$target")
	setup_env
	# Bounded twice: -timeout for an input that hangs (a seeded bug can
	# corrupt the maze into a loop), timeout(1) for the whole search, whose
	# steps each get -max_total_time.  Each smaller crash found is written
	# to CRASH.min at once, so stopping early keeps the best so far.
	timeout -k 10 $((2 * seconds + 60)) \
		"$bin" -minimize_crash=1 -runs="$runs" -max_total_time="$seconds" \
		-timeout="$input_timeout" -exact_artifact_path="$min" "$crash" \
		>"$crash.minimize.log" 2>&1 || true
	if [ ! -f "$min" ]; then
		tail -n 20 "$crash.minimize.log" >&2
		die "minimizing $crash gave no result (log: $crash.minimize.log)"
	fi
	echo "minimized: $crash ($(wc -c <"$crash" | tr -d ' ') bytes) -> $min ($(wc -c <"$min" | tr -d ' ') bytes)"
	run_crash "$bin" "$min" "$min.log" || status=$?
	[ "$status" != 0 ] || die "$min no longer fails"
	finding_report "$min.log" "$min" "$target"
	return 1
}

# ---- merge --------------------------------------------------------------------

cmd_merge() {
	check_target "$target"
	[ "${#dirs[@]}" -gt 0 ] || usage_error "merge needs at least one DIR"
	local d
	for d in "${dirs[@]}"; do
		[ -d "$d" ] || usage_error "no directory '$d'"
	done
	ensure_binaries "$target"
	local bin dest=$corpus/$target log
	bin=$build/$(binary_name "$target")
	local before after
	mkdir -p "$dest"
	before=$(find "$dest" -maxdepth 1 -type f | wc -l)
	log=$(mktemp)
	setup_env
	if ! "$bin" -merge=1 "$dest" "${dirs[@]}" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		die "merge failed (log: $log)"
	fi
	after=$(find "$dest" -maxdepth 1 -type f | wc -l)
	grep -a 'MERGE-OUTER: [0-9]* new files' "$log" || true
	echo "$dest: $before -> $after files"
	rm -f "$log"
}

# ---- bench --------------------------------------------------------------------

# stable BIN SEEDS SCRATCH: "yes" if two replays of the seeds reach the
# same coverage (a deterministic target), else "no".
stable() {
	local cov=()
	for _ in 1 2; do
		cov+=("$("$1" -runs=0 -artifact_prefix="$3/" "$2" 2>&1 |
			sed -n 's/.*INITED \(cov: [0-9]* ft: [0-9]*\).*/\1/p')")
	done
	if [ -n "${cov[0]}" ] && [ "${cov[0]}" = "${cov[1]}" ]; then
		echo yes
	else
		echo no
	fi
}

# The issue's speed goals (exec/s under ASan+UBSan; none for TSan).
goal_of() {
	[ "$tsan" = 0 ] || { echo - && return; }
	case $1 in
	fuzz_ops) echo 10000 ;;
	fuzz_sched) echo 2000 ;;
	*) echo - ;;
	esac
}

cmd_bench() {
	local t targets=("${dirs[@]}") scratch failed=0 flags=()
	[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <(all_targets)
	if [ "$tsan" = 1 ] && [ "${#dirs[@]}" = 0 ]; then
		mapfile -t targets < <(thread_targets | tr ' ' '\n')
	fi
	for t in "${targets[@]}"; do
		check_target "$t"
	done
	ensure_binaries "${targets[@]}"
	if [ -n "$out_given" ]; then
		scratch=$out
	else
		scratch=$(mktemp -d)
		remove_on_exit=$scratch
	fi
	setup_env
	local rows=()
	for t in "${targets[@]}"; do
		local bin w status=0
		bin=$build/$(binary_name "$t")
		w=$scratch/bench-$(binary_name "$t")
		rm -rf "$w"
		copy_seeds "$t" "$w/seeds"
		mkdir -p "$w/corpus" "$w/artifacts"
		mapfile -t flags < <(target_flags "$t")
		echo "bench: $(binary_name "$t"), $seconds s" >&2
		timeout -k 10 $((2 * seconds + 60)) \
			"$bin" -max_total_time="$seconds" -print_final_stats=1 \
			-timeout="$input_timeout" \
			-artifact_prefix="$w/artifacts/" "${flags[@]}" \
			"$w/corpus" "$w/seeds" >"$w/fuzz.log" 2>&1 || status=$?
		target=$t
		if [ "$status" != 0 ] || [ -n "$(ls -A "$w/artifacts")" ]; then
			failed=1
			report_artifacts "$w" "$bin" "$status" || true
		fi
		rows+=("$(awk -v t="$(binary_name "$t")" -v g="$(goal_of "$t")" \
			-v st="$(stable "$bin" "$w/seeds" "$w/artifacts")" '
			/^stat::number_of_executed_units:/ { execs = $2 }
			/^stat::average_exec_per_sec:/ { eps = $2 }
			/^stat::peak_rss_mb:/ { rss = $2 }
			/^#[0-9]+\t/ { for (i = 1; i <= NF; i++) { if ($i == "cov:") cov = $(i + 1); if ($i == "ft:") ft = $(i + 1) } }
			END {
				verdict = (g == "-") ? "" : (eps + 0 >= g ? " ok" : " BELOW")
				printf "%-24s %10s %8s %6s %7s %6s %6s  %s%s\n", t, execs, eps, cov, ft, rss, st, g, verdict
			}' "$w/fuzz.log")")
	done
	printf "%-24s %10s %8s %6s %7s %6s %6s  %s\n" binary execs exec/s cov ft rss_mb stable goal
	printf "%s\n" "${rows[@]}"
	return $failed
}

# ---- command line -----------------------------------------------------------

# On any exit (error, Ctrl-C): stop a campaign still running in the
# background, remove bench's scratch directory.
child="" remove_on_exit=""
cleanup() {
	if [ -n "$child" ]; then
		kill "$child" 2>/dev/null || true
	fi
	if [ -n "$remove_on_exit" ]; then
		rm -rf "$remove_on_exit"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The comment block at the top of this file.
print_help() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
help | -h | --help) # as a command, not only after one
	[ $# = 0 ] || usage_error "$cmd takes no arguments (see $me --help)"
	print_help
	exit 0
	;;
esac
target="" crash="" name="" tsan=0 tsan_given=0 keep_going=0
seconds="" jobs=$(nproc 2>/dev/null || echo 2) runs=10000 input_timeout=25
build=$root/build/fuzz/fuzz build_given="" out=$root/reports out_given=""
corpus=$root/corpus dirs=()

number() { # number OPTION VALUE
	[[ $2 =~ ^[1-9][0-9]*$ ]] || usage_error "$1 needs a positive number, not '$2'"
	echo "$2"
}

positional=()
while [ $# -gt 0 ]; do
	case $1 in
	--seconds | --jobs | --runs | --timeout | --name | --build | --out | --corpus)
		[ $# -ge 2 ] || usage_error "$1 needs a value"
		case $1 in
		--seconds) seconds=$(number "$1" "$2") ;;
		--jobs) jobs=$(number "$1" "$2") ;;
		--runs) runs=$(number "$1" "$2") ;;
		--timeout) input_timeout=$(number "$1" "$2") ;;
		--name) name=$2 ;;
		--build) build=$(cd "$2" 2>/dev/null && pwd) ||
			usage_error "no build directory '$2'"
			build_given=1 ;;
		--out) mkdir -p "$2" && out=$(cd "$2" && pwd) out_given=1 ;;
		--corpus) corpus=$(cd "$2" 2>/dev/null && pwd) ||
			usage_error "no corpus directory '$2'" ;;
		esac
		shift 2
		;;
	--tsan) tsan=1 tsan_given=1 && shift ;;
	--keep-going) keep_going=1 && shift ;;
	-h | --help) print_help && exit 0 ;;
	-*) usage_error "unknown option '$1' (see $me --help)" ;;
	*) positional+=("$1") && shift ;;
	esac
done

case $cmd in
run)
	[ "${#positional[@]}" = 1 ] || usage_error "usage: $me run TARGET [--seconds N] [--jobs N] [--tsan] [--name NAME] [--keep-going]"
	target=${positional[0]} seconds=${seconds:-600}
	cmd_run
	;;
merge)
	[ "${#positional[@]}" -ge 2 ] || usage_error "usage: $me merge TARGET DIR..."
	target=${positional[0]} dirs=("${positional[@]:1}")
	cmd_merge
	;;
minimize | reproduce)
	[ "${#positional[@]}" -ge 1 ] && [ "${#positional[@]}" -le 2 ] ||
		usage_error "usage: $me $cmd CRASH [TARGET]"
	crash=${positional[0]} target=${positional[1]:-} seconds=${seconds:-60}
	"cmd_$cmd"
	;;
bench)
	dirs=("${positional[@]}") seconds=${seconds:-10}
	cmd_bench
	;;
targets)
	echo "targets: $(all_targets | tr '\n' ' ')"
	echo "with a TSan build: $(thread_targets)"
	;;
"") usage_error "no command (run, merge, minimize, reproduce, bench, targets; see $me --help)" ;;
*) usage_error "unknown command '$cmd' (run, merge, minimize, reproduce, bench, targets; see $me --help)" ;;
esac

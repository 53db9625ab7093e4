#!/bin/bash -eu
# build.sh - OSS-Fuzz / ClusterFuzzLite build of labyrinth's fuzz targets.
#
# Honours the variables of the OSS-Fuzz build environment:
#   $CC $CFLAGS                compile every object (library, harness core,
#                              fuzz helpers, targets)
#   $CXX $CXXFLAGS $LIB_FUZZING_ENGINE   link each target (C++ linker, as
#                              the engine may be C++: libFuzzer, AFL, ...)
#   $OUT                       receives per target: <target>,
#                              <target>_seed_corpus.zip (corpus/<target>/ and
#                              corpus/regressions/<target>/, notes left
#                              out), <target>.dict, <target>.options
#   $SRC                       where the Dockerfile put the sources
#                              ($SRC/labyrinth); $WORK for the objects
# The sources are found from this script's place (.clusterfuzzlite/ in the
# repository), else the current directory (the Dockerfile's WORKDIR), else
# $SRC/labyrinth.
#
# Only ASan/UBSan-style builds are meant here: neither OSS-Fuzz nor
# ClusterFuzzLite runs ThreadSanitizer, so the TSan campaigns of fuzz_sched
# and fuzz_threads stay with fuzz/campaign.sh --tsan.
#
# Run locally (what the fuzz_clusterfuzzlite test does):
#   CC=clang CXX=clang++ CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only
#   -fsanitize=address,undefined -fsanitize=fuzzer-no-link" CXXFLAGS="$CFLAGS"
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out SRC=.. WORK=/tmp/work
#   .clusterfuzzlite/build.sh

# $CFLAGS, $CXXFLAGS and $LIB_FUZZING_ENGINE are word lists, split on
# purpose where they are used.
# shellcheck disable=SC2086

is_tree() { [ -f "$1/allocator/include/labyrinth.h" ] && [ -d "$1/fuzz" ]; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if is_tree "$here"; then
	tree=$here
elif is_tree "$PWD"; then
	tree=$PWD
elif is_tree "$SRC/labyrinth"; then
	tree=$SRC/labyrinth
else
	echo "build.sh: cannot find the labyrinth sources (tried $here, $PWD, $SRC/labyrinth)" >&2
	exit 1
fi

: "${CXXFLAGS:=}"
work=${WORK:-$(mktemp -d)}/labyrinth-objs
rm -rf "$work"
mkdir -p "$work" "$OUT"

# The same source sets as the CMake build (allocator/CMakeLists.txt,
# reports/CMakeLists.txt, stress/CMakeLists.txt, fuzz/CMakeLists.txt): the
# allocator with its debug checks and yield points (not LAB_RELEASE), the
# finding records and sanitizer capture, the harness core without its
# command line, the fuzz helpers.
common_flags=(-std=c17 -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	"-DLAB_BUILD_INFO=\"oss-fuzz\""
	-I"$tree/allocator/include" -I"$tree/allocator/src" -I"$tree/stress"
	-I"$tree/reports/src" -I"$tree/fuzz")
lib_sources=("$tree"/allocator/src/*.c "$tree"/reports/src/*.c)
for f in "$tree"/stress/*.c; do
	[ "$(basename "$f")" = cli.c ] || lib_sources+=("$f")
done
targets=()
for f in "$tree"/fuzz/*.c; do
	name=$(basename "$f" .c)
	case $name in
	*_seeds | standalone | seedgen) ;;
	fuzz_common) lib_sources+=("$f") ;;
	fuzz_*) targets+=("$name") ;;
	*) lib_sources+=("$f") ;;
	esac
done

# compile SRC...: $work/<dir>_<name>.o for each, all in parallel.
compile() {
	local src pids=() pid
	for src in "$@"; do
		$CC $CFLAGS "${common_flags[@]}" -c "$src" \
			-o "$work/$(basename "$(dirname "$src")")_$(basename "$src" .c).o" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
}

compile "${lib_sources[@]}"
ar rcs "$work/liblabyrinth_fuzz.a" "$work"/*.o

# zip_corpus ZIP DIR...: the inputs of DIR... (not *.txt notes, README*,
# hidden files) flat in ZIP; regression inputs named regression-<file>.
zip_corpus() {
	python3 - "$@" <<'PY'
import os, sys, zipfile
zip_path, dirs = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    for i, d in enumerate(dirs):
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if (name.startswith(".") or name.startswith("README")
                    or name.endswith(".txt") or not os.path.isfile(path)):
                continue
            z.write(path, ("regression-" if i else "") + name)
PY
}

for t in "${targets[@]}"; do
	$CC $CFLAGS "${common_flags[@]}" -c "$tree/fuzz/$t.c" -o "$work/target_$t.o"
	$CXX $CXXFLAGS "$work/target_$t.o" "$work/liblabyrinth_fuzz.a" \
		$LIB_FUZZING_ENGINE -lpthread -o "$OUT/$t"
	zip_corpus "$OUT/${t}_seed_corpus.zip" "$tree/corpus/$t" \
		"$tree/corpus/regressions/$t"
	for ext in dict options; do
		if [ -f "$tree/fuzz/$t.$ext" ]; then
			cp "$tree/fuzz/$t.$ext" "$OUT/"
		fi
	done
	echo "build.sh: $OUT/$t"
done

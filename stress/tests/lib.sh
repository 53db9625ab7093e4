# lib.sh - helpers of the end-to-end test scripts of the `labyrinth`
# command (controlled.sh, repro.sh, zoo_shrink.sh), sourced with $bin set
# to the command under test.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run EXPECTED-EXIT OUTFILE ARGS...: runs the command, checks its status.
run() {
	local want=$1 out=$2 status=0
	shift 2
	"$bin" "$@" >"$out" 2>&1 || status=$?
	if [ "$status" != "$want" ]; then
		cat "$out" >&2
		fail "'$bin $*' exited $status, expected $want"
	fi
}

field() { # field FILE KEY: the value of "KEY value" in an artifact
	awk -v k="$2" '$1 == k { sub(/^[^ ]* /, ""); print; exit }' "$1"
}

jfield() { # jfield FILE KEY: a top-level string or number of a JSON record
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(v if not isinstance(v, list) else len(v))' "$1" "$2"
}

# fresh_dir DIR: an empty DIR, made the current directory.
fresh_dir() {
	rm -rf "$1"
	mkdir -p "$1"
	cd "$1"
}

#!/usr/bin/env bash
# tools_skip.sh WORKDIR - the tests that need a program the machine lacks
# (html_chromium.sh, sarif_validate.sh) skip with the reason, and install
# only where they may (tool_install.sh).  They run with a PATH of a few
# basic commands and no chromium, node or npm, and a fake apt-get that
# records being called and fails:
#   not allowed (LAB_TOOL_INSTALL unset)   exit 77, the reason, no apt-get
#   LAB_NO_INSTALL=1                       exit 77, the reason, no apt-get
#   allowed, root                          apt-get called, announced; its
#                                          failure is a skip (77)
#   not allowed, CI=true                   exit 1: CI must run every test
#   node, npm but no multitool, not allowed  exit 77, npm not run
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$1
rm -rf "$work"
mkdir -p "$work/bin" "$work/report"
cd "$work"
echo "<html></html>" >report/report.html
echo '{}' >empty.sarif

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# the sandbox's commands: what the scripts use before they find a tool
for c in bash sh env dirname basename mktemp rm id cat sed grep awk tail \
	 head mkdir uname flock tr sort chmod; do
	p=$(command -v "$c") || continue
	ln -s "$p" "bin/$c"
done
cat >bin/apt-get <<EOS
#!$(command -v bash)
echo "apt-get \$*" >>"$work/install-calls"
echo "fake apt-get: refusing" >&2
exit 100
EOS
chmod +x bin/apt-get
mkdir nodebin
for c in node npm; do
	cat >nodebin/$c <<EOS
#!$(command -v bash)
echo "$c \$*" >>"$work/install-calls"
exit 1
EOS
	chmod +x nodebin/$c
done

# check NAME WANT-EXIT WANT-TEXT INSTALLER(called|not) ENV... -- SCRIPT ARGS...
# (INSTALLER: the fake apt-get or npm)
check() {
	local name=$1 want=$2 text=$3 apt=$4 status=0
	shift 4
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rm -f install-calls
	env -i PATH="$work/bin" HOME="$work" TMPDIR="$work" "${envs[@]}" \
		bash "$@" >"$name.log" 2>&1 || status=$?
	sed "s/^/  $name: /" "$name.log"
	[ "$status" = "$want" ] || fail "$name: exit $status, expected $want"
	grep -qF -- "$text" "$name.log" || fail "$name: no '$text' in the output"
	if [ "$apt" = called ]; then
		[ -s install-calls ] || fail "$name: the installer was not called"
	else
		[ ! -e install-calls ] || fail "$name: an installer was called: $(cat install-calls)"
	fi
}

html=("$here/html_chromium.sh" report)
sarif=("$here/sarif_validate.sh" --cache "$work/mt" empty.sarif)

check html-not-allowed 77 "LAB_INSTALL_TEST_TOOLS is OFF" not -- "${html[@]}"
check html-opt-out 77 "not installed: LAB_NO_INSTALL=1" not \
	LAB_TOOL_INSTALL=1 LAB_NO_INSTALL=1 -- "${html[@]}"
check html-ci 1 "CI=true, so this is a failure" not CI=true -- "${html[@]}"
check sarif-not-allowed 77 "LAB_INSTALL_TEST_TOOLS is OFF" not -- "${sarif[@]}"
check sarif-opt-out 77 "LAB_NO_INSTALL=1" not \
	LAB_TOOL_INSTALL=1 LAB_NO_INSTALL=1 -- "${sarif[@]}"
# node and npm there, the multitool not: npm must not be run
check sarif-multitool-not-allowed 77 "SARIF Multitool 5.7.0 is not in" not \
	PATH="$work/nodebin:$work/bin" -- "${sarif[@]}"
if [ "$(id -u)" = 0 ]; then
	check html-install 77 "installing the Debian packages chromium chromium-driver" \
		called LAB_TOOL_INSTALL=1 -- "${html[@]}"
	check sarif-install 77 "installing the Debian packages nodejs npm" \
		called LAB_TOOL_INSTALL=1 -- "${sarif[@]}"
else
	check html-not-root 77 "not root" not LAB_TOOL_INSTALL=1 -- "${html[@]}"
fi
echo "ok: every case skipped or installed as it should"

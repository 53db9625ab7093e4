#!/usr/bin/env bash
# sarif_validate.sh - validates SARIF files with Microsoft's SARIF Multitool
# (npm package @microsoft/sarif-multitool-<platform>, the self-contained .NET
# build that @microsoft/sarif-multitool wraps: no .NET runtime needed; it is
# installed directly so the version is exactly the one pinned): the SARIF 2.1.0 JSON schema, the SARIF rules, and
# GitHub code scanning's ingestion rules (rule kinds "Sarif;Ghas": a result
# without a location, a rule without help, ... are errors there).
#
# usage: sarif_validate.sh [--expect-invalid] [--cache DIR] FILE.sarif...
#
#   --expect-invalid  succeed only if the validator ran and reported at
#                     least one error in every file (the negative test)
#   --cache DIR       where the multitool is installed, once per version
#                     (default $LAB_SARIF_CACHE, else ./sarif-multitool)
#
# environment:
#   LAB_SARIF_MULTITOOL_VERSION  npm version to use (default 5.7.0)
#   LAB_SARIF_RULE_KINDS         multitool --rule-kind (default Sarif;Ghas)
#   LAB_SARIF_FAIL_LEVEL         error (default) or warning: the lowest level
#                                that makes a file invalid
#
# The multitool exits 0 even when it finds errors, so its SARIF output log
# is read back and its results counted by level.
#
# Installing: node and npm come from Debian's packages (apt-get), the
# multitool from the npm registry into the cache directory (npm's own
# cache inside it too: nothing goes to ~/.npm), and only where tests may
# install (tool_install.sh: LAB_TOOL_INSTALL=1 from the test preset,
# LAB_NO_INSTALL not 1; root for apt-get).
#
# exit: 0 as expected, 1 not (or the validator broke), 2 usage, 77 the
# validator cannot be had here (no node/npm or multitool and no leave to
# install them, or the registry unreachable); with CI=true that is 1,
# since CI must validate.
set -u

me=sarif_validate
. "$(dirname "$0")/tool_install.sh" || exit 2

version=${LAB_SARIF_MULTITOOL_VERSION:-5.7.0}
kinds=${LAB_SARIF_RULE_KINDS:-Sarif;Ghas}
fail_level=${LAB_SARIF_FAIL_LEVEL:-error}
cache=${LAB_SARIF_CACHE:-$PWD/sarif-multitool}
expect_invalid=0

usage() {
	echo "usage: sarif_validate.sh [--expect-invalid] [--cache DIR] FILE.sarif..." >&2
	exit 2
}

# The validator is missing: a skip for a developer, a failure in CI.
unavailable() {
	lab_tool_unavailable "$*"
}

while [ $# -gt 0 ]; do
	case $1 in
	--expect-invalid) expect_invalid=1 ;;
	--cache) [ $# -ge 2 ] || usage; cache=$2; shift ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] || usage
case $fail_level in error | warning) ;; *) usage ;; esac

# node and npm, from Debian's packages when this test may install them.
ensure_npm() {
	command -v node >/dev/null && command -v npm >/dev/null && return 0
	lab_may_apt ||
		unavailable "node and npm are not installed, and not installed" \
			"now: $lab_no_install_why (Debian: apt-get install nodejs npm)"
	local log
	log=$(mktemp) || unavailable "mktemp failed"
	lab_apt_install "$log" nodejs npm ||
		{ rm -f "$log"; unavailable "apt-get install nodejs npm failed"; }
	rm -f "$log"
	command -v node >/dev/null && command -v npm >/dev/null ||
		unavailable "no node and npm after apt-get install nodejs npm"
}

case $(uname -s) in
Linux) platform=linux ;;
Darwin) platform=darwin ;;
*) unavailable "no SARIF Multitool build for $(uname -s)" ;;
esac
pkgdir=$cache/node_modules/@microsoft
tool=$pkgdir/sarif-multitool-$platform/Sarif.Multitool

installed_version() {
	sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' \
		"$pkgdir/sarif-multitool-$platform/package.json" 2>/dev/null |
		head -n 1
}

# Installs the pinned version into the cache, once; concurrent tests take
# turns through a lock on the cache directory.
ensure_multitool() {
	mkdir -p "$cache" || unavailable "cannot create $cache"
	if command -v flock >/dev/null; then
		exec 9>"$cache/.lock" && flock 9
	fi
	if [ -x "$tool" ] && [ "$(installed_version)" = "$version" ]; then
		return 0
	fi
	pkg=@microsoft/sarif-multitool-$platform@$version
	lab_may_install ||
		unavailable "the SARIF Multitool $version is not in $cache," \
			"and not installed now: $lab_no_install_why"
	ensure_npm
	echo "sarif_validate: installing $pkg from the npm registry into" \
	     "$cache (LAB_NO_INSTALL=1 skips instead)" >&2
	npm_config_cache=$cache/npm-cache npm install --prefix "$cache" \
		--no-audit --no-fund --no-update-notifier --loglevel=error \
		"$pkg" >&2 ||
		unavailable "npm install $pkg failed (is the npm registry reachable?)"
	[ -f "$tool" ] || unavailable "the package has no $platform build ($tool)"
	# its postinstall only does this, and npm may not run install scripts
	chmod u+x "$tool"
}

# Counts the multitool's findings in its output log by level: a result
# takes its rule's default level when it has none.  Prints
# "<errors> <warnings> <tool-ok>".
count_levels() {
	node -e '
const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
let errors = 0, warnings = 0, ok = 1;
for (const run of log.runs || []) {
	const rules = (run.tool && run.tool.driver && run.tool.driver.rules) || [];
	for (const r of run.results || []) {
		if (r.kind && r.kind !== "fail")
			continue;
		const rule = rules[r.ruleIndex] || rules.find(x => x.id === r.ruleId);
		const level = r.level ||
			(rule && rule.defaultConfiguration && rule.defaultConfiguration.level) ||
			"warning";
		errors += level === "error";
		warnings += level === "warning";
	}
	for (const inv of run.invocations || []) {
		if (inv.executionSuccessful === false)
			ok = 0;
		for (const n of [...(inv.toolExecutionNotifications || []),
				 ...(inv.toolConfigurationNotifications || [])])
			if (n.level === "error")
				ok = 0;
	}
}
console.log(errors, warnings, ok);
' "$1"
}

# Validates one file: 0 valid, 1 invalid, 3 the validator itself failed.
validate_one() {
	local file=$1 out rc counts errors warnings ok

	out=$(mktemp -d) || return 3
	DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
		"$tool" validate "$file" --output "$out/validation.sarif" \
		--log ForceOverwrite --rule-kind "$kinds"
	rc=$?
	if [ $rc -ne 0 ] || [ ! -s "$out/validation.sarif" ]; then
		rm -rf "$out"
		echo "sarif_validate: $file: the multitool failed (exit $rc)" >&2
		[ $rc -eq 126 ] || [ $rc -eq 127 ] &&
			unavailable "$tool does not run on this machine"
		return 3
	fi
	counts=$(count_levels "$out/validation.sarif") || counts=""
	rm -rf "$out"
	read -r errors warnings ok <<<"$counts"
	if [ -z "${ok:-}" ] || [ "$ok" != 1 ]; then
		echo "sarif_validate: $file: the multitool did not complete its analysis" >&2
		return 3
	fi
	echo "sarif_validate: $file: $errors error(s), $warnings warning(s) (rule kinds $kinds, multitool $version)"
	[ "$errors" -eq 0 ] || return 1
	[ "$fail_level" = warning ] && [ "$warnings" -gt 0 ] && return 1
	return 0
}

ensure_npm # node reads the validator's log even when the tool is cached
ensure_multitool
status=0
for file in "$@"; do
	if [ ! -f "$file" ]; then
		echo "sarif_validate: $file: no such file" >&2
		status=1
		continue
	fi
	validate_one "$file"
	rc=$?
	if [ $rc -eq 3 ]; then
		status=1
	elif [ $expect_invalid = 1 ] && [ $rc -eq 0 ]; then
		echo "sarif_validate: $file: FAIL: expected the validator to reject it" >&2
		status=1
	elif [ $expect_invalid = 0 ] && [ $rc -ne 0 ]; then
		echo "sarif_validate: $file: FAIL: not valid SARIF 2.1.0 for code scanning" >&2
		status=1
	elif [ $expect_invalid = 1 ]; then
		echo "sarif_validate: $file: rejected, as expected"
	fi
done
exit $status

# tool_install.sh - sourced (bash) by the tests that need a program the
# machine may lack (html_chromium.sh: Chromium; sarif_validate.sh: Node.js,
# npm and the SARIF Multitool): may they install it, installing Debian
# packages, and what happens when the program cannot be had.
#
# A test installs a missing program only when all of these hold:
#   - LAB_TOOL_INSTALL=1 in its environment: ctest sets it from the CMake
#     option LAB_INSTALL_TEST_TOOLS, which the `test` preset (the README's
#     test command, CI) turns on; the other presets, and a script run by
#     hand, install nothing;
#   - LAB_NO_INSTALL is not 1 (the opt-out, at configure or test time);
#   - for Debian packages: root, and apt-get is there.
# Configuring prints the same decision for each tool
# (cmake/LabTestTools.cmake).  When the program cannot be had the test is
# skipped (exit 77, ctest SKIP_RETURN_CODE) with the reason, except under
# CI=true, where it fails (exit 1): CI must run every test.
#
# The caller sets `me` (its name, for messages).

# lab_may_install: 0 when this test may install; else 1, with the reason
# in lab_no_install_why.
lab_may_install()
{
	if [ "${LAB_NO_INSTALL:-0}" = 1 ]; then
		lab_no_install_why="LAB_NO_INSTALL=1"
	elif [ "${LAB_TOOL_INSTALL:-0}" != 1 ]; then
		lab_no_install_why="LAB_INSTALL_TEST_TOOLS is OFF in this configuration: the test preset turns it on, -DLAB_INSTALL_TEST_TOOLS=ON too"
	else
		return 0
	fi
	return 1
}

# lab_may_apt: lab_may_install, and root with apt-get.
lab_may_apt()
{
	lab_may_install || return 1
	if [ "$(id -u)" != 0 ]; then
		lab_no_install_why="not root"
	elif ! command -v apt-get >/dev/null 2>&1; then
		lab_no_install_why="no apt-get"
	else
		return 0
	fi
	return 1
}

# lab_apt_install LOG PACKAGE...: installs Debian packages, saying so
# first; apt-get update only when the first attempt fails (the package
# lists may simply be missing in a fresh container).  0 when it worked;
# else the end of apt-get's output is printed.  Call lab_may_apt first.
lab_apt_install()
{
	local log=$1
	shift
	local apt=(apt-get -y -q --no-install-recommends
		   -o DPkg::Lock::Timeout=300 install "$@")

	echo "$me: installing the Debian packages $* with apt-get (root," \
	     "LAB_INSTALL_TEST_TOOLS=ON; LAB_NO_INSTALL=1 skips instead);" \
	     "this may take a few minutes..." >&2
	export DEBIAN_FRONTEND=noninteractive
	if ! "${apt[@]}" >"$log" 2>&1; then
		echo "$me: apt-get install failed; running apt-get update first" >&2
		if ! apt-get -q -o DPkg::Lock::Timeout=300 update >>"$log" 2>&1 ||
		   ! "${apt[@]}" >>"$log" 2>&1; then
			echo "$me: installing $* failed; the end of the" \
			     "apt-get output:" >&2
			tail -n 15 "$log" >&2
			return 1
		fi
	fi
	echo "$me: installed $*" >&2
}

# lab_tool_unavailable REASON: this test cannot run here.  Skipped (77),
# or under CI=true failed (1).  Does not return.
lab_tool_unavailable()
{
	echo "$me: cannot run here: $*" >&2
	if [ "${CI:-}" = true ]; then
		echo "$me: CI=true, so this is a failure" >&2
		exit 1
	fi
	echo "$me: SKIPPED (exit 77)" >&2
	exit 77
}

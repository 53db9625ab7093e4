#!/usr/bin/env bash
# html_chromium.sh - opens DIR/report.html in headless Chromium, offline,
# and checks the DOM the browser built from it (not the file's text): what
# a person would see is what is tested.
#
# usage: html_chromium.sh DIR [--findings N] [--sightings N] [--runs N]
#                             [--failed N] [--charts NAME,NAME,...]
#                             [--text STRING]... [--xaxis NAME:LO:HI]...
#                             [--timeout SECONDS]
#
#   --findings N   N rows tr.finding, each with its own data-signature,
#                  and the header's distinct-findings total is N
#   --sightings N  the header's total sightings is N
#   --runs N       N rows tr.run, and the header's run total is N
#   --failed N     the header's failed-run total is N
#   --charts LIST  for each name an <svg class="chart" data-chart=NAME>
#                  whose data marks (class "data") are there
#   --text S       S appears verbatim in the serialized DOM (how an
#                  escaped title must come out: "&lt;script&gt;...")
#   --xaxis N:LO:HI  the x tick labels of chart N are numbers from LO to
#                  HI, rising (a lone point's axis is real, not -1..1)
# Always: every svg.chart has a <title> and finite coordinates; the DOM
# has no <script> element; nothing in the page points outside it
# (src/href, CSS url()/@import, meta refresh); the browser's network log
# shows no request made by the page; no Content-Security-Policy violation.
#
# Chromium: $CHROMIUM, else chromium, chromium-browser, google-chrome on
# PATH.  When there is none it installs the Debian packages chromium and
# chromium-driver with apt-get only where tests may install
# (tool_install.sh: LAB_TOOL_INSTALL=1 from the test preset, LAB_NO_INSTALL
# not 1, root).  No browser: skipped, exit 77 (ctest SKIP_RETURN_CODE),
# with the reason; under CI=true a failure.
# Exit 0 all checks pass, 1 a check failed, 2 usage, 77 skipped.

set -u

me=html_chromium.sh
. "$(dirname "$0")/tool_install.sh" || exit 2

usage()
{
	sed -n 's/^# \{0,1\}//; 6,23p' "$0" >&2
	exit 2
}

dir=
expect_findings=
expect_sightings=
expect_runs=
expect_failed=
expect_charts=
expect_texts=()
expect_axes=()
budget=120

while [ $# -gt 0 ]; do
	case $1 in
	--findings) expect_findings=${2-}; shift 2 || usage ;;
	--sightings) expect_sightings=${2-}; shift 2 || usage ;;
	--runs) expect_runs=${2-}; shift 2 || usage ;;
	--failed) expect_failed=${2-}; shift 2 || usage ;;
	--charts) expect_charts=${2-}; shift 2 || usage ;;
	--text) expect_texts+=("${2-}"); shift 2 || usage ;;
	--xaxis) expect_axes+=("${2-}"); shift 2 || usage ;;
	--timeout) budget=${2-}; shift 2 || usage ;;
	-h | --help) usage ;;
	-*) echo "$me: unknown option $1" >&2; usage ;;
	*) [ -z "$dir" ] || usage; dir=$1; shift ;;
	esac
done
[ -n "$dir" ] || usage
for n in "$expect_findings" "$expect_sightings" "$expect_runs" \
	 "$expect_failed" "$budget"; do
	case $n in
	'' | *[!0-9]*) [ -z "$n" ] || { echo "$me: not a number: $n" >&2; exit 2; } ;;
	esac
done

report=$dir/report.html
if [ ! -s "$report" ]; then
	echo "$me: FAIL: $report is missing or empty (did report_fixture run?)" >&2
	exit 1
fi

# ---- finding (or installing) the browser ----------------------------------

find_chromium()
{
	local c

	if [ -n "${CHROMIUM:-}" ]; then
		command -v "$CHROMIUM" 2>/dev/null
		return
	fi
	for c in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$c" >/dev/null 2>&1; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

# Installs Chromium from the distribution where this test may (0 when it
# is then present).
install_chromium()
{
	if ! lab_may_apt; then
		chromium_why="not installed: $lab_no_install_why"
		return 1
	fi
	if ! lab_apt_install "$work/apt.log" chromium chromium-driver; then
		chromium_why="apt-get install chromium chromium-driver failed"
		return 1
	fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/lab-html-chromium.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

if ! chromium=$(find_chromium); then
	chromium_why=
	if install_chromium; then
		# apt installs into /usr/bin, which PATH may not hold
		chromium=$(PATH=$PATH:/usr/bin find_chromium)
	fi
	if [ -z "${chromium:-}" ]; then
		looked="chromium, chromium-browser, google-chrome on PATH"
		lab_tool_unavailable "no Chromium (looked for" \
			"${CHROMIUM:-$looked}); ${chromium_why:-not found after installing};" \
			"apt-get install chromium chromium-driver, or set" \
			"CHROMIUM=/path/to/chrome"
	fi
fi

# ---- rendering -------------------------------------------------------------

# file:// URL of the report: absolute, bytes outside a safe set encoded.
file_url()
{
	local path i c out=
	path=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1") || return 1
	local LC_ALL=C
	for ((i = 0; i < ${#path}; i++)); do
		c=${path:i:1}
		case $c in
		[A-Za-z0-9/._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf 'file://%s\n' "$out"
}

url=$(file_url "$report") || exit 1
dom=$work/dom.html
netlog=$work/net.json
blog=$work/chromium.log

# The host resolver maps every name to "not found": should anything try
# the network, it fails at once instead of leaving the machine or hanging;
# the network log still records the attempt.
render()
{
	timeout -k 10 "$budget" "$chromium" --headless --no-sandbox \
		--disable-gpu --disable-background-networking \
		--disable-dev-shm-usage --no-first-run --no-default-browser-check \
		--disable-extensions --disable-sync \
		--host-resolver-rules='MAP * ~NOTFOUND' \
		--user-data-dir="$work/profile" --log-net-log="$netlog" \
		--enable-logging=stderr --v=0 \
		--dump-dom "$url" >"$dom" 2>"$blog"
}

# Headless Chromium in a container now and then dies starting up: once
# more before calling it a failure.
rendered()
{
	render
	rc=$?
	[ "$rc" = 0 ] && grep -q '</html>' "$dom"
}

if ! rendered; then
	echo "$me: Chromium failed (exit $rc); trying once more"
	rm -rf "$work/profile"
	if ! rendered; then
		echo "$me: FAIL: $chromium did not render $url (exit $rc," \
		     "124 = timeout after ${budget}s); its last messages:" >&2
		grep -v -e dbus -e 'unexpected operator' "$blog" | tail -n 20 >&2
		exit 1
	fi
fi

# ---- checks ------------------------------------------------------------------

failures=0
fail()
{
	echo "$me: FAIL: $*" >&2
	failures=$((failures + 1))
}
ok()
{
	echo "$me: ok: $*"
}

# The header's totals: <dd data-total="KEY">N</dd>.
check_total()
{
	local key=$1 want=$2 got

	[ -n "$want" ] || return 0
	got=$(grep -o "data-total=\"$key\">[0-9]*<" "$dom" | head -n 1 |
	      sed 's/.*>\([0-9]*\)<$/\1/')
	if [ "$got" = "$want" ]; then
		ok "header total $key = $got"
	else
		fail "header total $key is '${got:-missing}', expected $want"
	fi
}

check_findings()
{
	local rows distinct

	rows=$(grep -o '<tr class="finding"[^>]*>' "$dom" | grep -c .)
	distinct=$(grep -o '<tr class="finding"[^>]*>' "$dom" |
		   grep -o 'data-signature="[^"]\{1,\}"' | sort -u | grep -c .)
	if [ -n "$expect_findings" ] && [ "$rows" != "$expect_findings" ]; then
		fail "$rows rows tr.finding, expected $expect_findings"
	elif [ "$distinct" != "$rows" ]; then
		fail "$rows rows tr.finding but $distinct distinct non-empty" \
		     "data-signature values"
	else
		ok "$rows finding rows, each with its own data-signature"
	fi
	check_total findings "$expect_findings"
	check_total sightings "$expect_sightings"
}

check_runs()
{
	local rows

	rows=$(grep -o '<tr class="run"' "$dom" | grep -c .)
	if [ -n "$expect_runs" ] && [ "$rows" != "$expect_runs" ]; then
		fail "$rows rows tr.run, expected $expect_runs"
	else
		ok "$rows run rows"
	fi
	check_total runs "$expect_runs"
	check_total failed "$expect_failed"
}

# One line per svg.chart: "NAME<TAB>DATA<TAB>TITLED<TAB>BADNUM" where NAME
# is data-chart unescaped, DATA is 1 when it holds a data mark (a polyline
# with at least two points, or a rect, path or circle of class "data"),
# TITLED when it has a non-empty <title>, BADNUM when a geometry attribute
# holds NaN or Infinity.
chart_table()
{
	tr '\n' ' ' <"$dom" | sed 's/<svg[ >]/\n&/g' | awk '
	/^<svg[^>]* class="chart"/ {
		s = $0
		end = index(s, "</svg>")
		if (end)
			s = substr(s, 1, end)
		name = s
		if (!match(name, /data-chart="[^"]*"/))
			name = "(unnamed)"
		else
			name = substr(name, RSTART + 12, RLENGTH - 13)
		gsub(/&lt;/, "<", name)
		gsub(/&gt;/, ">", name)
		gsub(/&quot;/, "\"", name)
		gsub(/&#39;/, "\047", name)
		gsub(/&amp;/, "\\&", name)
		data = s ~ /<polyline[^>]* class="data"[^>]* points="[-0-9.]+,[-0-9.]+ +[-0-9.]+,[-0-9.]+/ ||
		       s ~ /<polyline[^>]* points="[-0-9.]+,[-0-9.]+ +[-0-9.]+,[-0-9.]+[^>]* class="data"/ ||
		       s ~ /<(rect|path|circle)[^>]* class="data"/
		titled = s ~ /<title>[^<]+<\/title>/
		bad = s ~ / (x|y|x1|x2|y1|y2|cx|cy|r|width|height|points|d|transform|viewBox)="[^"]*([Nn]a[Nn]|[Ii]nf)/
		printf "%s\t%d\t%d\t%d\n", name, data, titled, bad
	}'
}

# Names of the charts in the table whose column col is 1 (or not 1).
charts_where()
{
	printf '%s\n' "$1" | awk -F'\t' -v c="$2" -v v="$3" \
		'($c == 1) == v { printf "%s ", $1 }'
}

check_charts()
{
	local table name n total withdata bad

	table=$(chart_table)
	if [ -z "$table" ]; then
		fail "no <svg class=\"chart\"> in the page"
		return
	fi
	n=$(printf '%s\n' "$table" | grep -c .)
	ok "$n charts in the page"
	bad=$(charts_where "$table" 3 0)
	[ -z "$bad" ] || fail "charts without a <title>: $bad"
	bad=$(charts_where "$table" 4 1)
	[ -z "$bad" ] || fail "charts with a NaN or Infinity coordinate: $bad"
	for name in ${expect_charts//,/ }; do
		total=$(printf '%s\n' "$table" |
			awk -F'\t' -v n="$name" '$1 == n' | grep -c .)
		withdata=$(printf '%s\n' "$table" |
			   awk -F'\t' -v n="$name" '$1 == n && $2 == 1' | grep -c .)
		if [ "$total" = 0 ]; then
			fail "no chart data-chart=\"$name\""
		elif [ "$withdata" = 0 ]; then
			fail "chart $name ($total of them) has no data marks"
		else
			ok "chart $name: $withdata of $total with data"
		fi
	done
}

# An escaped <script> in a field must stay text: the page itself has no
# script, so any element is an injection.
check_scripts()
{
	if grep -qi '<script' "$dom"; then
		fail "the DOM holds a <script> element:" \
		     "$(grep -oi '<script[^<]*' "$dom" | head -n 3)"
	else
		ok "no <script> element in the DOM"
	fi
}

check_texts()
{
	local t

	for t in "${expect_texts[@]}"; do
		if grep -qF -- "$t" "$dom"; then
			ok "text present: $t"
		else
			fail "text not in the DOM: $t"
		fi
	done
}

# The x tick labels of chart $1, in order, one a line: the unclassed
# middle-anchored <text> elements (axis titles and headings have a class).
x_ticks()
{
	tr '\n' ' ' <"$dom" | sed 's/<svg[ >]/\n&/g' |
		grep -F "data-chart=\"$1\"" | sed 's:</svg>.*::' |
		grep -oE '<text x="[^"]*" y="[^"]*" text-anchor="middle">[^<]*</text>' |
		sed 's/.*">\([^<]*\)<\/text>$/\1/'
}

check_axes()
{
	local a name lo hi ticks

	for a in "${expect_axes[@]}"; do
		IFS=: read -r name lo hi <<<"$a"
		ticks=$(x_ticks "$name" | tr '\n' ' ')
		if [ -z "$ticks" ]; then
			fail "chart $name: no x tick labels"
		elif ! awk -v lo="$lo" -v hi="$hi" '{
			for (i = 1; i <= NF; i++) {
				if ($i !~ /^-?[0-9.]+$/ || (i > 1 && $i + 0 <= $(i - 1) + 0))
					exit 1
			}
			exit !($1 + 0 == lo + 0 && $NF + 0 == hi + 0)
		}' <<<"$ticks"; then
			fail "chart $name: x ticks '$ticks', expected $lo rising to $hi"
		else
			ok "chart $name: x ticks $ticks"
		fi
	done
}

# References out of the page: in tags (not text, which may well mention a
# URL), anything but "#fragment" and "data:" in a src/href-like attribute;
# in style sheets, url() and @import; a meta refresh.
external_refs()
{
	local f=$1

	tr '\n' ' ' <"$f" | grep -oE '<[A-Za-z][^>]*>' |
		grep -oiE "[ \"'](src|srcset|href|xlink:href|action|formaction|poster|data|background|ping|manifest)=(\"[^\"]*\"|'[^']*'|[^ >]+)" |
		grep -viE "=[\"']?(#|data:)"
	tr '\n' ' ' <"$f" | grep -oiE '<style[^>]*>[^<]*' |
		grep -oiE '(url\(|@import)[^;]{0,60}'
	tr '\n' ' ' <"$f" | grep -oiE '<meta[^>]*http-equiv="?refresh[^>]*>'
}

check_offline()
{
	local refs

	refs=$( (external_refs "$report"; external_refs "$dom") | sort -u)
	if [ -n "$refs" ]; then
		fail "the page refers outside itself:" $'\n'"$refs"
	else
		ok "no external references in the file or the DOM"
	fi
	if [ ! -s "$netlog" ]; then
		echo "$me: note: no network log from Chromium; request check skipped"
	# requests of the page carry its (file://) network isolation key;
	# Chromium's own background requests do not
	elif refs=$(grep '"network_isolation_key":"file://' "$netlog" |
		    grep -oE '"url":"[a-zA-Z][a-zA-Z0-9+.-]*:[^"]*"' |
		    grep -vE '"url":"(file|data|about|blob):' | sort -u) &&
	     [ -n "$refs" ]; then
		fail "the page made network requests:" $'\n'"$refs"
	else
		ok "the page made no network request"
	fi
	if grep -q 'Content Security Policy' "$blog"; then
		fail "Content-Security-Policy violations:" $'\n'"$(grep 'Content Security Policy' "$blog" | head -n 5)"
	fi
}

echo "$me: $chromium rendered $url"
check_findings
check_runs
check_charts
check_scripts
check_texts
check_axes
check_offline

if [ "$failures" -ne 0 ]; then
	echo "$me: $failures check(s) failed; the DOM dump is kept in" \
	     "$dir/report.dom.html" >&2
	cp "$dom" "$dir/report.dom.html"
	exit 1
fi
echo "$me: all checks passed"

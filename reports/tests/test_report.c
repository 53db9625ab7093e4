/* test_report.c - finding and run records: the JSON reader on good and
 * hostile input, records written and read back, deduplication, sanitizer
 * summaries and stack frames, directory ingest with bad files, libFuzzer
 * logs, the merged findings.json, series bounds. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "json_in.h"
#include "record.h"

static char scratch[PATH_MAX];

static void write_file(const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	f = fopen(path, "w");
	CHECK(f);
	fputs(text, f);
	CHECK(!fclose(f));
}

static void path_of(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", scratch, name);
}

/* ---- the JSON reader -------------------------------------------------------- */

static void test_json_valid(void)
{
	static const char doc[] =
		"{\"a\": [1, -2.5e3, true, false, null], \"s\": "
		"\"x\\u00e9\\ud83d\\ude00\\n\", \"o\": {}}";
	struct lab_jval v;
	char err[200];
	const struct lab_jval *a, *s;

	CHECK(!lab_json_parse(doc, strlen(doc), &v, err, sizeof(err)));
	a = lab_json_get(&v, "a");
	CHECK(a && a->type == LAB_J_ARR && a->n == 5);
	CHECK(a->kids[1].num == -2500.0);
	CHECK(a->kids[2].type == LAB_J_BOOL && a->kids[2].b);
	CHECK(a->kids[3].type == LAB_J_BOOL && !a->kids[3].b);
	CHECK(a->kids[4].type == LAB_J_NULL);
	s = lab_json_get(&v, "s");
	CHECK(s && !strcmp(s->str, "x\xc3\xa9\xf0\x9f\x98\x80\n"));
	CHECK(lab_json_get(&v, "o")->type == LAB_J_OBJ);
	CHECK(!lab_json_get(&v, "missing"));
	lab_json_free(&v);
}

/* Every one of these is refused with a message naming line and column. */
static void test_json_hostile(void)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"a\" 1}",
		"[1,]",
		"[1 2]",
		"\"abc",
		"\"\\q\"",
		"\"\\u12\"",
		"\"\\ud800\"",
		"\"\\udc00\"",
		"\"\\u0000\"",
		"\"a\tb\"",
		"01",
		"1.",
		"-",
		"1e",
		"1e999",
		"tru",
		"nul",
		"{} x",
		"{1: 2}",
		"[\"a\",",
		"{\"a\":}",
	};
	char deep[200], err[200];
	struct lab_jval v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!lab_json_parse(bad[i], strlen(bad[i]), &v, err,
				    sizeof(err))) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			CHECK(!"a bad document was accepted");
		}
		CHECK(strstr(err, "line 1 column"));
	}
	memset(deep, '[', sizeof(deep));
	CHECK(lab_json_parse(deep, sizeof(deep), &v, err, sizeof(err)));
	CHECK(strstr(err, "nested deeper"));
	/* a failed load leaves *v freeable, whatever it held before */
	memset(&v, 0xa5, sizeof(v));
	CHECK(lab_json_load("/no/such/file.json", &v, err, sizeof(err)));
	CHECK(strstr(err, "No such file"));
	lab_json_free(&v);
	memset(&v, 0xa5, sizeof(v));
	CHECK(lab_json_parse("[1,", 3, &v, err, sizeof(err)));
	lab_json_free(&v);
	/* not NUL-terminated: the reader stays inside the length */
	CHECK(!lab_json_parse("[1]xxxx", 3, &v, err, sizeof(err)));
	lab_json_free(&v);
}

/* ---- records ------------------------------------------------------------------ */

static void fill_rec(struct lab_rec *r)
{
	lab_rec_init(r, LAB_KIND_DATA_RACE, "data-race");
	snprintf(r->title, sizeof(r->title),
		 "race \"quoted\" <b>\\ caf\xc3\xa9 \xff bad byte");
	snprintf(r->tool, sizeof(r->tool), "stress-controlled");
	snprintf(r->seed, sizeof(r->seed), "18446744073709551615");
	snprintf(r->reproduce, sizeof(r->reproduce), "labyrinth replay 'a b'");
	r->first_seen = 1795000000;
	r->last_seen = 1795000100;
	r->count = 3;
	r->step = 77;
	r->thread = 2;
	snprintf(r->frames[0].function, sizeof(r->frames[0].function),
		 "lab_pcp_pop");
	snprintf(r->frames[0].file, sizeof(r->frames[0].file),
		 "allocator/src/pcp.c");
	r->frames[0].line = 57;
	r->nframes = 1;
	r->site = r->frames[0];
	lab_rec_add_op(r, "t0: alloc order 0 GFP_KERNEL");
	lab_rec_add_op(r, "t1: interrupt");
	snprintf(r->excerpt, sizeof(r->excerpt), "line 1\nline 2\n");
	lab_rec_sign(r, NULL);
}

static void test_rec_roundtrip(void)
{
	struct lab_rec a, b;
	char path[PATH_MAX + 64], err[600];

	fill_rec(&a);
	CHECK(!strcmp(a.signature, "data-race/data-race@lab_pcp_pop"));
	path_of("finding-1.json", path, sizeof(path));
	CHECK(!lab_rec_write(path, &a));
	CHECK(!lab_rec_read(path, &b, err, sizeof(err)));
	CHECK(b.kind == a.kind && b.count == 3 && b.step == 77);
	CHECK(b.thread == 2 && b.first_seen == a.first_seen);
	CHECK(!strcmp(b.signature, a.signature));
	CHECK(!strcmp(b.seed, "18446744073709551615"));
	CHECK(!strcmp(b.reproduce, a.reproduce));
	CHECK(!strcmp(b.excerpt, a.excerpt));
	CHECK(b.nframes == 1 && b.frames[0].line == 57);
	CHECK(b.nops == 2 && !strcmp(b.ops[1], "t1: interrupt"));
	/* valid UTF-8 survives exactly; a stray byte becomes U+FFFD */
	CHECK(strstr(b.title, "caf\xc3\xa9 \xef\xbf\xbd bad byte"));
	CHECK(strstr(b.title, "\"quoted\" <b>\\"));
}

/* Corrupt, truncated, unknown version, wrong types: one message each,
 * naming the file and what is wrong. */
static void test_rec_bad_files(void)
{
	static const struct {
		const char *text, *says;
	} cases[] = {
		{ "not json", "line 1" },
		{ "{\"format\": \"labyrinth-finding\", \"version\": 1, \"kind\"",
		  "line 1" },
		{ "{\"format\": \"labyrinth-finding\", \"version\": 2}",
		  "unknown version" },
		{ "{\"format\": \"something-else\", \"version\": 1}",
		  "format" },
		{ "[]", "not a JSON object" },
		{ "{\"format\": \"labyrinth-finding\", \"version\": 1, "
		  "\"kind\": \"weird\"}",
		  "unknown kind" },
		{ "{\"format\": \"labyrinth-finding\", \"version\": 1, "
		  "\"kind\": \"crash\", \"signature\": \"x\", \"count\": -1, "
		  "\"first_seen\": \"2026-11-22T00:00:00Z\", "
		  "\"last_seen\": \"2026-11-22T00:00:00Z\"}",
		  "count" },
		{ "{\"format\": \"labyrinth-finding\", \"version\": 1, "
		  "\"kind\": \"crash\", \"signature\": \"x\", \"count\": 1, "
		  "\"first_seen\": \"yesterday\", "
		  "\"last_seen\": \"2026-11-22T00:00:00Z\"}",
		  "first_seen" },
		{ "{\"format\": \"labyrinth-finding\", \"version\": 1, "
		  "\"kind\": \"crash\", \"signature\": 5}",
		  "signature" },
	};
	char path[PATH_MAX + 64], err[600];
	struct lab_rec r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file("finding-bad.json", cases[i].text);
		path_of("finding-bad.json", path, sizeof(path));
		CHECK(lab_rec_read(path, &r, err, sizeof(err)) == -1);
		CHECK(strstr(err, path));
		if (!strstr(err, cases[i].says)) {
			fprintf(stderr, "case %zu: %s\n", i, err);
			CHECK(!"the message does not say what is wrong");
		}
	}
	path_of("no-such-file.json", path, sizeof(path));
	CHECK(lab_rec_read(path, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "No such file"));
	unlink(path);
}

/* ---- deduplication ------------------------------------------------------------- */

static void test_dedupe(void)
{
	struct lab_report_set s;
	struct lab_rec a, b;

	lab_set_init(&s);
	fill_rec(&a);
	b = a;
	b.first_seen = 1794999000; /* earlier */
	b.last_seen = 1795000500;  /* and later */
	b.count = 2;
	b.step = 5;
	b.seed[0] = '1';
	CHECK(!lab_set_add(&s, &a));
	CHECK(!lab_set_add(&s, &b));
	CHECK_EQ_U64(s.nrecs, 1);
	CHECK_EQ_U64(s.recs[0].count, 5);
	CHECK(s.recs[0].first_seen == 1794999000);
	CHECK(s.recs[0].last_seen == 1795000500);
	CHECK_EQ_U64(s.recs[0].step, 5); /* the latest sighting's details */
	/* another signature is another finding */
	b.kind = LAB_KIND_INVARIANT;
	lab_rec_sign(&b, NULL);
	CHECK(!lab_set_add(&s, &b));
	CHECK_EQ_U64(s.nrecs, 2);
	lab_set_free(&s);
}

/* ---- sanitizer summaries and frames ------------------------------------------------ */

static void test_summaries(void)
{
	struct lab_rec r;

	lab_rec_init(&r, LAB_KIND_CRASH, "");
	CHECK(lab_rec_from_summary(&r, "SUMMARY: ThreadSanitizer: data race "
				       "/home/u/labyrinth/allocator/src/pcp.c:"
				       "57 in lab_pcp_pop"));
	CHECK(r.kind == LAB_KIND_DATA_RACE && !strcmp(r.check, "data-race"));
	CHECK(!strcmp(r.site.file, "allocator/src/pcp.c"));
	CHECK(r.site.line == 57 && !strcmp(r.site.function, "lab_pcp_pop"));

	lab_rec_init(&r, LAB_KIND_CRASH, "");
	CHECK(lab_rec_from_summary(&r, "SUMMARY: AddressSanitizer: "
				       "heap-use-after-free /x/fuzz/f.c:12:3 "
				       "in fz_op"));
	CHECK(r.kind == LAB_KIND_MEMORY_ERROR);
	CHECK(!strcmp(r.check, "heap-use-after-free"));
	CHECK(!strcmp(r.site.file, "fuzz/f.c") && r.site.line == 12);

	lab_rec_init(&r, LAB_KIND_CRASH, "");
	CHECK(lab_rec_from_summary(&r, "SUMMARY: AddressSanitizer: 24 byte(s) "
				       "leaked in 1 allocation(s)."));
	CHECK(r.kind == LAB_KIND_LEAK && !strcmp(r.check, "leak"));

	lab_rec_init(&r, LAB_KIND_CRASH, "");
	CHECK(lab_rec_from_summary(&r, "SUMMARY: UndefinedBehaviorSanitizer: "
				       "undefined-behavior /a/allocator/src/"
				       "buddy.c:90:5 in"));
	CHECK(r.kind == LAB_KIND_UNDEFINED && r.site.line == 90);

	lab_rec_init(&r, LAB_KIND_CRASH, "");
	CHECK(lab_rec_from_summary(&r, "SUMMARY: libFuzzer: deadly signal"));
	CHECK(r.kind == LAB_KIND_CRASH);
	CHECK(!lab_rec_from_summary(&r, "nothing to see"));
}

static void test_frames(void)
{
	struct lab_site s;

	CHECK(lab_site_parse_frame("    #1 0x55d0 in lab_free_pages "
				   "/src/labyrinth/allocator/src/free.c:150:3",
				   &s));
	CHECK(!strcmp(s.function, "lab_free_pages") && s.line == 150);
	CHECK(!strcmp(s.file, "allocator/src/free.c"));
	CHECK(lab_site_parse_frame("    #0 lab_pcp_pop /w/allocator/src/"
				   "pcp.c:57 (labyrinth-tsan+0x1234)",
				   &s));
	CHECK(!strcmp(s.function, "lab_pcp_pop"));
	/* runtimes, libc and libFuzzer are not the project's frames */
	CHECK(!lab_site_parse_frame("    #0 0x1 in __tsan_write8 "
				    "/llvm/tsan_rtl.cpp:10",
				    &s));
	CHECK(!lab_site_parse_frame("    #3 0x7f in abort (/lib/libc.so+0x1)",
				    &s));
	CHECK(!lab_site_parse_frame("    #2 0x1 in fuzzer::Fuzzer::RunOne "
				    "/llvm/fuzzer/FuzzerLoop.cpp:5",
				    &s));
	CHECK(!lab_site_parse_frame("no frame here", &s));
}

/* ---- ingest ---------------------------------------------------------------------- */

static const char fuzz_log[] =
	"INFO: Seed: 424242\n"
	"#2\tINITED cov: 100 ft: 120 corp: 3/30b exec/s: 0 rss: 30Mb\n"
	"#1024\tpulse  cov: 150 ft: 200 corp: 5/60b lim: 4 exec/s: 512 rss: "
	"31Mb\n"
	"#4096\tNEW    cov: 180 ft: 260 corp: 6/70b lim: 4 exec/s: 1024 rss: "
	"32Mb\n"
	"==123==ERROR: AddressSanitizer: heap-use-after-free on address "
	"0x602\n"
	"WRITE of size 8 at 0x602 thread T0\n"
	"    #0 0x5 in __asan_memset /llvm/asan_interceptors.cpp:26\n"
	"    #1 0x6 in lab_poison_page /w/allocator/src/check.c:40:2\n"
	"    #2 0x7 in lab_free_pages /w/allocator/src/free.c:150:3\n"
	"    #3 0x8 in fz_op_free /w/fuzz/fuzz_ops.c:300:2\n"
	"    #4 0x9 in LLVMFuzzerTestOneInput /w/fuzz/fuzz_ops.c:1550:3\n"
	"\n"
	"SUMMARY: AddressSanitizer: heap-use-after-free "
	"/w/allocator/src/check.c:40:2 in lab_poison_page\n"
	"artifact_prefix='./'; Test unit written to ./crash-abc\n";

static void test_ingest(void)
{
	struct lab_report_set s;
	char path[PATH_MAX + 64];
	struct lab_rec good;
	const struct lab_rec *r = NULL;
	size_t i;

	fill_rec(&good);
	path_of("finding-2.json", path, sizeof(path));
	CHECK(!lab_rec_write(path, &good));
	write_file("finding-3.json", "{\"format\": \"labyrinth-finding\", "
				     "\"version\": 99}");
	write_file("run-x.json", "{ truncated");
	write_file("fuzz-campaign.log", fuzz_log);
	write_file("unrelated.log", "make: nothing to be done\n");
	write_file("findings.json", "corrupt but skipped: records exist");
	lab_set_init(&s);
	CHECK(!lab_set_ingest(&s, scratch));
	/* finding-1.json (round trip) and -2 are one signature; the bad
	 * finding-bad.json, finding-3 and run-x are skipped */
	CHECK(s.files_bad >= 3);
	CHECK_EQ_U64(s.nruns, 1); /* the libFuzzer campaign */
	CHECK(s.runs[0].nseries == 2);
	CHECK(!strcmp(s.runs[0].series[0].name, "exec/s"));
	CHECK(!strcmp(s.runs[0].seed, "424242"));
	CHECK(!strcmp(s.runs[0].result, "fail"));
	for (i = 0; i < s.nrecs; i++)
		if (s.recs[i].kind == LAB_KIND_MEMORY_ERROR)
			r = &s.recs[i];
	CHECK(r);
	CHECK(!strcmp(r->check, "heap-use-after-free"));
	CHECK(r->nframes == 3);
	CHECK(!strcmp(r->signature, "memory-error/heap-use-after-free@"
				    "lab_poison_page>lab_free_pages>"
				    "fz_op_free"));
	CHECK(strstr(r->artifact, "crash-abc"));
	CHECK(strstr(r->excerpt, "WRITE of size 8"));
	CHECK_EQ_U64(s.nrecs, 2);
	CHECK(lab_set_ingest(&s, "/no/such/dir") == -ENOENT);
	lab_set_free(&s);
	path_of("unrelated.log", path, sizeof(path));
	unlink(path);
}

static void test_merged_roundtrip(void)
{
	struct lab_report_set s, t;
	struct lab_runrec run;
	char path[PATH_MAX + 64], err[600];
	struct lab_rec a;
	FILE *f;
	int i;

	lab_set_init(&s);
	fill_rec(&a);
	CHECK(!lab_set_add(&s, &a));
	lab_runrec_init(&run, "stress-free");
	snprintf(run.id, sizeof(run.id), "run-1");
	run.started = 1795000000;
	run.ended = 1795000060;
	for (i = 0; i < 1000; i++)
		lab_series_add(lab_runrec_series(&run, "ops/s"), i * 0.5, i);
	CHECK(run.series[0].n <= LAB_SERIES_POINTS);
	CHECK(run.series[0].t[run.series[0].n - 1] > 400); /* whole shape */
	CHECK(!lab_set_add_run(&s, &run));
	snprintf(path, sizeof(path), "%s/merged", scratch);
	CHECK(!lab_mkdir_p(path));
	strcat(path, "/findings.json");
	f = fopen(path, "w");
	CHECK(f && !lab_render_findings_json(f, &s) && !fclose(f));
	lab_set_init(&t);
	CHECK(!lab_set_read_merged(&t, path, err, sizeof(err)));
	CHECK_EQ_U64(t.nrecs, 1);
	CHECK_EQ_U64(t.nruns, 1);
	CHECK_EQ_U64(t.recs[0].count, 3);
	CHECK(t.runs[0].series[0].n == run.series[0].n);
	lab_set_free(&t);
	lab_set_free(&s);
}

/* ---- values in error lines, skipped paths, publishing ------------------------ */

static void test_shown(void)
{
	struct lab_shown sh;
	char long_value[5001];

	CHECK(!strcmp(lab_shown("a\nb\x1b[1m\\\t\r\x7f", &sh),
		      "'a\\nb\\x1b[1m\\\\\\t\\r\\x7f'"));
	CHECK(!strcmp(lab_shown("", &sh), "''"));
	CHECK(!strcmp(lab_shown(NULL, &sh), "(none)"));
	memset(long_value, 'x', 5000);
	long_value[0] = 'A';
	long_value[4999] = 'Z';
	long_value[5000] = '\0';
	lab_shown(long_value, &sh);
	CHECK(strlen(sh.s) < 100);
	CHECK(!strncmp(sh.s, "'Axxx", 5));
	CHECK(strstr(sh.s, "...xxx"));
	CHECK(strstr(sh.s, "xxZ' (5000 bytes)"));
	memset(long_value, '\n', 5000); /* worst case: every byte escaped */
	lab_shown(long_value, &sh);
	CHECK(strstr(sh.s, "\\n\\n' (5000 bytes)") && !strchr(sh.s, '\n'));
}

/* Each path given by name that adds nothing is counted as skipped. */
static void test_ingest_skips(void)
{
	struct lab_report_set s;
	char path[PATH_MAX + 64];
	int i;

	lab_set_init(&s);
	path_of("skips", path, sizeof(path));
	CHECK(!mkdir(path, 0777));
	CHECK(!lab_set_ingest(&s, path)); /* empty directory */
	CHECK_EQ_U64(s.files_bad, 1);
	write_file("skips/artifact-1.lab", "labyrinth-artifact 1\n");
	path_of("skips/artifact-1.lab", path, sizeof(path));
	CHECK(!lab_set_ingest(&s, path)); /* an artifact, named */
	CHECK_EQ_U64(s.files_bad, 2);
	write_file("skips/build.log", "make: nothing to be done\n");
	path_of("skips/build.log", path, sizeof(path));
	CHECK(!lab_set_ingest(&s, path)); /* not a libFuzzer log */
	CHECK_EQ_U64(s.files_bad, 3);
	path_of("skips/deep", path, sizeof(path));
	for (i = 0; i < 14; i++) { /* below the walk's depth bound */
		CHECK(!mkdir(path, 0777));
		strcat(path, "/d");
	}
	path_of("skips", path, sizeof(path));
	CHECK(!lab_set_ingest(&s, path)); /* one too deep: named, counted */
	CHECK_EQ_U64(s.files_bad, 4);
	CHECK_EQ_U64(s.files_read, 0);
	lab_set_free(&s);
}

/* The file's bytes (malloc'ed), or NULL. */
static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static const char *const renderings[] = { "findings.json", "summary.md",
					  "report.sarif", "junit.xml",
					  "report.html" };
#define NRENDERINGS (sizeof(renderings) / sizeof(renderings[0]))

static void read_renderings(const char *dir, char *out[NRENDERINGS])
{
	char path[PATH_MAX + 64];
	size_t i;

	for (i = 0; i < NRENDERINGS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, renderings[i]);
		out[i] = read_all(path);
		CHECK(out[i]);
	}
}

static bool same_renderings(char *a[NRENDERINGS], char *b[NRENDERINGS])
{
	size_t i;

	for (i = 0; i < NRENDERINGS; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static void free_renderings(char *r[NRENDERINGS])
{
	size_t i;

	for (i = 0; i < NRENDERINGS; i++)
		free(r[i]);
}

/* The staging directory of a process that is gone. */
static void make_stale_stage(const char *dir, char *stage, size_t len)
{
	char file[PATH_MAX + 96];
	pid_t pid = fork();

	CHECK(pid >= 0);
	if (!pid)
		_exit(0);
	CHECK(waitpid(pid, NULL, 0) == pid);
	snprintf(stage, len, "%s/.render-%ld", dir, (long)pid);
	CHECK(!mkdir(stage, 0777));
	snprintf(file, sizeof(file), "%s/report.html", stage);
	FILE *f = fopen(file, "w");
	CHECK(f && fputs("half", f) >= 0 && !fclose(f));
}

/* A publish that cannot write every rendering (a file size limit plays
 * the full disk: findings.json fits, report.html does not) leaves the old
 * set whole; the next one replaces all five; other files are kept. */
static void test_publish(void)
{
	struct lab_report_set a, b;
	char dir[PATH_MAX], probe[PATH_MAX], stage[PATH_MAX + 64];
	char path[PATH_MAX + 64], *old[NRENDERINGS], *want[NRENDERINGS];
	char *now[NRENDERINGS], *notes;
	struct lab_rec r;
	struct rlimit lim, saved;
	struct stat st;

	fill_rec(&r);
	lab_set_init(&a);
	CHECK(!lab_set_add(&a, &r));
	lab_set_init(&b);
	CHECK(!lab_set_add(&b, &r));
	snprintf(r.check, sizeof(r.check), "other-check");
	lab_rec_sign(&r, NULL);
	CHECK(!lab_set_add(&b, &r));
	path_of("pub", dir, sizeof(dir));
	path_of("pub-probe", probe, sizeof(probe));
	CHECK(!lab_report_publish(&b, probe));
	read_renderings(probe, want);
	CHECK(!lab_report_publish(&a, dir));
	read_renderings(dir, old);
	CHECK(!same_renderings(old, want));
	write_file("pub/notes.txt", "the user's");
	make_stale_stage(dir, stage, sizeof(stage));

	CHECK(!getrlimit(RLIMIT_FSIZE, &saved));
	lim = saved;
	lim.rlim_cur = strlen(want[0]) + 16; /* findings.json, not all */
	CHECK(strlen(want[NRENDERINGS - 1]) > lim.rlim_cur);
	signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of a signal */
	CHECK(!setrlimit(RLIMIT_FSIZE, &lim));
	CHECK(lab_report_publish(&b, dir) < 0);
	CHECK(!setrlimit(RLIMIT_FSIZE, &saved));
	read_renderings(dir, now);
	CHECK(same_renderings(now, old)); /* the old set, all of it */
	free_renderings(now);
	CHECK(stat(stage, &st) && errno == ENOENT); /* the dead one's: gone */
	snprintf(path, sizeof(path), "%s/.render-%ld", dir, (long)getpid());
	CHECK(stat(path, &st) && errno == ENOENT);

	CHECK(!lab_report_publish(&b, dir));
	read_renderings(dir, now);
	CHECK(same_renderings(now, want)); /* the new set, all of it */
	path_of("pub/notes.txt", path, sizeof(path));
	notes = read_all(path);
	CHECK(notes && !strcmp(notes, "the user's"));
	free(notes);
	free_renderings(now);
	free_renderings(old);
	free_renderings(want);
	lab_set_free(&a);
	lab_set_free(&b);
}

/* report.html of s, as one string (malloc'ed). */
static char *html_of(const struct lab_report_set *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f);
	CHECK(!lab_render_html(f, s));
	CHECK(!fclose(f));
	return buf;
}

/* The <svg> of chart name in html, cut out (malloc'ed). */
static char *chart_of(const char *html, const char *name)
{
	char key[96];
	const char *a, *b;

	snprintf(key, sizeof(key), "data-chart=\"%s\"", name);
	a = strstr(html, key);
	CHECK(a);
	b = strstr(a, "</svg>");
	CHECK(b);
	return strndup(a, (size_t)(b - a));
}

static void add_run(struct lab_report_set *s, const char *tool,
		    const char *command, int64_t start, int64_t end)
{
	struct lab_runrec run;

	lab_runrec_init(&run, tool);
	snprintf(run.id, sizeof(run.id), "%s-%lld", tool, (long long)start);
	snprintf(run.command, sizeof(run.command), "%s", command);
	snprintf(run.seed, sizeof(run.seed), "777");
	snprintf(run.result, sizeof(run.result), "fail");
	run.started = start;
	run.ended = end;
	CHECK(!lab_set_add_run(s, &run));
}

/* One finding: the findings chart's time axis is a real span around it
 * (a minute, or the runs' window holding it), never -1..1; a stress
 * run's command shows the seed it ran with. */
static void test_html_lone_finding(void)
{
	struct lab_report_set s;
	struct lab_rec r;
	char *html, *chart;

	fill_rec(&r); /* first seen 1795000000 = 2026-11-18T11:06:40Z */
	lab_set_init(&s);
	CHECK(!lab_set_add(&s, &r));
	html = html_of(&s);
	chart = chart_of(html, "findings-over-time");
	CHECK(!strstr(chart, ">-1</text>") && !strstr(chart, ">-0.5</text>"));
	CHECK(strstr(chart, ">0</text>") && strstr(chart, ">60</text>"));
	CHECK(strstr(chart, "seconds since 2026-11-18T11:06:10Z"));
	free(chart);
	free(html);

	add_run(&s, "stress-free", "labyrinth stress --mode free",
		1795000000 - 100, 1795000000 + 20);
	add_run(&s, "stress-free", "labyrinth stress --seed=5", 1794999950,
		1794999960);
	add_run(&s, "fuzz_ops", "libFuzzer log x.log", 1794999950, 1794999960);
	html = html_of(&s);
	chart = chart_of(html, "findings-over-time");
	CHECK(strstr(chart, "seconds since 2026-11-18T11:05:00Z"));
	CHECK(!strstr(chart, ">-1</text>"));
	free(chart);
	CHECK(strstr(html, "<code>labyrinth stress --mode free --seed 777"
			   "</code>"));
	CHECK(strstr(html, "<code>labyrinth stress --seed=5</code>"));
	CHECK(strstr(html, "<code>libFuzzer log x.log</code>"));
	CHECK(strstr(html, "<td class=\"num seed\">777</td>"));
	free(html);
	lab_set_free(&s);
}

int main(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(scratch, sizeof(scratch), "%s/lab-report-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	CHECK(mkdtemp(scratch));
	test_json_valid();
	test_json_hostile();
	test_rec_roundtrip();
	test_rec_bad_files();
	test_dedupe();
	test_summaries();
	test_frames();
	test_ingest();
	test_merged_roundtrip();
	test_shown();
	test_ingest_skips();
	test_publish();
	test_html_lone_finding();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	CHECK(!system(cmd));
	printf("test_report: all passed\n");
	return 0;
}

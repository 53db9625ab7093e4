/* record.h - the finding and run records every tool of labyrinth writes,
 * and the set `labyrinth report` merges and renders.
 *
 *   record.c    kinds, signatures, source sites; records <-> JSON files
 *   json_out.c  JSON writing (strings always valid, ASCII-only)
 *   json_in.c   a small bounded JSON reader (no recursion limit surprises)
 *   ingest.c    reading directories: record files, libFuzzer logs
 *   capture.c   in-process capture of sanitizer reports
 *   render_*.c  Markdown, SARIF 2.1.0, JUnit XML, self-contained HTML
 *
 * The file formats are described in reports/README.md.  Every string field
 * is a fixed-size array: a record read from a file can never be larger
 * than its struct, and truncation is the worst a long field can cause.
 */
#ifndef LAB_RECORD_H
#define LAB_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LAB_RECORD_VERSION 1
#define LAB_FINDING_FORMAT "labyrinth-finding"
#define LAB_RUN_FORMAT "labyrinth-run"

/* What went wrong, the rule id of SARIF and the first part of every
 * signature.  lab_kind_name() gives the stable names used in files. */
enum lab_kind {
	LAB_KIND_INVARIANT,	  /* model or allocator state disagrees */
	LAB_KIND_EXCLUSIVE,	  /* exclusive-ownership violation */
	LAB_KIND_SLEEP_IN_ATOMIC, /* blocking call from atomic context */
	LAB_KIND_DEADLOCK,
	LAB_KIND_LIVELOCK,
	LAB_KIND_DATA_RACE,	/* ThreadSanitizer */
	LAB_KIND_MEMORY_ERROR,	/* AddressSanitizer */
	LAB_KIND_UNDEFINED,	/* UndefinedBehaviorSanitizer */
	LAB_KIND_LEAK,		/* LeakSanitizer */
	LAB_KIND_CRASH,		/* fatal signal, abort, fuzzer crash */
	LAB_KIND_TIMEOUT,	/* libFuzzer timeout, hung run */
	LAB_KIND_OUT_OF_MEMORY, /* libFuzzer -rss_limit_mb */
	LAB_KIND_COUNT
};

const char *lab_kind_name(enum lab_kind k);
/* One line a person reads in a table ("Data race (ThreadSanitizer)"). */
const char *lab_kind_title(enum lab_kind k);
/* -1 if name is not a kind. */
int lab_kind_parse(const char *name);

#define LAB_REC_FRAMES 6
#define LAB_REC_OPS 16

/* One source position: the violating site, or a stack frame. */
struct lab_site {
	char function[96];
	char file[192]; /* repository-relative when inside the project */
	unsigned line;	/* 0 = unknown */
};

/* A finding.  Deduplication is by `signature` alone: kind, check and the
 * top project frames (or the violating site), never addresses, seeds or
 * line numbers, so the same bug found by two tools or builds is one row. */
struct lab_rec {
	enum lab_kind kind;
	char check[48]; /* the detector's name: "stamp-mismatch", ... */
	char signature[256];
	char title[384]; /* one line */
	char tool[32];	 /* "stress-free", "stress-controlled", "fuzz_ops" */
	char build[128]; /* lab_version() and sanitizer of the build */
	char run[64];	 /* id of the run that saw it last */
	int64_t first_seen, last_seen; /* Unix seconds, UTC */
	uint64_t count;		       /* times seen (merged records add) */
	/* how to get there again */
	char seed[24];	    /* decimal u64 as a string, "" if none */
	char strategy[16];  /* controlled mode: random, pct, list */
	char bug[32];	    /* seeded bug switched on, "none" */
	uint64_t step;	    /* controlled: decision index; fuzz: 0 */
	int thread;	    /* logical thread or worker, -1 if none */
	char artifact[512]; /* artifact or crash input (absolute path) */
	char reproduce[1024];
	/* where */
	struct lab_site site;
	struct lab_site frames[LAB_REC_FRAMES];
	unsigned nframes;
	/* sanitizer */
	char summary[512];  /* "SUMMARY: ThreadSanitizer: data race ..." */
	char excerpt[4096]; /* trimmed report text */
	/* the last operations before it, oldest first */
	char ops[LAB_REC_OPS][96];
	unsigned nops;
	/* not stored: the file it was read from */
	char source[512];
};

void lab_rec_init(struct lab_rec *r, enum lab_kind kind, const char *check);
/* Fills r->signature from kind, check, and frames (or site, or where) */
void lab_rec_sign(struct lab_rec *r, const char *where);
/* Appends one operation line (keeps the last LAB_REC_OPS). */
void lab_rec_add_op(struct lab_rec *r, const char *op);
/* Maps a detector name of the harness ("double-free", "stamp-mismatch",
 * "deadlock", ...) to its kind. */
enum lab_kind lab_kind_of_check(const char *check);
/* Fills r->site for a site name of the harness: a yield point
 * ("buddy:claim") or a public entry point ("lab_free_pages") maps to the
 * allocator source file that holds it; line stays 0 (unknown). */
void lab_site_of_where(struct lab_site *s, const char *where);
/* Parses a sanitizer SUMMARY line into kind and site; false if it is not
 * one.  "SUMMARY: AddressSanitizer: heap-use-after-free /x/a.c:12:3 in f" */
bool lab_rec_from_summary(struct lab_rec *r, const char *summary);
/* Parses one stack frame line of a sanitizer or libFuzzer report into s;
 * true only for a frame of the project's own code (not runtimes, libc,
 * libFuzzer), which is what signatures are made of. */
bool lab_site_parse_frame(const char *line, struct lab_site *s);
/* Makes a path inside the project repository-relative (for SARIF). */
void lab_site_relative(char *file, size_t len);

/* A time series of a run, for the charts. */
#define LAB_SERIES_POINTS 240
struct lab_series {
	char name[32]; /* "ops/s", "failures", "exec/s", "coverage" */
	unsigned n;
	double t[LAB_SERIES_POINTS]; /* seconds since the run started */
	double v[LAB_SERIES_POINTS];
	unsigned every, seen; /* not stored: keep every `every`-th sample */
};
/* Adds a point; once full, halves the resolution (every other point is
 * dropped) so a long run keeps its whole shape in bounded space. */
void lab_series_add(struct lab_series *s, double t, double v);

/* Latency of one kind of call in a run: an allocation class in one
 * context ("task": process context, "irq": an interrupt handler), from a
 * histogram whose percentiles are upper bounds within 25% (stress
 * latency.c).  All in nanoseconds. */
struct lab_latency {
	char cls[16];	  /* "KERNEL", "NOWAIT", "ATOMIC" */
	char context[16]; /* "task", "irq", "task-cpu", "irq-cpu" */
	uint64_t count, mean_ns, p50_ns, p90_ns, p99_ns, p999_ns, max_ns;
};

/* Detector coverage of a run that provoked detectors on purpose (the
 * misuse profile): how often it committed the misuse one detector of the
 * allocator must catch, and how often that detector fired. */
struct lab_coverage {
	char detector[32]; /* lab_detector_name(): "poison-scan", ... */
	uint64_t provoked, fired;
};

#define LAB_RUN_SERIES 4
#define LAB_RUN_LATENCIES 8
#define LAB_RUN_DETECTORS 32
/* A run: one invocation of a tool.  JUnit makes one test case of each. */
struct lab_runrec {
	char id[64]; /* unique: tool, time, pid */
	char tool[32];
	char build[128];
	char command[1024]; /* how it was started */
	int64_t started, ended;
	char result[16]; /* "pass", "fail", "interrupted", "error" */
	uint64_t findings;
	char seed[24];
	char detail[512]; /* one line: what it did ("12000 ops, ...") */
	struct lab_series series[LAB_RUN_SERIES];
	unsigned nseries;
	/* optional (free-running runs): latency per class and context, and
	 * one line saying what the figures include */
	struct lab_latency latency[LAB_RUN_LATENCIES];
	unsigned nlatency;
	char latency_note[384];
	/* optional: detector coverage (misuse profile) */
	struct lab_coverage coverage[LAB_RUN_DETECTORS];
	unsigned ncoverage;
	char source[512];
};

void lab_runrec_init(struct lab_runrec *r, const char *tool);
/* The series called name, added if missing (NULL when all are used). */
struct lab_series *lab_runrec_series(struct lab_runrec *r, const char *name);

/* ---- files ---- */

/* Write atomically (PATH.tmp.<pid>, fsync, rename): 0 or -errno, with a
 * message naming the file on stderr. */
int lab_rec_write(const char *path, const struct lab_rec *r);
/* The JSON document of one finding file (what lab_rec_write writes);
 * allocates nothing, so a sanitizer hook may call it on a FILE opened
 * beforehand.  0 or -EIO. */
int lab_rec_emit(FILE *f, const struct lab_rec *r);
int lab_runrec_write(const char *path, const struct lab_runrec *r);
/* Saves a finding as <dir>/finding-<n>.json with the next free n (claimed
 * with O_EXCL, so concurrent runs never overwrite each other); the path
 * goes to out.  0 or -errno. */
int lab_rec_save(const char *dir, const struct lab_rec *r, char *out,
		 size_t outlen);

/* Read and validate.  0, or -1 with err naming the file and what is wrong
 * (corrupt JSON, truncated, unknown format or version, bad field). */
int lab_rec_read(const char *path, struct lab_rec *r, char *err, size_t errlen);
int lab_runrec_read(const char *path, struct lab_runrec *r, char *err,
		    size_t errlen);

/* ---- the merged set ---- */

struct lab_report_set;
/* Reads a findings.json written by lab_render_findings_json and merges
 * it into s: all of it, or (on any bad element) none of it.  0, or -1
 * with err naming the file. */
int lab_set_read_merged(struct lab_report_set *s, const char *path, char *err,
			size_t errlen);

struct lab_report_set {
	struct lab_rec *recs; /* deduplicated, in order of first sight */
	size_t nrecs, recs_cap;
	struct lab_runrec *runs;
	size_t nruns, runs_cap;
	unsigned files_read, files_bad; /* bad files are named on stderr */
	/* every artifact a record named, merged or not: a libFuzzer log of
	 * the same crash is then not a second finding */
	char **artifacts;
	size_t nartifacts, artifacts_cap;
	char bench[512]; /* detection benchmark Markdown table file, or "" */
};

void lab_set_init(struct lab_report_set *s);
void lab_set_free(struct lab_report_set *s);
/* Merges r: same signature -> counts add, first/last seen widen, the most
 * recent record's details win.  0 or -ENOMEM. */
int lab_set_add(struct lab_report_set *s, const struct lab_rec *r);
int lab_set_add_run(struct lab_report_set *s, const struct lab_runrec *r);
/* Whether a record added so far named this artifact. */
bool lab_set_knows_artifact(const struct lab_report_set *s, const char *art);
/* Reads a file or a directory tree: finding-*.json, run-*.json,
 * findings.json (a merged set), libFuzzer logs (fuzz-*.log, *.log with
 * libFuzzer output).  Bad files, unreadable directories, and a path that
 * adds nothing (an empty directory, an artifact, another kind of file)
 * are named on stderr and counted in files_bad.  0, or -errno if path
 * itself cannot be read (not counted: the caller names it). */
int lab_set_ingest(struct lab_report_set *s, const char *path);
/* Names a skipped path on stderr ("labyrinth: report: skipped PATH:
 * why") and counts it in s->files_bad. */
void lab_ingest_skip(struct lab_report_set *s, const char *path,
		     const char *why);
/* Reads one libFuzzer log (fuzzlog.c) into s: see lab_set_ingest. */
void lab_ingest_fuzz_log(struct lab_report_set *s, const char *path);
/* Sort findings for output: most severe kind first, then count. */
void lab_set_sort(struct lab_report_set *s);

/* ---- renderings ---- */

/* Each writes one document to f; 0 or -errno. */
int lab_render_findings_json(FILE *f, const struct lab_report_set *s);
int lab_render_markdown(FILE *f, const struct lab_report_set *s);
int lab_render_sarif(FILE *f, const struct lab_report_set *s);
int lab_render_junit(FILE *f, const struct lab_report_set *s);
int lab_render_html(FILE *f, const struct lab_report_set *s);
/* Writes all five into dir (created): summary.md, findings.json,
 * report.sarif, junit.xml, report.html.  0 or -errno. */
int lab_report_write_all(const struct lab_report_set *s, const char *dir);
/* Same, and lost(file, errno, arg) for each rendering not written (all
 * five if dir cannot be made): its name in dir, and why. */
typedef void (*lab_lost_fn)(const char *file, int err, void *arg);
int lab_report_write_each(const struct lab_report_set *s, const char *dir,
			  lab_lost_fn lost, void *arg);
/* The same five into dir (created) as one set (publish.c): written into
 * dir/.render-PID first and moved over the old ones only when all five
 * were written, so dir holds the old set or the new one, and no other file
 * in dir is touched.  0 or -errno (named on stderr). */
int lab_report_publish(const struct lab_report_set *s, const char *dir);

/* ---- files (fileio.c) ---- */

/* Creates dir and its parents if needed.  0 or -errno. */
int lab_mkdir_p(const char *dir);
/* Writes path atomically: emit(f, arg) fills PATH.tmp.<pid>, which is
 * flushed, fsync'ed and renamed over path, so a crash or Ctrl-C leaves
 * either the old file or the new one, never a torn one.  emit returns 0
 * or -errno.  0 or -errno; on error a message naming the file goes to
 * stderr. */
int lab_write_atomic(const char *path, int (*emit)(FILE *f, const void *arg),
		     const void *arg);
/* path made absolute (resolved if it exists), for messages people copy. */
void lab_abs_path(const char *path, char *buf, size_t len);
/* s quoted for a POSIX shell when it needs it (cut short if len is too
 * small). */
void lab_shell_quote(const char *s, char *buf, size_t len);
/* snprintf into a fixed field that a long value may be cut to fit, by
 * contract (a record's bounded strings); true if nothing was cut. */
bool lab_fit(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- values in error lines (shown.c) ---- */

/* Room for one value as lab_shown writes it. */
struct lab_shown {
	char s[400];
};
/* s as an error line shows it: in single quotes, control bytes and
 * backslash escaped (\n, \t, \x1b, \\), and when long, its start and end
 * around "..." followed by its length ("'aaa...zzz' (5000 bytes)").
 * Returns out->s (or "(none)" for NULL): one buffer per value printed. */
const char *lab_shown(const char *s, struct lab_shown *out);
/* Writes line to f with control bytes escaped as lab_shown does (a
 * backslash is left alone: the values in it are already shown), so a
 * message stays one line whatever it quotes.  No newline is added. */
void lab_shown_line(FILE *f, const char *line);

/* ---- JSON writing (json_out.c) ---- */

/* A JSON string literal: quotes, backslash, control and non-ASCII bytes
 * escaped, so the output is valid whatever s holds. */
void lab_json_str(FILE *f, const char *s);
/* ISO 8601 UTC ("2026-11-22T04:13:35Z") into buf (>= 21 bytes). */
void lab_iso_time(int64_t t, char *buf, size_t len);
/* Parses it back: 0 or -1. */
int lab_parse_iso_time(const char *s, int64_t *t);
/* XML/HTML text: & < > " ' escaped, control bytes dropped. */
void lab_xml_str(FILE *f, const char *s);

#endif /* LAB_RECORD_H */

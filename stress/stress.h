/* stress.h - shared declarations of the `labyrinth` command-line harness.
 *
 *   cli.c       entry point, subcommands, option parsing, --help
 *   free_run.c  free-running mode: pthreads, signals as interrupts
 *   sched.c     controlled mode: logical threads on fibers, strategies
 *   program.c   the operations logical threads and interrupts execute
 *   runner.c    one controlled schedule in an isolated child process
 *   artifact.c  artifact files: write, parse, validate
 *   shrink.c    delta debugging of a failing schedule
 *   finding.c   findings: record, print, write as JSON
 *   opts.c      the option table: defaults, strict parsing, printing
 */
#ifndef LAB_STRESS_H
#define LAB_STRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "labyrinth.h"
#include "record.h" /* files, records: reports/src */

#define LAB_MAX_THREADS 64
#define LAB_MAX_LOGICAL 8

enum lab_mode { LAB_MODE_FREE, LAB_MODE_CONTROLLED, LAB_MODE_CAMPAIGN };
enum lab_strategy { LAB_STRAT_RANDOM, LAB_STRAT_PCT, LAB_STRAT_LIST };
/* How atomics behave in controlled schedules (labyrinth/sched.h). */
enum lab_memory { LAB_MEM_SC, LAB_MEM_C11 };

/* Everything a run depends on; an artifact stores all of it. */
struct lab_opts {
	enum lab_mode mode;
	char profile[16]; /* mixed|pressure|exclusive|orders|irq-storm */
	uint64_t seed;
	unsigned width, height; /* maze geometry */
	char bug[32];		/* seeded bug name, "none" */
	/* free-running */
	unsigned threads;    /* worker pthreads */
	double seconds;	     /* 0 = bounded by ops only */
	uint64_t ops;	     /* 0 = bounded by seconds only */
	unsigned irq_rate;   /* signals per second */
	char backend[32];    /* lab_backend_find() name; "labyrinth" */
	char user_build[48]; /* build id of the backend's code (artifacts) */
	bool delays;	     /* short delays at yield points (KCSAN-like) */
	bool first;	     /* stop at the first finding */
	/* controlled */
	enum lab_strategy strategy;
	unsigned depth;		 /* PCT bug depth d >= 1 */
	unsigned logical;	 /* logical threads */
	unsigned ops_per_thread; /* program length */
	unsigned irq_permille;	 /* chance of an injected IRQ per decision */
	uint64_t max_steps;	 /* livelock: decisions without progress */
	uint64_t schedules;	 /* schedules to try (0 = until --seconds) */
	bool isolate;		 /* each schedule in a child process */
	/* memory model of controlled schedules: sc, or c11 with a history
	 * of stores per location and the chance of a stale read */
	enum lab_memory memory;
	unsigned history;
	unsigned stale_permille;
	/* output */
	char out_dir[512];
	bool progress; /* live progress line on a terminal */
};

void lab_opts_defaults(struct lab_opts *o);

/* "opts.c": one table of options serves the command line (flag --NAME)
 * and artifact files (field NAME), so they parse and print alike. */
#define LAB_OPT_CLI 1u	    /* a flag of `labyrinth stress` */
#define LAB_OPT_ARTIFACT 2u /* a field of an artifact file */
#define LAB_OPT_OPTIONAL 4u /* may be missing from an artifact (newer field) */
/* Sets mode and, for the options whose lab_opt_bit() is not in `given`,
 * that mode's defaults: seconds (60 campaign, 10 otherwise) and geometry
 * (64x64 free and campaign, 8x8 controlled). */
void lab_opts_mode_defaults(struct lab_opts *o, enum lab_mode mode,
			    uint64_t given);
/* What single fields cannot check: the maze has at most LAB_FRAMES_MAX
 * frames (1 GiB of 4 KiB pages; debug builds poison every free page).
 * 0, or -1 with err. */
#define LAB_FRAMES_MAX (1u << 18)
int lab_opts_check(const struct lab_opts *o, char *err, size_t errlen);
/* Would an artifact with these options be read back?  Every artifact
 * field as the writer prints it must parse (ranges, words), and
 * lab_opts_check must pass.  0, or -1 with err naming the field. */
int lab_opts_artifact_check(const struct lab_opts *o, char *err, size_t errlen);
const char *lab_mode_name(enum lab_mode m);
const char *lab_strategy_name(enum lab_strategy s);
const char *lab_memory_name(enum lab_memory m);
/* Table access: index of NAME among the options of `where` (-1 if none),
 * and per index its name, membership, whether it takes a value, its bit. */
int lab_opt_count(void);
int lab_opt_find(const char *name, unsigned where);
const char *lab_opt_name(int i);
bool lab_opt_in(int i, unsigned where);
bool lab_opt_takes_value(int i);
uint64_t lab_opt_bit(const char *name);
/* Parses value strictly into option i: 0, or -1 with err saying what is
 * wrong with the value (without naming the option).  A bare flag takes
 * NULL (given on the command line) or, in an artifact, on|off. */
int lab_opt_parse(struct lab_opts *o, int i, const char *value, char *err,
		  size_t errlen);
/* Option i's value as lab_opt_parse() reads it back; snprintf's return. */
int lab_opt_format(const struct lab_opts *o, int i, char *buf, size_t len);
/* Option i's argument placeholder (NULL for a bare flag) and its help
 * line, which states the default. */
const char *lab_opt_arg(int i);
const char *lab_opt_help(int i);
/* The `labyrinth stress` command line that runs o again, into the same
 * (absolute) --out directory; it starts with lab_self_command(). */
void lab_opts_command(const struct lab_opts *o, char *buf, size_t len);
/* Strict unsigned decimal (digits only, no overflow): 0 or -1. */
int lab_parse_u64(const char *s, uint64_t *out);

/* A finding: what was found, where, and how to get there again. */
struct lab_finding {
	char kind[32];	/* "double-free", "stamp-mismatch", "deadlock", ... */
	char where[64]; /* yield point or operation: the signature site */
	char message[384];
	uint64_t step; /* controlled: decision index at detection */
	int thread;    /* logical thread or worker, -1 if none */
};

/* Two findings are the same finding when kind and site agree. */
bool lab_finding_same(const struct lab_finding *a, const struct lab_finding *b);

/* Decisions of a controlled schedule: which logical thread runs after each
 * yield point, and whether an interrupt is injected on it there; with
 * --memory c11 also which store a load reads (the library's encoding,
 * labyrinth/sched.h LAB_SCHED_DEC_READ: thread in bits 0..7, store index
 * in bits 16..31). */
#define LAB_DEC_THREAD_MASK 0xffu
#define LAB_DEC_IRQ 0x100u
#define LAB_DEC_READ 0x200u
#define LAB_DEC_READ_SHIFT 16
typedef uint32_t lab_decision_t;

/* An artifact: options, decisions (controlled mode), the finding. */
struct lab_artifact {
	struct lab_opts opts;
	char build[128]; /* lab_version() of the build that wrote it */
	struct lab_finding finding;
	lab_decision_t *decisions; /* malloc'd; NULL in free mode */
	uint64_t ndecisions;
};

/* "artifact.c" */
/* Writes atomically (temporary file + rename).  0 or -errno; on error a
 * message naming the file is printed to stderr. */
int lab_artifact_write(const char *path, const struct lab_artifact *a);
/* Reads and validates.  On error returns -1 and fills err (one line naming
 * the file and the line/field at fault); never crashes on any input. */
int lab_artifact_read(const char *path, struct lab_artifact *a, char *err,
		      size_t errlen);
void lab_artifact_free(struct lab_artifact *a);
/* How a printed command names this program, so that it runs as shown
 * from any directory: `labyrinth` if that is what PATH finds, else the
 * absolute path of this executable (which also names the build:
 * labyrinth, labyrinth-asan, labyrinth-tsan), shell-quoted. */
const char *lab_self_command(void);
/* The one-line command that replays the artifact at path (options o),
 * with --out lab_replay_out_dir() for a free-running one. */
void lab_artifact_replay_cmd(const char *path, const struct lab_opts *o,
			     char *buf, size_t len);
/* Where the replay of the artifact at path writes by default: the
 * directory `replay` beside it (absolute). */
void lab_replay_out_dir(const char *artifact, char *buf, size_t len);

/* "s" unless n is 1: "1 thread", "2 threads". */
static inline const char *lab_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* "finding.c" */
/* Writes <out_dir>/finding-<n>.json and artifact-<n>.lab for a finding,
 * prints where they are and the replay command.  r is the record to
 * write: the caller starts it (lab_runlog_rec_init, plus sanitizer
 * details or last operations it has); the artifact's fields, the
 * artifact path and the replay command are filled in here.  Returns 0 or
 * -errno. */
int lab_finding_save(const struct lab_artifact *a, struct lab_rec *r,
		     const char *out_dir, char *artifact_path, size_t pathlen);

/* "runlog.c": the runs and findings of this process, Ctrl-C, renderings */
/* The default report directory of a run: root/<UTC time>-<what>[-seed
 * <seed>] (-2, -3... if taken), created, and root/latest made a link to
 * it (replaced atomically).  0 or -errno. */
#define LAB_REPORTS_ROOT "reports"
int lab_run_dir_create(const char *root, const char *what, const char *seed,
		       char *dir, size_t len);
/* At start: the command line (for run records) and where the renderings
 * go; installs the SIGINT/SIGTERM handler. */
void lab_runlog_start(int argc, char **argv, const char *out_dir);
/* True once Ctrl-C or SIGTERM asked the run to stop; the modes poll it.
 * Any thread may take a stop signal (none blocks them); a second one
 * kills at once. */
bool lab_stop_requested(void);
/* Around a fork of a child that runs one controlled schedule: the parent
 * holds stop signals (blocks them) before fork() and releases them after
 * (a signal that came meanwhile lands then); the child calls _child()
 * first: they are the parent's to take (ignored here, the mask
 * restored), and the child dies with its parent.  Held, no signal meets
 * the child with the parent's handler between fork() and _child(). */
void lab_stop_signals_hold(void);
void lab_stop_signals_release(void);
void lab_stop_signals_child(void);
/* A run (one mode) begins: tool is "stress-free", "stress-controlled". */
void lab_runlog_begin(const struct lab_opts *o, const char *tool);
const char *lab_runlog_id(void);
/* "labyrinth <version> <build type and sanitizer>" */
const char *lab_runlog_build(void);
/* A point of a series of the current run (time is taken now). */
void lab_runlog_sample(const char *series, double value);
/* The run's latency rows and what they include (run record "latency"). */
void lab_runlog_latency(const struct lab_latency *rows, unsigned n,
			const char *note);
/* The run's detector coverage (misuse profile), for the run record. */
void lab_runlog_coverage(const struct lab_coverage *rows, unsigned n);
/* A finding record of the current run, for lab_finding_save; _stamp
 * sets only tool, build, run and time of a record filled elsewhere. */
void lab_runlog_rec_init(struct lab_rec *r, const char *check);
void lab_runlog_rec_stamp(struct lab_rec *r);
/* A record file this process saved (counted as a finding of the run). */
void lab_runlog_saved(const char *path);
/* A file of the run that could not be written (what names it and, for a
 * finding, which one; err is the errno): printed at the end, exit 2. */
void lab_runlog_lost(const char *what, int err);
unsigned lab_runlog_nlost(void);
/* The RESULT word of a run with that many findings: PASS, FAIL, and after
 * a stop signal INTERRUPTED or "FAIL (interrupted)". */
const char *lab_runlog_result(unsigned findings);
/* The run ends: result pass|fail|error ("interrupted" replaces pass
 * after Ctrl-C); writes <dir>/run-<id>.json. */
void lab_runlog_end(const char *result, const char *detail, const char *dir);
/* Sanitizer reports of a run that began when lab_capture_saved() was
 * `before`: saved by the hooks, or now from the capture (TSan).  The
 * number that count as findings. */
unsigned lab_runlog_save_captured(const struct lab_opts *o, unsigned before);
/* Renders every record this process saved into the report directory
 * (summary.md, findings.json, report.sarif, junit.xml, report.html) and
 * prints where they are, then what of the run was lost (not written).
 * 0, or -errno when anything of the run was lost. */
int lab_runlog_render(void);

/* "backend_run.c": free-running stress of a backend-table allocator */
/* Returns the number of findings or -1; the first one into *first. */
int lab_backend_run(const struct lab_opts *o, const struct lab_backend_ops *ops,
		    struct lab_finding *first);

/* "backend_sched.c": controlled schedules of a backend-table allocator */
struct lab_sched_result;
/* One schedule of o->backend, as lab_sched_run; -ENOENT if not found. */
int lab_backend_sched_run(const struct lab_opts *o, const lab_decision_t *list,
			  uint64_t n, struct lab_sched_result *r);
/* The build id of the object the backend's code is in (hex; "unknown"). */
void lab_backend_build_id(const struct lab_backend_ops *ops, char *buf,
			  size_t len);
/* An artifact of a backend this build lacks, or of another build of its
 * code: -1 with err (one line), else 0. */
int lab_backend_artifact_check(const struct lab_artifact *a, char *err,
			       size_t errlen);

/* "free_run.c" */
/* Runs the free-running mode; returns the number of findings (0 = clean)
 * or -1 on setup failure. */
int lab_free_run(const struct lab_opts *o);
/* Same; also stores the first finding in *first (if not NULL and there is
 * one; first->kind is "" otherwise), so a replay can compare it. */
int lab_free_run_report(const struct lab_opts *o, struct lab_finding *first);
/* CLOCK_MONOTONIC in nanoseconds; async-signal-safe (free_work.c). */
uint64_t lab_now_ns(void);

/* "sched.c" / "runner.c" */
struct lab_sched_result {
	bool found;
	bool exhausted; /* cut at the decision budget, still progressing */
	struct lab_finding finding;
	uint64_t steps, decisions, preemptions, irqs, ops;
	/* --memory c11: reads-from choices, and those of an older store */
	uint64_t reads, stale_reads;
	/* list strategy: first decision index that did not fit, or
	 * UINT64_MAX if every recorded decision was followed */
	uint64_t diverged_at;
	char diverged_why[160];
	lab_decision_t *trace; /* decisions actually taken (malloc'd) */
	uint64_t ntrace;
	/* for the finding record: the last operations and, if a sanitizer
	 * reported, its kind, frames, summary and excerpt */
	struct lab_rec detail;
};
/* Runs one controlled schedule with seed o->seed (in a child process if
 * o->isolate).  With LAB_STRAT_LIST, follows list[0..n) while it fits. */
int lab_sched_run(const struct lab_opts *o, const lab_decision_t *list,
		  uint64_t n, struct lab_sched_result *r);
void lab_sched_result_free(struct lab_sched_result *r);
/* SplitMix64, the harness's random stream (runner.c): advances *state. */
uint64_t lab_splitmix(uint64_t *state);
/* Runs the controlled mode (many schedules); returns findings or -1. */
int lab_controlled_run(const struct lab_opts *o);

/* "report_cmd.c": `labyrinth report` */
int lab_report_command(int argc, char **argv);
/* Merges the records under paths (files or directory trees), with the
 * detection table bench (NULL: none), and renders them into out; prints
 * a summary line.  Returns `labyrinth report`'s status: 0 clean, 1
 * findings, 2 a file could not be read or the output not written. */
int lab_report_render(const char *const *paths, int npaths, const char *bench,
		      const char *out);
void lab_report_help(FILE *out);

/* "zoo.c": `labyrinth zoo` */
int lab_zoo_command(int argc, char **argv);
void lab_zoo_help(FILE *out);

/* "shrink.c" */
/* Minimises a failing controlled artifact while its finding reproduces.
 * Keeps only candidates whose options an artifact can hold. */
int lab_shrink(const struct lab_artifact *in, struct lab_artifact *out,
	       unsigned budget_runs, bool verbose);
/* Reads the artifact at path back with the artifact parser and replays
 * it: 0 if it replays exactly (every decision followed, want's finding
 * at want's step), with the replay in *r; else -1 with err saying why
 * (and nothing in *r to free). */
int lab_shrink_verify(const char *path, const struct lab_finding *want,
		      bool isolate, struct lab_sched_result *r, char *err,
		      size_t errlen);

#endif /* LAB_STRESS_H */

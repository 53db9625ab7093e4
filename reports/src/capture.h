/* capture.h - sanitizer reports caught inside the process that has them.
 *
 * The sanitizers call two weak hooks that this library defines:
 * __sanitizer_report_error_summary (every sanitizer: the SUMMARY line) and
 * __tsan_on_report (ThreadSanitizer: the report, whose racing accesses are
 * read and symbolized through __tsan_get_report_mop and
 * __sanitizer_symbolize_pc).  Under AddressSanitizer the whole report text
 * comes through __asan_set_error_report_callback.  libFuzzer's death
 * callback is not used: libFuzzer replaces it.
 *
 * Under TSan nothing but copying runs in the hooks (anything else can
 * deadlock inside TSan's report), so a TSan report is saved by whoever
 * survives it: the parent of a controlled schedule's child, the free
 * mode's main thread after the run (halt_on_error=0), or, for fuzz
 * targets, labyrinth report reading the crash's log.
 *
 * What is caught goes into a struct lab_capture, which may live in memory
 * shared with a parent process (the controlled scheduler's isolated
 * children), and, when saving is on and the sanitizer is not TSan,
 * straight into a finding file: the process may die right after the
 * report (halt_on_error, abort), so the file is written from the hook,
 * without allocating, on a buffer prepared by lab_capture_save_to().
 */
#ifndef LAB_CAPTURE_H
#define LAB_CAPTURE_H

#include <stdbool.h>

#include "record.h"

/* Written only inside the hooks, which the sanitizers run one at a time;
 * read after the report (or by the parent of a child that died). */
struct lab_capture {
	unsigned reports;   /* sanitizer reports seen */
	char summary[512];  /* of the first report */
	char excerpt[4096]; /* its racing accesses (TSan), report head (ASan) */
};

/* Records reports into c from now on (cleared first), or into the
 * process's own capture if c is NULL.  Not async-signal-safe. */
void lab_capture_install(struct lab_capture *c);
/* The capture reports currently go to. */
const struct lab_capture *lab_capture_current(void);
/* A record for the first report of c: kind, check, site, frames,
 * summary, excerpt and signature; the caller adds tool, seed, command.
 * False if c holds no report. */
bool lab_capture_to_rec(const struct lab_capture *c, struct lab_rec *r);

/* Saves every report from now on as <dir>/finding-<n>.json the moment it
 * happens, from tmpl (tool, build, run, seed, artifact, reproduce) plus
 * what the report says.  dir NULL stops saving.  0 or -errno. */
int lab_capture_save_to(const char *dir, const struct lab_rec *tmpl);
/* Saving from the environment, for programs that have no options (fuzz
 * targets): LAB_FINDINGS_DIR (on if set), LAB_FINDING_ARTIFACT,
 * LAB_FINDING_REPRODUCE, LAB_FINDING_RUN; tool names the program.
 * Prints one line and exits on an unusable directory. */
void lab_capture_from_env(const char *tool, const char *build);
/* A finding of the harness itself, right before the process aborts:
 * saved if saving is on, with the saving template's tool, build, run,
 * seed, artifact and command where r has none. */
void lab_capture_finding(const struct lab_rec *r);
/* The same for a failed check (kind from check, see lab_kind_of_check). */
void lab_capture_check_failed(const char *check, const char *where,
			      const char *message);
/* True while a hook runs on some thread.  Signal handlers that would
 * re-enter instrumented code (simulated interrupts) must return at once:
 * the sanitizer delivers pending signals inside its own report, where
 * re-entering it deadlocks.  Async-signal-safe. */
bool lab_capture_busy(void);
/* How many findings the hooks saved (for a run's count), and the file
 * of the i-th (NULL past the first 64). */
unsigned lab_capture_saved(void);
const char *lab_capture_saved_path(unsigned i);

#endif /* LAB_CAPTURE_H */

/* zoo.c - `labyrinth zoo`: the seeded bugs, one harness mode run against
 * one of them, and the detection benchmark (every bug x every mode x
 * seeds).
 *
 * A trial is one child process with a time budget: this program's
 * `stress` (free-running, controlled random walk or PCT, the naive
 * baseline), its TSan build (labyrinth-tsan beside it, or itself when it
 * is one), or a libFuzzer target of the same build tree
 * (<build>/fuzz/<target>-fuzz[-tsan]) with LAB_BUG set.  Detected means
 * the child reported a finding; the time is wall time from start to the
 * child's exit (every mode stops at its first finding), the steps are
 * operations, decisions or executions.  A controlled detection is then
 * replayed from its artifact and must come back at the same step.
 *
 * The bench ends with one more trial on the correct allocator: the
 * free-running misuse workload, whose detector coverage table (read back
 * from its run record) is printed and kept with the bench's table.  A
 * detector provoked and silent, or any finding there, fails the bench.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "misuse.h"
#include "stress.h"

#ifndef LAB_BUILD_INFO
#define LAB_BUILD_INFO ""
#endif

enum lab_zoo_runner { LAB_ZR_SELF, LAB_ZR_TSAN, LAB_ZR_FUZZ };

struct lab_zoo_mode {
	const char *name, *what;
	enum lab_zoo_runner runner;
	const char *args[10]; /* stress flags, or the fuzz target */
	bool controlled;      /* its detections replay exactly */
	bool c11;	      /* under the C11 memory model (--memory c11) */
};

static const struct lab_zoo_mode lab_zoo_modes[] = {
	{ "free",
	  "free-running stress (signals as interrupts, delays)",
	  LAB_ZR_SELF,
	  { "--mode", "free", "--first" },
	  false, false },
	{ "free-tsan",
	  "free-running stress under ThreadSanitizer",
	  LAB_ZR_TSAN,
	  { "--mode", "free", "--first" },
	  false, false },
	{ "random",
	  "controlled, random walk",
	  LAB_ZR_SELF,
	  { "--mode", "controlled", "--strategy", "random" },
	  true, false },
	{ "pct1",
	  "controlled, PCT depth 1",
	  LAB_ZR_SELF,
	  { "--mode", "controlled", "--strategy", "pct", "--depth", "1" },
	  true, false },
	{ "pct2",
	  "controlled, PCT depth 2",
	  LAB_ZR_SELF,
	  { "--mode", "controlled", "--strategy", "pct", "--depth", "2" },
	  true, false },
	{ "pct3",
	  "controlled, PCT depth 3",
	  LAB_ZR_SELF,
	  { "--mode", "controlled", "--strategy", "pct", "--depth", "3" },
	  true, false },
	{ "c11-random",
	  "controlled, random walk, C11 memory model (stale reads)",
	  LAB_ZR_SELF,
	  { "--mode", "controlled", "--strategy", "random", "--memory",
	    "c11" },
	  true, true },
	{ "c11-pct2",
	  "controlled, PCT depth 2, C11 memory model (stale reads)",
	  LAB_ZR_SELF,
	  { "--mode", "controlled", "--strategy", "pct", "--depth", "2",
	    "--memory", "c11" },
	  true, true },
	{ "fuzz_sched",
	  "libFuzzer fuzz_sched (ASan+UBSan)",
	  LAB_ZR_FUZZ,
	  { "fuzz_sched-fuzz" },
	  false, false },
	{ "fuzz_ops",
	  "libFuzzer fuzz_ops (ASan+UBSan)",
	  LAB_ZR_FUZZ,
	  { "fuzz_ops-fuzz" },
	  false, false },
	{ "fuzz_threads-tsan",
	  "libFuzzer fuzz_threads under TSan",
	  LAB_ZR_FUZZ,
	  { "fuzz_threads-fuzz-tsan" },
	  false, false },
	{ "naive",
	  "baseline: plain threads, no interrupts, no delays",
	  LAB_ZR_SELF,
	  { "--mode", "free", "--irq-rate", "0", "--no-delays", "--first" },
	  false, false },
};

#define LAB_ZOO_NMODES (sizeof(lab_zoo_modes) / sizeof(lab_zoo_modes[0]))

/* The workload every stress mode runs: a small maze kept near its
 * watermarks, where waits, reserve dips and recycled frames are common,
 * so that watermark and wakeup bugs have a chance, and contention is high
 * (docs/bug-zoo.md compares it with the default 8x8 mixed workload). */
static const char *const lab_zoo_workload[] = {
	"--profile", "pressure", "--width", "4", "--height", "8", NULL
};
#define LAB_ZOO_GRACE 20 /* seconds past the budget before a kill */

/* A missing release in the handoff is hunted by the free-running modes
 * with the relaxed profile, whose channel (no ordering of the harness's
 * own) leaves the ordering to the allocator, on the default maze: in the
 * small one every operation passes the shared free count, whose seq_cst
 * updates order the two owners anyway. */
static const char *const lab_zoo_relaxed_workload[] = { "--profile", "relaxed",
							NULL };

/* A race in setting up a context needs contexts set up inside the
 * schedule: the late-start profile's threads do (on the zoo's maze). */
static const char *const lab_zoo_late_workload[] = {
	"--profile", "late-start", "--width", "4", "--height", "8", NULL
};

/* A missing order on an ownership handover is hunted by the c11 modes
 * with the controlled relaxed profile, whose inboxes order nothing for
 * the model (only the allocator's handoff and owner lookup do), on the
 * default maze: exclusive blocks need frames to be handed around. */
static const char *const lab_zoo_c11_relaxed_workload[] = {
	"--profile", "relaxed", NULL
};

/* A relaxed free-count read shows as a waiter that sleeps with frames
 * free: it needs the pressure workload's waits and every load that can
 * read an older count to do so (at 200 permille 0 of 5 in 10 s). */
static const char *const lab_zoo_c11_stale_workload[] = {
	"--profile", "pressure", "--width", "4", "--height", "8",
	"--stale-permille", "1000", NULL
};

/* The coverage trial: not a mode of the grid (it hunts no bug, it proves
 * the detectors), on the free-running mode's default maze. */
static const struct lab_zoo_mode lab_zoo_misuse_mode = {
	"misuse",
	"free-running misuse workload (detector coverage)",
	LAB_ZR_SELF,
	{ "--mode", "free" },
	false,
	false
};
static const char *const lab_zoo_misuse_workload[] = { "--profile", "misuse",
						       NULL };
#define LAB_ZOO_COVERAGE_SECONDS 3 /* at most; less with a smaller budget */

static const char *const *lab_zoo_workload_for(const struct lab_zoo_mode *m,
					       const char *bug)
{
	if (m == &lab_zoo_misuse_mode)
		return lab_zoo_misuse_workload;
	if (!m->controlled && !strcmp(bug, "handoff-relaxed"))
		return lab_zoo_relaxed_workload;
	if (m->controlled && !strcmp(bug, "racy-task-id"))
		return lab_zoo_late_workload;
	if (m->c11 && (!strcmp(bug, "owner-no-acquire") ||
		       !strcmp(bug, "handoff-relaxed")))
		return lab_zoo_c11_relaxed_workload;
	if (m->c11 && !strcmp(bug, "relaxed-free-count"))
		return lab_zoo_c11_stale_workload;
	return lab_zoo_workload;
}

struct lab_zoo_trial {
	bool ran; /* false: the mode's binary is not built here */
	bool detected;
	double seconds;
	uint64_t steps;
	char signature[256];
	int replay; /* controlled: 1 replayed at the same step, 0 not, -1 n/a */
	char dir[PATH_MAX];
};

/* ---- locating binaries ------------------------------------------------------ */

static void lab_zoo_self(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
}

/* The binary a mode runs; false if this build tree has none. */
static bool lab_zoo_binary(const struct lab_zoo_mode *m, char *buf, size_t len)
{
	char self[PATH_MAX], *slash;

	lab_zoo_self(self, sizeof(self));
	if (m->runner == LAB_ZR_SELF ||
	    (m->runner == LAB_ZR_TSAN && strstr(LAB_BUILD_INFO, "tsan"))) {
		snprintf(buf, len, "%s", self);
		return true;
	}
	slash = strrchr(self, '/');
	if (!slash)
		return false;
	if (m->runner == LAB_ZR_TSAN)
		snprintf(buf, len, "%.*s/labyrinth-tsan", (int)(slash - self),
			 self);
	else /* <build>/stress/labyrinth -> <build>/fuzz/<target> */
		snprintf(buf, len, "%.*s/../fuzz/%s", (int)(slash - self), self,
			 m->args[0]);
	return access(buf, X_OK) == 0;
}

static const struct lab_zoo_mode *lab_zoo_mode_find(const char *name)
{
	size_t i;

	for (i = 0; i < LAB_ZOO_NMODES; i++)
		if (!strcmp(lab_zoo_modes[i].name, name))
			return &lab_zoo_modes[i];
	return NULL;
}

/* ---- one trial ----------------------------------------------------------------- */

static double lab_zoo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --backend of `zoo run`: the stress modes hunt that backend-table
 * allocator's own bug (BUG none) instead of a seeded one. */
static const char *lab_zoo_backend;

/* argv of a trial into args (strings in store). */
static void lab_zoo_argv(const struct lab_zoo_mode *m, const char *bin,
			 const char *bug, uint64_t seed, unsigned budget,
			 const char *dir, char store[6][PATH_MAX + 32],
			 const char **args)
{
	const char *const *work = lab_zoo_workload_for(m, bug);
	unsigned n = 0, i;

	args[n++] = bin;
	if (m->runner == LAB_ZR_FUZZ) {
		snprintf(store[0], sizeof(store[0]), "-max_total_time=%u",
			 budget);
		snprintf(store[1], sizeof(store[1]), "-seed=%" PRIu64,
			 seed ? seed : 1);
		snprintf(store[2], sizeof(store[2]), "-artifact_prefix=%s/",
			 dir);
		snprintf(store[3], sizeof(store[3]), "%s/corpus", dir);
		args[n++] = store[0];
		args[n++] = store[1];
		args[n++] = store[2];
		args[n++] = "-print_final_stats=1";
		args[n++] = store[3];
	} else {
		snprintf(store[0], sizeof(store[0]), "%" PRIu64, seed);
		snprintf(store[1], sizeof(store[1]), "%u", budget);
		snprintf(store[2], sizeof(store[2]), "%s/out", dir);
		args[n++] = "stress";
		for (i = 0; m->args[i]; i++)
			args[n++] = m->args[i];
		for (i = 0; work[i]; i++)
			args[n++] = work[i];
		args[n++] = "--bug";
		args[n++] = bug;
		args[n++] = "--seed";
		args[n++] = store[0];
		args[n++] = "--seconds";
		args[n++] = store[1];
		args[n++] = "--no-progress";
		args[n++] = "--out";
		args[n++] = store[2];
		if (lab_zoo_backend) {
			args[n++] = "--backend";
			args[n++] = lab_zoo_backend;
		}
	}
	args[n] = NULL;
}

/* In the child: output to DIR/log, the bug and sanitizer options in the
 * environment, a process group of its own (so a kill takes all of it). */
static void lab_zoo_exec(const struct lab_zoo_mode *m, const char *bug,
			 const char *dir, const char **args)
{
	char log[PATH_MAX + 8];
	int fd;

	setpgid(0, 0);
	snprintf(log, sizeof(log), "%s/log", dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	setenv("LAB_BUG", bug, 1);
	/* libFuzzer needs halt_on_error=1 under TSan; the stress modes go on
	 * after a report so that their main thread saves it as a record */
	setenv("TSAN_OPTIONS",
	       m->runner == LAB_ZR_FUZZ ? "halt_on_error=1:exitcode=66" :
					  "halt_on_error=0:exitcode=66",
	       1);
	if (m->runner == LAB_ZR_FUZZ) {
		char findings[PATH_MAX + 16];

		snprintf(findings, sizeof(findings), "%s/out", dir);
		setenv("LAB_FINDINGS_DIR", findings, 1);
	}
	execv(args[0], (char *const *)args);
	fprintf(stderr, "labyrinth zoo: %s: %s\n", args[0], strerror(errno));
	_exit(127);
}

/* Waits at most limit seconds; then kills the child's group.  The exit
 * status, or -1 if it had to be killed. */
static int lab_zoo_wait(pid_t pid, double limit)
{
	double t0 = lab_zoo_now();
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (lab_zoo_now() - t0 > limit) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(5000);
	}
}

/* The number after `key` on the last line of DIR/log that starts with
 * `prefix` (0 if none). */
static uint64_t lab_zoo_log_number(const char *dir, const char *prefix,
				   const char *key)
{
	char path[PATH_MAX + 8], line[1024];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/log", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);

		if (p && !strncmp(line, prefix, strlen(prefix)))
			v = strtoull(p + strlen(key), NULL, 10);
	}
	if (f)
		fclose(f);
	return v;
}

/* Executions (libFuzzer status lines "#N"), decisions (controlled
 * summary) or operations (free-running summary "ops N in"). */
static void lab_zoo_steps(const struct lab_zoo_mode *m, const char *dir,
			  struct lab_zoo_trial *t)
{
	if (m->runner == LAB_ZR_FUZZ)
		t->steps = lab_zoo_log_number(dir, "#", "#");
	else if (m->controlled)
		t->steps = lab_zoo_log_number(
			dir, "controlled summary:", "schedules, ");
	else
		t->steps = lab_zoo_log_number(dir, "ops ", "ops ");
}

/* The first finding record the trial saved: its signature. */
static void lab_zoo_signature(const char *dir, struct lab_zoo_trial *t)
{
	char path[PATH_MAX + 32], err[256];
	struct lab_rec *r = malloc(sizeof(*r));
	unsigned n;

	for (n = 1; r && n < 64; n++) {
		snprintf(path, sizeof(path), "%s/out/finding-%u.json", dir, n);
		if (!lab_rec_read(path, r, err, sizeof(err))) {
			snprintf(t->signature, sizeof(t->signature), "%s",
				 r->signature);
			break;
		}
	}
	free(r);
}

/* A controlled detection must replay from its artifact to the same
 * finding at the same step. */
static int lab_zoo_replay(const char *bin, const char *dir)
{
	char art[PATH_MAX + 32], log[PATH_MAX + 8], line[512];
	const char *args[] = { bin, "replay", art, NULL };
	bool same = false;
	pid_t pid;
	FILE *f;

	snprintf(art, sizeof(art), "%s/out/artifact-1.lab", dir);
	if (access(art, R_OK))
		return 0;
	pid = fork();
	if (pid == 0) {
		int fd;

		snprintf(log, sizeof(log), "%s/replay.log", dir);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execv(bin, (char *const *)args);
		_exit(127);
	}
	if (pid < 0 || lab_zoo_wait(pid, 120) == -1)
		return 0;
	snprintf(log, sizeof(log), "%s/replay.log", dir);
	f = fopen(log, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "reproduced: yes", 15))
			same = true;
	if (f)
		fclose(f);
	return same;
}

/* Removes the regular files directly in dir (a missing dir is fine).
 * A trial directory belongs to the zoo: a trial starts from an empty one,
 * or an earlier run's artifacts, findings and fuzz corpus would be taken
 * for this trial's (and a warm corpus would flatter the fuzz modes). */
static void lab_zoo_clear_files(const char *dir)
{
	char path[PATH_MAX + 260];
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!lstat(path, &st) && S_ISREG(st.st_mode))
			unlink(path);
	}
	if (d)
		closedir(d);
}

static void lab_zoo_clear_trial(const char *dir)
{
	static const char *const subdirs[] = { "", "/out", "/corpus" };
	char path[PATH_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, subdirs[i]);
		lab_zoo_clear_files(path);
	}
}

static int lab_zoo_trial(const struct lab_zoo_mode *m, const char *bug,
			 uint64_t seed, unsigned budget, const char *root,
			 struct lab_zoo_trial *t)
{
	char bin[PATH_MAX], store[6][PATH_MAX + 32];
	const char *args[32];
	double t0;
	int status;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->replay = -1;
	if (!lab_zoo_binary(m, bin, sizeof(bin)))
		return 0;
	snprintf(t->dir, sizeof(t->dir), "%s/%s-%s-%" PRIu64, root, bug,
		 m->name, seed);
	snprintf(store[5], sizeof(store[5]), "%s/corpus", t->dir);
	lab_zoo_clear_trial(t->dir);
	if (lab_mkdir_p(t->dir) ||
	    (m->runner == LAB_ZR_FUZZ && lab_mkdir_p(store[5])))
		return -1;
	lab_zoo_argv(m, bin, bug, seed, budget, t->dir, store, args);
	t0 = lab_zoo_now();
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		lab_zoo_exec(m, bug, t->dir, args);
	if (pid < 0)
		return -1;
	status = lab_zoo_wait(pid, budget + LAB_ZOO_GRACE);
	t->seconds = lab_zoo_now() - t0;
	t->ran = true;
	/* stress: 1 findings, 66 TSan (130: stopped by a signal, nothing
	 * found); libFuzzer: any crash exit */
	t->detected = status != -1 && WIFEXITED(status) &&
		      WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 2 &&
		      WEXITSTATUS(status) != 127 && WEXITSTATUS(status) != 130;
	if (status != -1 && WIFSIGNALED(status))
		t->detected = true; /* a crash is a detection too */
	/* A trial that could not start (127) or was refused (2) measured
	 * nothing: counting it as a miss would be a false figure. */
	if (status != -1 && WIFEXITED(status) &&
	    (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 2)) {
		fprintf(stderr,
			"labyrinth: zoo: the %s trial of %s (seed %" PRIu64
			") did not run (exit %d): see %s/log\n",
			m->name, bug, seed, WEXITSTATUS(status), t->dir);
		return -1;
	}
	lab_zoo_steps(m, t->dir, t);
	lab_zoo_signature(t->dir, t);
	if (t->detected && m->controlled)
		t->replay = lab_zoo_replay(bin, t->dir);
	return 0;
}

/* ---- the command ----------------------------------------------------------------- */

static int lab_zoo_list(void)
{
	size_t i;
	int b;

	printf("seeded bugs (build %s):\n", lab_version());
	for (b = 1; b < LAB_BUG_COUNT; b++)
		printf("  %-20s %s\n", lab_bug_name((enum lab_bug)b),
		       lab_bug_description((enum lab_bug)b));
	printf("\nharness modes ('labyrinth zoo run BUG --mode MODE'):\n");
	for (i = 0; i < LAB_ZOO_NMODES; i++) {
		char bin[PATH_MAX];

		printf("  %-18s %s%s\n", lab_zoo_modes[i].name,
		       lab_zoo_modes[i].what,
		       lab_zoo_binary(&lab_zoo_modes[i], bin, sizeof(bin)) ?
			       "" :
			       " (not built here)");
	}
	printf("\ndocs/bug-zoo.md says what each bug breaks and what should "
	       "catch it.\n");
	return 0;
}

struct lab_zoo_args {
	const char *bug, *mode, *out, *bugs, *modes, *backend;
	unsigned seeds, budget;
	uint64_t seed;
	unsigned seen; /* lab_zoo_once */
};

/* fmt has one %s: arg, as lab_shown quotes, escapes and cuts it. */
static int lab_zoo_usage(const char *fmt, const char *arg)
{
	struct lab_shown sh;

	fprintf(stderr, "labyrinth: zoo: ");
	fprintf(stderr, fmt, arg ? lab_shown(arg, &sh) : "");
	fputc('\n', stderr);
	return 2;
}

/* Each flag once: a second --seed or --mode would silently win. */
static int lab_zoo_once(const char *flag, unsigned *seen)
{
	static const char *const flags[] = { "--mode",	"--out",     "--bugs",
					     "--modes", "--seeds",   "--budget",
					     "--seed",	"--backend", NULL };
	unsigned k;

	for (k = 0; flags[k] && strcmp(flags[k], flag); k++)
		;
	if (flags[k] && (*seen & (1u << k))) {
		fprintf(stderr, "labyrinth: zoo: %s is given more than once\n",
			flag);
		return 2;
	}
	*seen |= 1u << k;
	return 0;
}

static int lab_zoo_number(const char *flag, const char *v, uint64_t lo,
			  uint64_t hi, uint64_t *out)
{
	if (!v || lab_parse_u64(v, out) || *out < lo || *out > hi) {
		fprintf(stderr,
			"labyrinth: zoo: %s needs a number from %" PRIu64
			" to %" PRIu64 "\n",
			flag, lo, hi);
		return 2;
	}
	return 0;
}

static int lab_zoo_flag(int argc, char **argv, int *i, struct lab_zoo_args *a)
{
	const char *f = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	uint64_t x;
	int ret = lab_zoo_once(f, &a->seen);

	if (ret)
		return ret;
	if (!strcmp(f, "--mode") || !strcmp(f, "--out") ||
	    !strcmp(f, "--bugs") || !strcmp(f, "--modes") ||
	    !strcmp(f, "--backend")) {
		if (!v)
			return lab_zoo_usage("%s needs a value", f);
		*(!strcmp(f, "--mode")	  ? &a->mode :
		  !strcmp(f, "--out")	  ? &a->out :
		  !strcmp(f, "--bugs")	  ? &a->bugs :
		  !strcmp(f, "--backend") ? &a->backend :
					    &a->modes) = v;
	} else if (!strcmp(f, "--seeds")) {
		ret = lab_zoo_number(f, v, 1, 1000, &x);
		a->seeds = (unsigned)x;
	} else if (!strcmp(f, "--budget")) {
		ret = lab_zoo_number(f, v, 1, 3600, &x);
		a->budget = (unsigned)x;
	} else if (!strcmp(f, "--seed")) {
		ret = lab_zoo_number(f, v, 0, UINT64_MAX, &a->seed);
	} else {
		return lab_zoo_usage("unknown flag %s (see 'labyrinth zoo "
				     "--help')",
				     f);
	}
	(*i)++;
	return ret;
}

/* "none" (the correct allocator) is a control: nothing may be found. */
static bool lab_zoo_bug_known(const char *name)
{
	int b;

	for (b = 0; b < LAB_BUG_COUNT; b++)
		if (!strcmp(name, lab_bug_name((enum lab_bug)b)))
			return true;
	return false;
}

/* A bug the bench measures: any but the control. */
static bool lab_zoo_bench_bug(const char *name)
{
	return strcmp(name, "none") && lab_zoo_bug_known(name);
}

static bool lab_zoo_mode_known(const char *name)
{
	return lab_zoo_mode_find(name) != NULL;
}

/* The next name of a comma-separated list at *p into name[size] (cut to
 * fit); *p moves past it, to NULL after the last.  The length it had, or
 * -1 when the list is done. */
static int lab_zoo_next_name(const char **p, char *name, size_t size)
{
	const char *end;
	int n;

	if (!*p)
		return -1;
	end = strchr(*p, ',');
	n = end ? (int)(end - *p) : (int)strlen(*p);
	snprintf(name, size, "%.*s", n, *p);
	*p = end ? end + 1 : NULL;
	return n;
}

/* A --bugs or --modes list (NULL: not given): every comma-separated name
 * must be known and none empty, or the bench would quietly skip it.  0
 * or 2 (usage) with a message naming the first bad one. */
static int lab_zoo_check_list(const char *list, const char *what,
			      bool (*known)(const char *name))
{
	struct lab_shown sh1, sh2;
	char name[64];
	const char *p = list;
	int n;

	while ((n = lab_zoo_next_name(&p, name, sizeof(name))) >= 0) {
		if (!n || (size_t)n >= sizeof(name) || !known(name)) {
			fprintf(stderr,
				"labyrinth: zoo: unknown %s %s in %s "
				"(see 'labyrinth zoo')\n",
				what, lab_shown(name, &sh1),
				lab_shown(list, &sh2));
			return 2;
		}
	}
	return 0;
}

static void lab_zoo_print_trial(const char *bug, const struct lab_zoo_mode *m,
				uint64_t seed, const struct lab_zoo_trial *t)
{
	if (!t->ran) {
		printf("%s %s seed %" PRIu64 ": not built here\n", bug, m->name,
		       seed);
		return;
	}
	printf("%s %s seed %" PRIu64 ": %s in %.2f s, %" PRIu64
	       " steps%s%s%s\n",
	       bug, m->name, seed, t->detected ? "DETECTED" : "missed",
	       t->seconds, t->steps, *t->signature ? ", " : "", t->signature,
	       t->replay == 1 ? ", replays exactly" :
	       t->replay == 0 ? ", DOES NOT REPLAY" :
				"");
	fflush(stdout);
}

/* `zoo run BUG --mode MODE`: exit 0 when every seed detected it (and
 * every controlled detection replayed), 1 otherwise. */
static int lab_zoo_run(const struct lab_zoo_args *a)
{
	const struct lab_zoo_mode *m = lab_zoo_mode_find(a->mode);
	unsigned s, hits = 0, ran = 0;

	if (!m)
		return lab_zoo_usage("unknown mode %s (see 'labyrinth zoo')",
				     a->mode);
	if (a->backend && m->runner == LAB_ZR_FUZZ)
		return lab_zoo_usage("mode %s fuzzes the labyrinth allocator: "
				     "no --backend (fuzz_sched_backend with "
				     "LAB_FUZZ_BACKEND fuzzes a backend)",
				     m->name);
	lab_zoo_backend = a->backend;
	for (s = 0; s < a->seeds; s++) {
		struct lab_zoo_trial t;
		uint64_t seed = a->seed + s;

		if (lab_zoo_trial(m, a->bug, seed, a->budget, a->out, &t))
			return lab_zoo_usage("cannot run a trial in %s",
					     a->out);
		lab_zoo_print_trial(a->bug, m, seed, &t);
		ran += t.ran;
		hits += t.detected && t.replay != 0;
		if (!t.ran)
			return lab_zoo_usage("mode %s is not built in this "
					     "build tree",
					     m->name);
	}
	printf("%s by %s: detected in %u of %u seed(s)\n", a->bug, m->name,
	       hits, ran);
	return hits == ran ? 0 : 1;
}

/* ---- the detection benchmark ------------------------------------------------ */

struct lab_zoo_cell {
	unsigned ran, hit, replayed, controlled_hits;
	double secs[64];
	uint64_t steps[64];
};

static int lab_zoo_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* Median time of the detecting seeds; a large number if none. */
static double lab_zoo_median(const struct lab_zoo_cell *c)
{
	double v[64];

	if (!c->hit)
		return 1e300;
	memcpy(v, c->secs, c->hit * sizeof(v[0]));
	qsort(v, c->hit, sizeof(v[0]), lab_zoo_cmp_double);
	return c->hit % 2 ? v[c->hit / 2] :
			    (v[c->hit / 2 - 1] + v[c->hit / 2]) / 2;
}

static uint64_t lab_zoo_median_steps(const struct lab_zoo_cell *c)
{
	uint64_t v[64], t;
	unsigned i, j;

	memcpy(v, c->steps, c->hit * sizeof(v[0]));
	for (i = 1; i < c->hit; i++) /* insertion sort: at most 64 */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--)
			t = v[j], v[j] = v[j - 1], v[j - 1] = t;
	return c->hit ? v[c->hit / 2] : 0;
}

/* In a comma-separated list (NULL: every name is). */
static bool lab_zoo_listed(const char *list, const char *name)
{
	char item[64];
	const char *p = list;

	if (!list)
		return true;
	while (lab_zoo_next_name(&p, item, sizeof(item)) >= 0)
		if (!strcmp(item, name))
			return true;
	return false;
}

struct lab_zoo_bench {
	const struct lab_zoo_args *a;
	bool bug[LAB_BUG_COUNT], mode[LAB_ZOO_NMODES];
	struct lab_zoo_cell cell[LAB_BUG_COUNT][LAB_ZOO_NMODES];
	char command[512];
	double seconds;
	bool broken; /* a trial did not run: the table is incomplete */
	/* the coverage trial: its rows, SILENT rows, whether it found
	 * something (on the correct allocator: against the harness) */
	struct lab_coverage cov[LAB_RUN_DETECTORS];
	unsigned ncov, silent;
	bool cov_found;
	char cov_dir[PATH_MAX];
};

/* The mode that detected bug b in most seeds, fastest on ties; -1 if
 * none did. */
static int lab_zoo_best(const struct lab_zoo_bench *z, int b)
{
	int best = -1;
	size_t m;

	for (m = 0; m < LAB_ZOO_NMODES; m++) {
		const struct lab_zoo_cell *c = &z->cell[b][m];

		if (!z->mode[m] || !c->hit ||
		    !strcmp(lab_zoo_modes[m].name, "naive"))
			continue;
		if (best < 0 || c->hit > z->cell[b][best].hit ||
		    (c->hit == z->cell[b][best].hit &&
		     lab_zoo_median(c) < lab_zoo_median(&z->cell[b][best])))
			best = (int)m;
	}
	return best;
}

static void lab_zoo_md_best(FILE *f, const struct lab_zoo_bench *z)
{
	const struct lab_zoo_mode *naive = lab_zoo_mode_find("naive");
	size_t nv = (size_t)(naive - lab_zoo_modes);
	int b;

	fputs("| bug | best median (s) | best mode | detected | naive median "
	      "(s) | speed-up |\n|---|---|---|---|---|---|\n",
	      f);
	for (b = 1; b < LAB_BUG_COUNT; b++) {
		const struct lab_zoo_cell *n = &z->cell[b][nv];
		int m = lab_zoo_best(z, b);
		double best;

		if (!z->bug[b])
			continue;
		if (m < 0) {
			fprintf(f, "| %s | - | none | 0/%u | - | - |\n",
				lab_bug_name((enum lab_bug)b), z->a->seeds);
			continue;
		}
		best = lab_zoo_median(&z->cell[b][m]);
		fprintf(f, "| %s | %.2f | %s | %u/%u | ",
			lab_bug_name((enum lab_bug)b), best,
			lab_zoo_modes[m].name, z->cell[b][m].hit,
			z->cell[b][m].ran);
		if (!z->mode[nv] || !n->ran)
			fputs("not run | - |\n", f);
		else if (!n->hit)
			fprintf(f, "missed (%u s budget) | > %.0fx |\n",
				z->a->budget, z->a->budget / best);
		else
			fprintf(f, "%.2f (%u/%u) | %.1fx |\n",
				lab_zoo_median(n), n->hit, n->ran,
				lab_zoo_median(n) / best);
	}
}

static void lab_zoo_md_cells(FILE *f, const struct lab_zoo_bench *z)
{
	size_t m;
	int b;

	fputs("\n| bug |", f);
	for (m = 0; m < LAB_ZOO_NMODES; m++)
		if (z->mode[m])
			fprintf(f, " %s |", lab_zoo_modes[m].name);
	fputs("\n|---|", f);
	for (m = 0; m < LAB_ZOO_NMODES; m++)
		if (z->mode[m])
			fputs("---|", f);
	fputc('\n', f);
	for (b = 1; b < LAB_BUG_COUNT; b++) {
		if (!z->bug[b])
			continue;
		fprintf(f, "| %s |", lab_bug_name((enum lab_bug)b));
		for (m = 0; m < LAB_ZOO_NMODES; m++) {
			const struct lab_zoo_cell *c = &z->cell[b][m];

			if (!z->mode[m])
				continue;
			if (!c->ran)
				fputs(" n/a |", f);
			else if (!c->hit)
				fprintf(f, " 0/%u |", c->ran);
			else
				fprintf(f, " %u/%u %.2f s (%" PRIu64 ") |",
					c->hit, c->ran, lab_zoo_median(c),
					lab_zoo_median_steps(c));
		}
		fputc('\n', f);
	}
}

static int lab_zoo_emit(FILE *f, const void *arg)
{
	const struct lab_zoo_bench *z = arg;
	unsigned hits = 0, replayed = 0;
	size_t m;
	int b;

	for (b = 1; b < LAB_BUG_COUNT; b++)
		for (m = 0; m < LAB_ZOO_NMODES; m++) {
			hits += z->cell[b][m].controlled_hits;
			replayed += z->cell[b][m].replayed;
		}
	fprintf(f,
		"# Detection benchmark\n\nCommand: `%s` (build %s; "
		"%.0f s in all).\n\n",
		z->command, lab_version(), z->seconds);
	lab_zoo_md_best(f, z);
	fputs("\nPer mode: seeds detected / seeds run, median time to the "
	      "first finding, median steps (operations, decisions or "
	      "executions); n/a: not built here.\n",
	      f);
	lab_zoo_md_cells(f, z);
	fprintf(f,
		"\nControlled-mode detections replayed exactly from their "
		"artifact: %u of %u.\n",
		replayed, hits);
	if (z->ncov) {
		fputs("\n## Detector coverage (correct allocator, misuse "
		      "workload)\n\n```\n",
		      f);
		lab_coverage_print(f, z->cov, z->ncov);
		fputs("```\n", f);
	}
	return ferror(f) ? -EIO : 0;
}

static void lab_zoo_record(struct lab_zoo_cell *c,
			   const struct lab_zoo_trial *t)
{
	if (!t->ran)
		return;
	if (t->detected && c->hit < 64) {
		c->secs[c->hit] = t->seconds;
		c->steps[c->hit] = t->steps;
		c->hit++;
	}
	c->ran++;
	c->controlled_hits += t->detected && t->replay >= 0;
	c->replayed += t->replay == 1;
}

static void lab_zoo_bench_one(struct lab_zoo_bench *z, int b, size_t m)
{
	const struct lab_zoo_args *a = z->a;
	unsigned s;

	for (s = 0; s < a->seeds; s++) {
		struct lab_zoo_trial t;
		uint64_t seed = a->seed + s;

		if (lab_zoo_trial(&lab_zoo_modes[m],
				  lab_bug_name((enum lab_bug)b), seed,
				  a->budget, a->out, &t)) {
			z->broken = true;
			return;
		}
		lab_zoo_print_trial(lab_bug_name((enum lab_bug)b),
				    &lab_zoo_modes[m], seed, &t);
		lab_zoo_record(&z->cell[b][m], &t);
		if (!t.ran)
			return; /* not built: one line is enough */
	}
}

/* The coverage rows of the run record the trial in dir saved; 0 if
 * none could be read. */
static unsigned lab_zoo_read_coverage(const char *dir,
				      struct lab_coverage *rows)
{
	char path[PATH_MAX + 300], err[256];
	struct lab_runrec *r = malloc(sizeof(*r));
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/out", dir);
	d = opendir(path);
	while (r && d && !n && (e = readdir(d))) {
		if (strncmp(e->d_name, "run-", 4) ||
		    !strstr(e->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/out/%s", dir, e->d_name);
		if (lab_runrec_read(path, r, err, sizeof(err)))
			continue;
		n = r->ncoverage;
		memcpy(rows, r->coverage, n * sizeof(*rows));
	}
	if (d)
		closedir(d);
	free(r);
	return n;
}

/* The misuse workload on the correct allocator, once per bench.  -1 if
 * the trial could not run. */
static int lab_zoo_coverage(struct lab_zoo_bench *z)
{
	const struct lab_zoo_args *a = z->a;
	unsigned secs = a->budget < LAB_ZOO_COVERAGE_SECONDS ?
				a->budget :
				LAB_ZOO_COVERAGE_SECONDS;
	struct lab_zoo_trial t;

	if (lab_zoo_trial(&lab_zoo_misuse_mode, "none", a->seed, secs, a->out,
			  &t) ||
	    !t.ran)
		return -1;
	snprintf(z->cov_dir, sizeof(z->cov_dir), "%s", t.dir);
	z->cov_found = t.detected;
	z->ncov = lab_zoo_read_coverage(t.dir, z->cov);
	z->silent = lab_coverage_print(NULL, z->cov, z->ncov);
	if (z->cov_found || !z->ncov || z->silent)
		printf("detector coverage: %s (see %s/log)\n",
		       z->silent    ? "a detector provoked stayed silent" :
		       z->cov_found ? "the misuse trial had findings" :
				      "no coverage in the trial's run record",
		       t.dir);
	return 0;
}

/* Every selected bug x mode x seed; the table is rewritten after each
 * bug, so a long run interrupted keeps what it measured. */
static int lab_zoo_bench(const struct lab_zoo_args *a)
{
	struct lab_zoo_bench *z = calloc(1, sizeof(*z));
	char path[PATH_MAX + 32];
	double t0 = lab_zoo_now();
	size_t m;
	int b, ret = 0;

	if (!z)
		return 2;
	z->a = a;
	snprintf(z->command, sizeof(z->command),
		 "labyrinth zoo bench --seeds %u --budget %u --seed %" PRIu64
		 "%s%s%s%s",
		 a->seeds, a->budget, a->seed, a->bugs ? " --bugs " : "",
		 a->bugs ? a->bugs : "", a->modes ? " --modes " : "",
		 a->modes ? a->modes : "");
	for (b = 1; b < LAB_BUG_COUNT; b++)
		z->bug[b] =
			lab_zoo_listed(a->bugs, lab_bug_name((enum lab_bug)b));
	for (m = 0; m < LAB_ZOO_NMODES; m++)
		z->mode[m] = lab_zoo_listed(a->modes, lab_zoo_modes[m].name);
	snprintf(path, sizeof(path), "%s/zoo-bench.md", a->out);
	for (b = 1; b < LAB_BUG_COUNT && !ret; b++) {
		for (m = 0; z->bug[b] && m < LAB_ZOO_NMODES; m++)
			if (z->mode[m])
				lab_zoo_bench_one(z, b, m);
		z->seconds = lab_zoo_now() - t0;
		ret = lab_mkdir_p(a->out)		      ? 2 :
		      lab_write_atomic(path, lab_zoo_emit, z) ? 2 :
								0;
	}
	if (!ret && !z->broken) {
		if (lab_zoo_coverage(z))
			z->broken = true;
		else if (lab_write_atomic(path, lab_zoo_emit, z))
			ret = 2;
	}
	if (!ret) {
		lab_zoo_emit(stdout, z);
		printf("\ntable: %s\n", path);
		/* the trials' findings with the table, which report.html
		 * charts; findings are expected here, unreadable files not */
		if (lab_report_render(&a->out, 1, path, a->out) == 2)
			ret = 2;
	}
	for (b = 1; b < LAB_BUG_COUNT && !ret; b++)
		if (z->bug[b] && lab_zoo_best(z, b) < 0)
			ret = 1; /* a bug that no mode detected */
	if (!ret && !z->broken && (z->cov_found || !z->ncov || z->silent))
		ret = 1; /* a detector not proven, or a false finding */
	if (z->broken) {
		fprintf(stderr, "labyrinth: zoo: some trials did not run "
				"(named above): the table is incomplete\n");
		ret = 2;
	}
	free(z);
	return ret;
}

void lab_zoo_help(FILE *out)
{
	fputs("usage: labyrinth zoo [list]\n"
	      "       labyrinth zoo run BUG --mode MODE [--seeds N] [--seed S] "
	      "[--budget SECONDS] [--out DIR]\n"
	      "       labyrinth zoo run none --mode MODE --backend NAME ...\n"
	      "       labyrinth zoo bench [--bugs A,B] [--modes M,N] [--seeds N] "
	      "[--seed S] [--budget SECONDS] [--out DIR]\n\n"
	      "The seeded bugs (docs/bug-zoo.md) and the harness modes that "
	      "hunt them.\n"
	      "run: one mode against one bug for N seeds (default 1) within "
	      "the budget\n"
	      "  (default 30 s) each; a controlled detection must replay "
	      "exactly from its\n"
	      "  artifact.  Exit 0 when every seed detected it, 1 when one "
	      "did not.\n"
	      "  BUG none runs the correct allocator: a control, where any "
	      "detection is a\n"
	      "  false positive (exit 1 is then the good outcome).  With "
	      "--backend NAME\n"
	      "  the stress modes run that backend-table allocator instead, "
	      "and a\n"
	      "  detection is its own bug (BUG must be none).\n"
	      "bench: every bug x every mode x seeds (default 5 seeds, 20 s "
	      "budget); writes\n"
	      "  DIR/zoo-bench.md (best mode per bug against the naive "
	      "baseline, then every\n"
	      "  mode), and renders it with the trials' findings into DIR "
	      "(report.html\n"
	      "  charts it).  Exit 1 when some bug was detected by no mode.\n"
	      "Trials run in DIR (default reports/zoo), one directory each "
	      "with its log,\n"
	      "  emptied of an earlier trial's files first.  Stress modes run "
	      "the pressure\n"
	      "  workload on a 4x8 maze (--profile pressure --width 4 "
	      "--height 8).\n",
	      out);
}

int lab_zoo_command(int argc, char **argv)
{
	struct lab_zoo_args a = {
		.out = "reports/zoo", .seeds = 1, .budget = 30, .seed = 1
	};
	const char *sub = argc > 1 ? argv[1] : "list";
	int i = 2, ret;

	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		lab_zoo_help(stdout);
		return 0;
	}
	if (!strcmp(sub, "list"))
		return argc > 2 ? lab_zoo_usage("list takes no arguments%s",
						NULL) :
				  lab_zoo_list();
	if (!strcmp(sub, "run")) {
		if (argc < 3 || argv[2][0] == '-')
			return lab_zoo_usage("run needs a BUG%s", NULL);
		a.bug = argv[2];
		i = 3;
	} else if (strcmp(sub, "bench")) {
		return lab_zoo_usage("unknown subcommand %s (list, run, "
				     "bench)",
				     sub);
	} else {
		a.seeds = 5;
		a.budget = 20;
	}
	for (; i < argc; i++)
		if ((ret = lab_zoo_flag(argc, argv, &i, &a)))
			return ret;
	if (lab_bug_select(lab_bug_name((enum lab_bug)1)))
		return lab_zoo_usage(
			"this build has no seeded bugs (release)%s", NULL);
	lab_bug_select("none");
	if (a.bug && !lab_zoo_bug_known(a.bug))
		return lab_zoo_usage("unknown bug %s (see 'labyrinth zoo')",
				     a.bug);
	if (a.bug && !a.mode)
		return lab_zoo_usage("run needs --mode MODE%s", NULL);
	if (a.backend && !a.bug)
		return lab_zoo_usage("--backend is a flag of 'zoo run'%s",
				     NULL);
	if (a.backend && !lab_backend_find(a.backend))
		return lab_zoo_usage("--backend: no backend %s", a.backend);
	if (a.backend && strcmp(a.bug, "none"))
		return lab_zoo_usage("--backend hunts the backend's own bugs: "
				     "BUG must be none, not %s",
				     a.bug);
	if ((ret = lab_zoo_check_list(a.bugs, "bug", lab_zoo_bench_bug)) ||
	    (ret = lab_zoo_check_list(a.modes, "mode", lab_zoo_mode_known)))
		return ret;
	return a.bug ? lab_zoo_run(&a) : lab_zoo_bench(&a);
}

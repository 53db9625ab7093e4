/* standalone.c - a main() that replays inputs through a fuzz target, for
 * builds without libFuzzer (gcc, or clang in any preset) and for ctest's
 * corpus replay.
 *
 *   fuzz_ops [-flag=value]... FILE|DIR...
 *
 * Each FILE argument, and every regular file of each DIR argument (sorted
 * by name, so a replay is deterministic; names starting with '.', notes
 * `*.txt` and `README*` are left out), is read into a malloc'd buffer of
 * exactly its size and passed once to LLVMFuzzerTestOneInput, so ASan
 * catches a target that reads one byte past the end.  LLVMFuzzerInitialize
 * runs first if the target defines it.  Arguments starting with '-' are
 * libFuzzer flags (-runs=0, -dict=...): ignored, so one command line works
 * with both kinds of binary.
 *
 * A file that cannot be read, is empty, or is larger than LAB_REPLAY_MAX
 * gets one line naming it and is skipped; the others still run.  Exit
 * status: 0 every input ran; 1 the target returned something other than 0
 * or -1; 2 an input was skipped or unreadable, or no input ran (a corpus
 * replay must fail loudly, never pass by running nothing).  A crash in the
 * target aborts the process, as under libFuzzer.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* libFuzzer's default -max_len is far below this; a larger corpus file is
 * junk, not an input. */
#define LAB_REPLAY_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Weak: a target without it links to a null address. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

struct replay {
	unsigned ran, skipped, bad_returns;
};

static const char *prog = "standalone";

static void skip(struct replay *r, const char *path, const char *why)
{
	fprintf(stderr, "%s: %s: %s, skipped\n", prog, path, why);
	r->skipped++;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Reads the whole of an open file of `size` bytes into a buffer of exactly
 * that size; NULL (errno set) on a read error or if the file changed size. */
static uint8_t *read_exact(FILE *f, size_t size)
{
	uint8_t *buf = malloc(size);
	size_t got;

	if (!buf)
		return NULL;
	got = fread(buf, 1, size, f);
	if (got != size || fgetc(f) != EOF) {
		if (!ferror(f))
			errno = EAGAIN; /* shrank or grew while read */
		free(buf);
		return NULL;
	}
	return buf;
}

static void run_one(struct replay *r, const char *path, size_t size,
		    uint8_t *buf)
{
	double start = now_ms();
	int ret;

	fprintf(stderr, "Running: %s\n", path);
	ret = LLVMFuzzerTestOneInput(buf, size);
	fprintf(stderr, "Executed %s in %.0f ms\n", path, now_ms() - start);
	r->ran++;
	if (ret != 0 && ret != -1) {
		fprintf(stderr,
			"%s: %s: target returned %d (must be 0 or -1)\n", prog,
			path, ret);
		r->bad_returns++;
	}
}

static void replay_file(struct replay *r, const char *path)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;

	/* stat before open: opening a FIFO would block. */
	if (stat(path, &st)) {
		skip(r, path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		skip(r, path, "not a regular file");
		return;
	}
	if (!(f = fopen(path, "rb"))) {
		skip(r, path, strerror(errno));
		return;
	}
	if (fstat(fileno(f), &st) || st.st_size == 0) {
		skip(r, path, "empty");
	} else if ((uintmax_t)st.st_size > LAB_REPLAY_MAX) {
		skip(r, path, "larger than 1 MiB");
	} else if (!(buf = read_exact(f, (size_t)st.st_size))) {
		skip(r, path,
		     errno == EAGAIN ? "changed while being read" :
				       strerror(errno));
	} else {
		run_one(r, path, (size_t)st.st_size, buf);
		free(buf);
	}
	fclose(f);
}

/* A directory entry that is an input: not hidden, not a note. */
static bool is_input_name(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.' || strncmp(name, "README", 6) == 0)
		return false;
	return !(len >= 4 && strcmp(name + len - 4, ".txt") == 0);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends a copy of name to the growing array *names (*n used, *cap
 * allocated); false when memory runs out. */
static bool push_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t grown_cap = *cap ? 2 * *cap : 64;
		char **grown = realloc(*names, grown_cap * sizeof(**names));

		if (!grown)
			return false;
		*names = grown;
		*cap = grown_cap;
	}
	(*names)[*n] = strdup(name);
	return (*names)[(*n)++] != NULL;
}

static void free_names(char **names, size_t n)
{
	while (n)
		free(names[--n]);
	free(names);
}

/* The input names of a directory, sorted, in *names (*count of them);
 * false (errno set) if it cannot be listed. */
static bool list_inputs(const char *dir, char ***names, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	bool ok = true;

	*names = NULL;
	*count = 0;
	if (!d)
		return false;
	while (ok && (e = readdir(d)))
		if (is_input_name(e->d_name))
			ok = push_name(names, count, &cap, e->d_name);
	closedir(d);
	if (!ok) {
		free_names(*names, *count);
		errno = ENOMEM;
		return false;
	}
	if (*count)
		qsort(*names, *count, sizeof(**names), compare_names);
	return true;
}

static void replay_dir(struct replay *r, const char *dir)
{
	char **names, path[4096];
	size_t i, n;
	struct stat st;

	if (!list_inputs(dir, &names, &n)) {
		skip(r, dir, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     names[i]) >= sizeof(path))
			skip(r, names[i], "path too long");
		/* Subdirectories and special files are not inputs. */
		else if (stat(path, &st) || S_ISREG(st.st_mode))
			replay_file(r, path);
	}
	free_names(names, n);
}

static void replay_arg(struct replay *r, const char *arg)
{
	struct stat st;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		replay_dir(r, arg);
	else
		replay_file(r, arg);
}

int main(int argc, char **argv)
{
	struct replay r = { 0 };
	int i, inputs = 0;

	if (argc > 0 && argv[0][0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		inputs++;
		replay_arg(&r, argv[i]);
	}
	if (!inputs) {
		fprintf(stderr, "usage: %s [-flag=value]... FILE|DIR...\n",
			prog);
		return 2;
	}
	fprintf(stderr, "%s: %u input(s) replayed, %u skipped%s\n", prog, r.ran,
		r.skipped, r.ran ? "" : ": no input ran");
	if (r.skipped || !r.ran)
		return 2;
	return r.bad_returns ? 1 : 0;
}

/* seedgen.c - lab_seedgen: writes the seed corpora from the seed
 * generators (fuzz/<target>_seeds.c, declared in seedgen.h).
 *
 *   lab_seedgen TARGET DIR        seeds of one target into DIR
 *   lab_seedgen all CORPUS_ROOT   every target into CORPUS_ROOT/<target>/
 *   lab_seedgen list              the targets this build knows
 *
 * Directories are created as needed.  Each seed becomes the file named by
 * its generator, written to a temporary file in the same directory and
 * renamed over the old one, so an interrupted run never leaves a truncated
 * seed behind.  Other files in DIR (inputs merged from campaigns) are left
 * alone.  Exit status: 0 written, 1 a write failed or a generator emitted a
 * bad or duplicate name, 2 bad arguments (one line on stderr).
 *
 * Which generators exist comes from the build: LAB_SEED_TARGETS is an
 * X-macro list, X(fuzz_ops) X(fuzz_api) ..., made by fuzz/CMakeLists.txt
 * from the fuzz/<target>_seeds.c files present.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seedgen.h"

#ifndef LAB_SEED_TARGETS
#define LAB_SEED_TARGETS X(fuzz_ops) X(fuzz_api) X(fuzz_sched) X(fuzz_threads)
#endif

/* Declares the generators of targets seedgen.h does not know yet. */
#define X(t) void lab_seeds_##t(const struct lab_seed_sink *sink);
LAB_SEED_TARGETS
#undef X

struct generator {
	const char *target;
	void (*run)(const struct lab_seed_sink *sink);
};

#define X(t) { #t, lab_seeds_##t },
static const struct generator generators[] = { LAB_SEED_TARGETS };
#undef X

#define N_GENERATORS (sizeof(generators) / sizeof(generators[0]))
#define MAX_SEEDS 4096

/* State of one target's run, behind the sink's arg. */
struct writer {
	const char *dir;
	char *names[MAX_SEEDS]; /* written so far, to catch duplicates */
	unsigned count;
	bool failed;
};

static void fail(struct writer *w, const char *name, const char *why)
{
	fprintf(stderr, "lab_seedgen: %s/%s: %s\n", w->dir, name, why);
	w->failed = true;
}

/* A seed name must be a plain file name the replay driver will read: no
 * directory part, not hidden, not a note (*.txt, README*). */
static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len < 200 && !strchr(name, '/') && name[0] != '.' &&
	       strncmp(name, "README", 6) != 0 &&
	       !(len >= 4 && strcmp(name + len - 4, ".txt") == 0);
}

static bool write_all(int fd, const uint8_t *data, size_t size)
{
	while (size) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		size -= (size_t)n;
	}
	return true;
}

/* Writes DIR/name through DIR/.name.tmp and rename(2). */
static bool write_atomically(struct writer *w, const char *name,
			     const uint8_t *data, size_t size)
{
	char tmp[4096], path[4096];
	int fd, saved;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", w->dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", w->dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return false;
	ok = write_all(fd, data, size);
	ok = (close(fd) == 0) && ok;
	if (ok && rename(tmp, path) == 0)
		return true;
	saved = errno;
	unlink(tmp);
	errno = saved;
	return false;
}

static void emit(void *arg, const char *name, const uint8_t *data, size_t size)
{
	struct writer *w = arg;
	unsigned i;

	if (!name || !valid_name(name)) {
		fail(w, name ? name : "(null)", "bad seed name");
		return;
	}
	for (i = 0; i < w->count; i++)
		if (strcmp(w->names[i], name) == 0) {
			fail(w, name, "emitted twice");
			return;
		}
	/* The replay driver refuses these (standalone.c). */
	if (size == 0 || size > (1u << 20)) {
		fail(w, name, size ? "larger than 1 MiB" : "empty seed");
		return;
	}
	if (w->count == MAX_SEEDS) {
		fail(w, name, "too many seeds");
		return;
	}
	if (!write_atomically(w, name, data, size)) {
		fail(w, name, strerror(errno));
		return;
	}
	w->names[w->count++] = strdup(name);
}

/* mkdir -p */
static bool make_dirs(const char *dir)
{
	char buf[4096];
	size_t i, len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return false;
		buf[i] = dir[i];
	}
	return true;
}

static bool generate(const struct generator *g, const char *dir)
{
	struct writer *w = calloc(1, sizeof(*w));
	struct lab_seed_sink sink = { emit, w };
	bool ok;

	if (!w || !make_dirs(dir)) {
		fprintf(stderr, "lab_seedgen: %s: %s\n", dir, strerror(errno));
		free(w);
		return false;
	}
	w->dir = dir;
	g->run(&sink);
	ok = !w->failed;
	printf("%s: %u seed(s) in %s\n", g->target, w->count, dir);
	while (w->count)
		free(w->names[--w->count]);
	free(w);
	return ok;
}

static const struct generator *find_generator(const char *target)
{
	size_t i;

	for (i = 0; i < N_GENERATORS; i++)
		if (strcmp(generators[i].target, target) == 0)
			return &generators[i];
	return NULL;
}

static int usage(const char *why, const char *what)
{
	size_t i;

	fprintf(stderr,
		"lab_seedgen: %s%s (usage: lab_seedgen TARGET|all DIR; "
		"targets:",
		why, what);
	for (i = 0; i < N_GENERATORS; i++)
		fprintf(stderr, " %s", generators[i].target);
	fprintf(stderr, ")\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct generator *g;
	char dir[4096];
	bool ok = true;
	size_t i;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (i = 0; i < N_GENERATORS; i++)
			printf("%s\n", generators[i].target);
		return 0;
	}
	if (argc != 3)
		return usage("expected TARGET and DIR", "");
	if (!argv[2][0])
		return usage("empty directory name", "");
	if (strcmp(argv[1], "all") != 0) {
		g = find_generator(argv[1]);
		if (!g)
			return usage("unknown target: ", argv[1]);
		return generate(g, argv[2]) ? 0 : 1;
	}
	for (i = 0; i < N_GENERATORS; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", argv[2],
			 generators[i].target);
		ok = generate(&generators[i], dir) && ok;
	}
	return ok ? 0 : 1;
}

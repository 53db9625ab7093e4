/* tgkill.c - `lab_tgkill PID TID SIGNAL...`: sends each SIGNAL (a number
 * or INT, TERM, ...), in order and at once, to the one thread TID of
 * process PID, as tgkill(2) does.
 * kill(1) and os.kill() target a whole process, where the kernel picks
 * the thread; the stop-signal test needs the signal to land on a chosen
 * worker thread.  Exit status: 0 sent, 1 the thread is gone, 2 usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int lab_signal_number(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = { { "INT", SIGINT },
		      { "TERM", SIGTERM },
		      { "USR1", SIGUSR1 },
		      { "KILL", SIGKILL } };
	char *end;
	long v = strtol(s, &end, 10);
	size_t i;

	if (*s && !*end && v > 0 && v < 65)
		return (int)v;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	return -1;
}

int main(int argc, char **argv)
{
	long pid = argc > 3 ? atol(argv[1]) : 0, tid = pid ? atol(argv[2]) : 0;
	int sigs[16], n = argc - 3, i;

	for (i = 0; i < n && i < 16; i++)
		sigs[i] = lab_signal_number(argv[3 + i]);
	for (i = 0; i < n && sigs[i] > 0; i++)
		;
	if (pid <= 0 || tid <= 0 || n < 1 || n > 16 || i < n) {
		fprintf(stderr, "usage: lab_tgkill PID TID SIGNAL...\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (syscall(SYS_tgkill, (pid_t)pid, (pid_t)tid, sigs[i])) {
			fprintf(stderr, "lab_tgkill: %ld/%ld: %s\n", pid, tid,
				strerror(errno));
			return 1;
		}
	}
	return 0;
}

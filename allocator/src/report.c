/* report.c - misuse reports, error messages and a signal-safe formatter.
 *
 * Reports can fire inside a signal handler that interrupted the allocator,
 * so nothing here allocates, locks or uses stdio: messages are formatted
 * with a small formatter into stack buffers and written with write(2).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const char *const lab_report_names[LAB_REPORT_KIND_COUNT] = {
	[LAB_REPORT_DOUBLE_FREE] = "double-free",
	[LAB_REPORT_FOREIGN_FREE] = "foreign-free",
	[LAB_REPORT_FOREIGN_ACCESS] = "foreign-access",
	[LAB_REPORT_WRONG_ORDER] = "wrong-order-free",
	[LAB_REPORT_BAD_POINTER] = "bad-pointer",
	[LAB_REPORT_OUT_OF_RANGE] = "out-of-range",
	[LAB_REPORT_WRONG_MAZE] = "wrong-maze",
	[LAB_REPORT_POISON] = "poison-overwritten",
	[LAB_REPORT_USE_AFTER_FREE] = "use-after-free",
	[LAB_REPORT_SLEEP_IN_ATOMIC] = "sleep-in-atomic",
	[LAB_REPORT_NOFAIL_MISUSE] = "nofail-misuse",
	[LAB_REPORT_ALLOC_FAILURE] = "alloc-failure",
	[LAB_REPORT_INCONSISTENT] = "inconsistent",
	[LAB_REPORT_CONTEXT] = "context-imbalance",
};

const char *lab_report_kind_name(enum lab_report_kind kind)
{
	if ((unsigned)kind >= LAB_REPORT_KIND_COUNT)
		return "?";
	return lab_report_names[kind];
}

/* ---- detectors -------------------------------------------------------------
 * Each check's stable name and the kind it reports with.  The counters
 * are relaxed atomic adds: they order nothing, and a report may fire in
 * a signal handler. */

static const struct {
	const char *name;
	enum lab_report_kind kind;
} lab_detectors[LAB_DET_COUNT] = {
	[LAB_DET_POISON_SCAN] = { "poison-scan", LAB_REPORT_POISON },
	[LAB_DET_DOUBLE_FREE] = { "double-free", LAB_REPORT_DOUBLE_FREE },
	[LAB_DET_WRONG_ORDER_FREE] = { "wrong-order-free",
				       LAB_REPORT_WRONG_ORDER },
	[LAB_DET_TAIL_FRAME_FREE] = { "tail-frame-free",
				      LAB_REPORT_BAD_POINTER },
	[LAB_DET_MISALIGNED_FREE] = { "misaligned-free",
				      LAB_REPORT_BAD_POINTER },
	[LAB_DET_FOREIGN_FREE] = { "foreign-free", LAB_REPORT_FOREIGN_FREE },
	[LAB_DET_FOREIGN_ACCESS] = { "foreign-access",
				     LAB_REPORT_FOREIGN_ACCESS },
	[LAB_DET_HANDOFF_FOREIGN] = { "handoff-foreign",
				      LAB_REPORT_FOREIGN_ACCESS },
	[LAB_DET_HANDOFF_ARGS] = { "handoff-args", LAB_REPORT_WRONG_ORDER },
	[LAB_DET_HANDOFF_FREED] = { "handoff-freed",
				    LAB_REPORT_USE_AFTER_FREE },
	[LAB_DET_STALE_FREE] = { "stale-free", LAB_REPORT_DOUBLE_FREE },
	[LAB_DET_STALE_HANDOFF] = { "stale-handoff",
				    LAB_REPORT_USE_AFTER_FREE },
	[LAB_DET_ACCESS_FREE] = { "access-free", LAB_REPORT_USE_AFTER_FREE },
	[LAB_DET_ACCESS_OVERRUN] = { "access-overrun", LAB_REPORT_BAD_POINTER },
	[LAB_DET_BAD_DESCRIPTOR] = { "bad-descriptor", LAB_REPORT_BAD_POINTER },
	[LAB_DET_INSIDE_FRAME] = { "inside-frame", LAB_REPORT_BAD_POINTER },
	[LAB_DET_WRONG_MAZE] = { "wrong-maze", LAB_REPORT_WRONG_MAZE },
	[LAB_DET_OUT_OF_RANGE] = { "out-of-range", LAB_REPORT_OUT_OF_RANGE },
	[LAB_DET_MIGHT_SLEEP] = { "might-sleep", LAB_REPORT_SLEEP_IN_ATOMIC },
	[LAB_DET_NOFAIL_NONBLOCKING] = { "nofail-nonblocking",
					 LAB_REPORT_NOFAIL_MISUSE },
	[LAB_DET_NOFAIL_ORDER] = { "nofail-order", LAB_REPORT_NOFAIL_MISUSE },
	[LAB_DET_ALLOC_FAILURE] = { "alloc-failure", LAB_REPORT_ALLOC_FAILURE },
	[LAB_DET_MAZE_CHECK] = { "maze-check", LAB_REPORT_INCONSISTENT },
	[LAB_DET_WATERMARK_DIP] = { "watermark-dip", LAB_REPORT_INCONSISTENT },
	[LAB_DET_CONTEXT_IMBALANCE] = { "context-imbalance",
					LAB_REPORT_CONTEXT },
};

static lab_atomic64_t lab_detector_fired_all[LAB_DET_COUNT];

const char *lab_detector_name(enum lab_detector det)
{
	return (unsigned)det < LAB_DET_COUNT ? lab_detectors[det].name : "?";
}

enum lab_report_kind lab_detector_kind(enum lab_detector det)
{
	return (unsigned)det < LAB_DET_COUNT ? lab_detectors[det].kind :
					       LAB_REPORT_KIND_COUNT;
}

enum lab_detector lab_detector_find(const char *name)
{
	unsigned d;

	for (d = 0; name && d < LAB_DET_COUNT; d++)
		if (!strcmp(name, lab_detectors[d].name))
			return (enum lab_detector)d;
	return LAB_DET_COUNT;
}

void _lab_detector_hit(const struct lab_maze *maze, enum lab_detector det)
{
	if ((unsigned)det >= LAB_DET_COUNT)
		return;
	lab_counter_add_relaxed(&lab_detector_fired_all[det], 1);
	if (maze) /* atomics inside a maze that is never const itself */
		lab_counter_add_relaxed(&((struct lab_maze *)maze)->detector_fired[det],
				1);
}

int lab_detector_stats(const struct lab_maze *maze,
		       struct lab_detector_stats *out)
{
	const lab_atomic64_t *c = maze ? maze->detector_fired :
					 lab_detector_fired_all;
	unsigned d;

	if (!out) {
		_lab_set_error("lab_detector_stats: NULL out");
		return -EINVAL;
	}
	for (d = 0; d < LAB_DET_COUNT; d++)
		out->fired[d] = lab_counter_load_relaxed(&c[d]);
	return 0;
}

/* Kinds after which memory may already be corrupt: the default hook stops
 * the process.  Sleep-in-atomic, warnings and imbalance are survivable, as
 * in the kernel (which prints and goes on). */
static bool lab_report_is_fatal(enum lab_report_kind kind)
{
	switch (kind) {
	case LAB_REPORT_SLEEP_IN_ATOMIC:
	case LAB_REPORT_NOFAIL_MISUSE:
	case LAB_REPORT_ALLOC_FAILURE:
	case LAB_REPORT_CONTEXT:
		return false;
	default:
		return true;
	}
}

/* ---- formatter ----------------------------------------------------------
 * Supports %s %c %d %u %x %ld %lu %lx %lld %llu %llx %zu %p %% — enough
 * for our messages, and free of locale, malloc and locks. */

struct lab_out {
	char *buf;
	size_t size, len;
};

LAB_NO_COVERAGE_BEGIN

static void lab_out_char(struct lab_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void lab_out_str(struct lab_out *o, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		lab_out_char(o, *s++);
}

static void lab_out_num(struct lab_out *o, unsigned long long v, unsigned base,
			bool negative)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		lab_out_char(o, '-');
	while (n)
		lab_out_char(o, digits[--n]);
}

/* Reads one signed integer argument of the given length modifier. */
static long long lab_arg_signed(va_list *ap, int lng)
{
	if (lng >= 2)
		return va_arg(*ap, long long);
	if (lng == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static unsigned long long lab_arg_unsigned(va_list *ap, int lng, bool zarg)
{
	if (zarg)
		return va_arg(*ap, size_t);
	if (lng >= 2)
		return va_arg(*ap, unsigned long long);
	if (lng == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned);
}

static void lab_out_int(struct lab_out *o, va_list *ap, int lng, bool zarg,
			char conv)
{
	long long s;

	if (conv != 'd') {
		lab_out_num(o, lab_arg_unsigned(ap, lng, zarg),
			    conv == 'x' ? 16 : 10, false);
		return;
	}
	s = lab_arg_signed(ap, lng);
	lab_out_num(
		o, s < 0 ? 0ull - (unsigned long long)s : (unsigned long long)s,
		10, s < 0);
}

size_t _lab_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct lab_out o = { buf, size, 0 };
	va_list args;

	va_copy(args, ap);
	for (; *fmt; fmt++) {
		int lng = 0;
		bool zarg = false;

		if (*fmt != '%') {
			lab_out_char(&o, *fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		if (*fmt == 'z') {
			zarg = true;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			lab_out_str(&o, va_arg(args, const char *));
			break;
		case 'c':
			lab_out_char(&o, (char)va_arg(args, int));
			break;
		case 'p':
			lab_out_str(&o, "0x");
			lab_out_num(&o, (uintptr_t)va_arg(args, void *), 16,
				    false);
			break;
		case 'd':
		case 'u':
		case 'x':
			lab_out_int(&o, &args, lng, zarg, *fmt);
			break;
		case '%':
			lab_out_char(&o, '%');
			break;
		default: /* unknown conversion: print it, consume nothing */
			lab_out_char(&o, '%');
			if (!*fmt)
				goto out;
			lab_out_char(&o, *fmt);
		}
	}
out:
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

size_t lab_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = _lab_vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}


/* ---- last error ----------------------------------------------------------
 * Kept in the current context, not in TLS: a scheduler running logical
 * threads on one pthread gives each its own message. */

void _lab_set_error(const char *fmt, ...)
{
	struct lab_ctx *ctx = _lab_ctx();
	va_list ap;

	va_start(ap, fmt);
	_lab_vformat(ctx->last_error, sizeof(ctx->last_error), fmt, ap);
	va_end(ap);
}

LAB_NO_COVERAGE_END

const char *lab_last_error(void)
{
	return _lab_ctx()->last_error;
}

/* ---- hook ------------------------------------------------------------------ */

static _Atomic(lab_report_fn) lab_global_hook;
static _Atomic(void *) lab_global_hook_arg;

void lab_set_report_hook(lab_report_fn fn, void *arg)
{
	atomic_store(&lab_global_hook_arg, arg);
	atomic_store(&lab_global_hook, fn);
}

static void lab_write_all(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w <= 0 && errno != EINTR)
			return;
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		}
	}
}

void lab_report_default(const struct lab_report *r, void *arg)
{
	char line[512];
	size_t n;
	int saved = errno;

	(void)arg;
	n = lab_format(line, sizeof(line), "%s: %s\n",
			r->fatal || r->kind == LAB_REPORT_SLEEP_IN_ATOMIC ?
				"BUG" :
				"WARNING",
			r->message);
	lab_write_all(line, n < sizeof(line) ? n : sizeof(line) - 1);
	n = lab_format(line, sizeof(line),
			"in_atomic(): %d, irqs_disabled(): %d, in_irq(): %d, "
			"preempt_count: %u, ctx: %x, function: %s\n",
			r->preempt_count > 0 || r->in_irq, r->irqs_disabled,
			r->in_irq, r->preempt_count, r->ctx, r->function);
	lab_write_all(line, n < sizeof(line) ? n : sizeof(line) - 1);
	errno = saved;
	if (r->fatal)
		abort();
}

void _lab_report(const struct lab_maze *maze, enum lab_detector det,
		 const char *function, uint64_t pfn, unsigned order,
		 uint32_t owner, const char *fmt, ...)
{
	char msg[320];
	enum lab_report_kind kind = lab_detector_kind(det);
	struct lab_report r;
	lab_report_fn fn = atomic_load(&lab_global_hook);
	void *arg = atomic_load(&lab_global_hook_arg);
	va_list ap;

	va_start(ap, fmt);
	_lab_vformat(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.detector = det;
	r.fatal = lab_report_is_fatal(kind);
	r.function = function;
	r.message = msg;
	r.maze = maze;
	r.pfn = pfn;
	r.order = order;
	r.owner = owner;
	r.ctx = lab_ctx_id();
	r.in_irq = lab_in_irq();
	r.irqs_disabled = lab_irqs_disabled();
	r.preempt_count = lab_preempt_count();
	if (maze) {
		/* Counters are atomics inside a maze that is never const
		 * itself; reports take a const pointer for the callers' sake. */
		struct lab_maze *m = (struct lab_maze *)maze;

		_lab_stat_inc(kind == LAB_REPORT_SLEEP_IN_ATOMIC ?
				      &m->shared_stats.sleep_in_atomic :
				      &m->shared_stats.misuse);
	}
	_lab_detector_hit(maze, det);
	if (maze && maze->cfg.report) {
		fn = maze->cfg.report;
		arg = maze->cfg.report_arg;
	}
	if (!fn)
		fn = lab_report_default;
	fn(&r, arg);
}

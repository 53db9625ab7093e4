/* fuzz_api.c - libFuzzer target: the public API against hostile arguments
 * (format: fuzz_api.h).  Geometry, watermarks and cache sizes (with
 * overflowing values), arbitrary gfp words and orders, addresses and
 * descriptor pointers inside, outside, misaligned, offset by any amount or
 * in another live maze, NULL, conversions, handoffs to any owner, failure
 * plans, context ids, names; the mutex buddy through its public ops table.
 *
 * Every call must return an error value, or draw a report through the
 * hook installed here (which never aborts), never crash.  The outcome is
 * predicted exactly from a model of each maze (fuzz_shadow.h): return
 * value, reports (kinds and counts), results of conversions.  After every
 * call each live maze must pass lab_maze_check() with its frames
 * conserved.  At the end every block is freed by its owner (a context is
 * made for any owner id that can be one) and the mazes are destroyed.
 *
 * Hostile pointers are never dereferenced here; the allocator must judge
 * them by range before touching anything (it does: maze.c's lookups
 * compare addresses with the maze's range and descriptor array first).
 * What the target keeps benign, and why:
 *  - only mazes of at most 64 frames and 64 KiB are created (larger valid
 *    geometries are checked with lab_maze_config_watermarks instead), so
 *    no input maps or poisons gigabytes;
 *  - reclaim_rounds is 0..3 and the wait hook times out at once;
 *  - __GFP_NOFAIL is dropped from blocking classes, where it may wait
 *    forever by contract (with non-blocking classes it must be rejected).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_api.h"
#include "fuzz_common.h"
#include "fuzz_shadow.h"

#define FA_SMALL_BYTES (64u << 10)
#define FA_ALIGN_SHIFT_MAX 30 /* max_order + page shift of a created maze */
#define FA_MB_HELD 64
#define FA_TASK0 0x7ffe0001u /* the input's own context */

struct fa_maze {
	struct lab_maze *m; /* NULL: the slot is empty */
	struct lab_fzs sh;
	uintptr_t base, desc0;
	size_t page_size, stride;
	unsigned width;
};

/* The mutex buddy, known only through lab_backend_mutex_buddy. */
struct fa_mb {
	void *inst;
	uint64_t frames, held_frames;
	size_t page_size;
	unsigned max_order, nheld;
	struct {
		uintptr_t addr;
		unsigned order;
	} held[FA_MB_HELD];
};

struct fa {
	struct fa_maze mz[LAB_FZA_MAZES];
	struct fa_mb mb;
	struct lab_ctx *ctx[LAB_FZA_CTXS];
	unsigned cur;
	unsigned want[LAB_REPORT_KIND_COUNT], got[LAB_REPORT_KIND_COUNT];
	char msg[200];
	unsigned call;
	const char *name;
};

static struct fa fa_state;
static bool fa_trace; /* LAB_FUZZ_TRACE: print every call */

#define FA_CHECK(st, cond, fmt, ...)                                    \
	LAB_FUZZ_CHECK(cond, "fuzz_api call %u (%s): " fmt, (st)->call, \
		       (st)->name, __VA_ARGS__)

/* ---- reports ---------------------------------------------------------- */

/* Records every report; never aborts (the default hook would). */
static void fa_report(const struct lab_report *r, void *arg)
{
	struct fa *st = arg;
	size_t i;

	FA_CHECK(st, (unsigned)r->kind < LAB_REPORT_KIND_COUNT,
		 "report of unknown kind %d", (int)r->kind);
	st->got[r->kind]++;
	for (i = 0; i + 1 < sizeof(st->msg) && r->message[i]; i++)
		st->msg[i] = r->message[i];
	st->msg[i] = '\0';
}

static void fa_expect(struct fa *st, struct lab_fzs_verdict v, long ret,
		      const char *call)
{
	if (v.kind != LAB_FZS_NONE)
		st->want[v.kind]++;
	FA_CHECK(st, ret == v.ret, "%s returned %ld, expected %d (%s)", call,
		 ret, v.ret, lab_last_error());
}

/* ---- where pointers land ------------------------------------------------ */

static uint32_t fa_me(void)
{
	return lab_ctx_id();
}

static uint64_t fa_bytes(const struct fa_maze *z)
{
	return z->sh.frames << z->sh.shift;
}

/* The other live maze holding address p, if any (ours are all there are). */
static bool fa_in_other(const struct fa *st, const struct fa_maze *z,
			uintptr_t p)
{
	unsigned i;

	for (i = 0; i < LAB_FZA_MAZES; i++) {
		const struct fa_maze *o = &st->mz[i];

		if (o != z && o->m && p - o->base < fa_bytes(o))
			return true;
	}
	return false;
}

/* Verdict for an address outside maze z. */
static struct lab_fzs_verdict fa_outside(const struct fa *st,
					 const struct fa_maze *z, uintptr_t p)
{
	return lab_fzs_v(-EFAULT, fa_in_other(st, z, p) ?
					  LAB_REPORT_WRONG_MAZE :
					  LAB_REPORT_OUT_OF_RANGE);
}

/* The pfn of descriptor pointer p in z, or LAB_NO_PFN. */
static uint64_t fa_desc_pfn(const struct fa_maze *z, uintptr_t p)
{
	uintptr_t off = p - z->desc0;

	if (!z->m || off >= z->sh.frames * z->stride || off % z->stride)
		return LAB_NO_PFN;
	return off / z->stride;
}

/* ---- operands ---------------------------------------------------------- */

static struct fa_maze fa_none; /* the NULL maze: m is NULL */

/* A maze slot (possibly empty) or the NULL maze. */
static struct fa_maze *fa_maze_arg(struct fa *st, struct lab_fi *in)
{
	unsigned i = (unsigned)lab_fi_range(in, LAB_FZA_MAZES + 1);

	return i < LAB_FZA_MAZES && st->mz[i].m ? &st->mz[i] : &fa_none;
}

static const struct lab_fzs_block *fa_held(struct fa *st, struct lab_fi *in,
					   struct fa_maze **z)
{
	unsigned slot = (unsigned)lab_fi_range(in, LAB_FZA_MAZES);
	unsigned i = lab_fi_u8(in);

	*z = &st->mz[slot];
	return (*z)->sh.nheld ? &(*z)->sh.held[i % (*z)->sh.nheld] : NULL;
}

/* Where frame pfn of z is, as an address or as a descriptor. */
static uintptr_t fa_at(const struct fa_maze *z, bool desc, uint64_t pfn)
{
	return desc ? z->desc0 + (uintptr_t)pfn * z->stride :
		      z->base + (uintptr_t)(pfn << z->sh.shift);
}

/* An address or a descriptor pointer (fuzz_api.h, enum lab_fza_at). */
static uintptr_t fa_pointer(struct fa *st, struct lab_fi *in, bool desc)
{
	unsigned kind =
		(unsigned)lab_fi_range(in, desc ? LAB_FZA_DESCS : LAB_FZA_PTRS);
	const struct lab_fzs_block *b;
	struct fa_maze *z;
	unsigned i;

	switch (kind) {
	case LAB_FZA_AT_BLOCK:
		b = fa_held(st, in, &z);
		return (b ? fa_at(z, desc, b->pfn) : 0) +
		       (uintptr_t)lab_fza_value(in);
	case LAB_FZA_AT_MAZE:
		z = &st->mz[lab_fi_range(in, LAB_FZA_MAZES)];
		return fa_at(z, desc, 0) + (uintptr_t)lab_fza_value(in);
	case LAB_FZA_AT_RAW:
		return (uintptr_t)lab_fi_u64(in);
	case LAB_FZA_AT_MB:
		i = lab_fi_u8(in);
		return (st->mb.nheld ? st->mb.held[i % st->mb.nheld].addr : 0) +
		       (uintptr_t)lab_fza_value(in);
	default:
		return 0;
	}
}

static uintptr_t fa_ptr(struct fa *st, struct lab_fi *in)
{
	return fa_pointer(st, in, false);
}

static uintptr_t fa_desc(struct fa *st, struct lab_fi *in)
{
	return fa_pointer(st, in, true);
}

/* ---- configurations ---------------------------------------------------- */

/* lab_maze_create's geometry rules (maze.c); frames and page shift out. */
static bool fa_geometry_ok(const struct lab_maze_config *c, uint64_t *frames,
			   unsigned *shift)
{
	size_t ps = c->page_size ? c->page_size : LAB_PAGE_SIZE_DEFAULT;
	uint64_t n = (uint64_t)c->width * c->height;

	if (!c->width || !c->height || n > LAB_FRAMES_LIMIT)
		return false;
	if ((ps & (ps - 1)) || ps < 256 || ps > (2u << 20))
		return false;
	if (n * ps > (1ull << 40))
		return false;
	*frames = n;
	*shift = (unsigned)__builtin_ctzll(ps);
	return true;
}

static bool fa_wmarks_default(const struct lab_maze_config *c)
{
	return !c->wmark_min && !c->wmark_low && !c->wmark_high;
}

/* The rest of lab_maze_create's rules. */
static bool fa_config_ok(const struct lab_maze_config *c, uint64_t frames)
{
	if (c->max_order > LAB_MAX_ORDER_LIMIT)
		return false;
	if (!fa_wmarks_default(c) &&
	    !(c->wmark_min <= c->wmark_low && c->wmark_low <= c->wmark_high &&
	      c->wmark_high <= frames))
		return false;
	return !c->pcp_high || (c->pcp_batch && c->pcp_batch <= c->pcp_high &&
				c->pcp_high <= 4096);
}

/* The mutex buddy's rules: the same geometry and watermark order as
 * lab_maze_create (mutex_buddy.c), no cache fields. */
static bool fa_mb_config_ok(const struct lab_maze_config *c, uint64_t frames)
{
	if (c->max_order > LAB_MAX_ORDER_LIMIT)
		return false;
	return fa_wmarks_default(c) ||
	       (c->wmark_min <= c->wmark_low && c->wmark_low <= c->wmark_high &&
		c->wmark_high <= frames);
}

/* Mazes the target may really create: small, modelled, cheap to map. */
static bool fa_small(const struct lab_maze_config *c, uint64_t frames,
		     unsigned shift)
{
	return frames <= LAB_FZS_MAX_FRAMES &&
	       (frames << shift) <= FA_SMALL_BYTES &&
	       c->max_order + shift <= FA_ALIGN_SHIFT_MAX;
}

/* A valid geometry too large to create: the default watermarks it gets
 * must be valid for it. */
static void fa_check_defaults(struct fa *st, struct lab_maze_config cfg,
			      uint64_t frames)
{
	int ret = lab_maze_config_watermarks(&cfg);

	FA_CHECK(st, ret == 0, "lab_maze_config_watermarks: %s",
		 lab_last_error());
	FA_CHECK(st,
		 cfg.wmark_min <= cfg.wmark_low &&
			 cfg.wmark_low <= cfg.wmark_high &&
			 cfg.wmark_high <= frames,
		 "default watermarks %llu/%llu/%llu for %llu frames",
		 (unsigned long long)cfg.wmark_min,
		 (unsigned long long)cfg.wmark_low,
		 (unsigned long long)cfg.wmark_high,
		 (unsigned long long)frames);
}

/* ---- calls ------------------------------------------------------------- */

static void fa_drop(struct fa_maze *z)
{
	lab_maze_destroy(z->m); /* blocks still held are lost, as documented */
	memset(z, 0, sizeof(*z));
}

static void fa_adopt_maze(struct fa_maze *z, struct lab_maze *m,
			  const struct lab_maze_config *cfg, uint64_t frames,
			  unsigned shift)
{
	z->m = m;
	lab_fzs_init(&z->sh, frames, shift, cfg->max_order);
	z->base = (uintptr_t)lab_pfn_to_virt(m, 0);
	z->desc0 = (uintptr_t)lab_pfn_to_page(m, 0);
	z->stride = frames > 1 ? (uintptr_t)lab_pfn_to_page(m, 1) - z->desc0 :
				 16;
	z->page_size = (size_t)1 << shift;
	z->width = cfg->width;
}

static void fa_create(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = &st->mz[lab_fi_range(in, LAB_FZA_MAZES)];
	struct lab_maze_config cfg;
	struct lab_maze *m = (struct lab_maze *)1;
	uint64_t frames = 0;
	unsigned shift = 0;
	bool ok;
	int ret;

	lab_fza_read_config(in, &cfg);
	cfg.wait_timeout_ms = 0;
	cfg.report = fa_report;
	cfg.report_arg = st;
	ret = lab_maze_create(NULL, &m);
	FA_CHECK(st, ret == -EINVAL, "lab_maze_create(NULL, out) gave %d", ret);
	ret = lab_maze_create(&cfg, NULL);
	FA_CHECK(st, ret == -EINVAL, "lab_maze_create(cfg, NULL) gave %d", ret);
	fa_drop(z);
	ok = fa_geometry_ok(&cfg, &frames, &shift) &&
	     fa_config_ok(&cfg, frames);
	if (ok && !fa_small(&cfg, frames, shift)) {
		fa_check_defaults(st, cfg, frames);
		return;
	}
	ret = lab_maze_create(&cfg, &m);
	FA_CHECK(
		st,
		ok ? ret == 0 && m : ret == -EINVAL && !m && *lab_last_error(),
		"lab_maze_create %ux%u page %zu order %u wmarks %llu/%llu/%llu "
		"pcp %u/%u returned %d: %s",
		cfg.width, cfg.height, cfg.page_size, cfg.max_order,
		(unsigned long long)cfg.wmark_min,
		(unsigned long long)cfg.wmark_low,
		(unsigned long long)cfg.wmark_high, cfg.pcp_high, cfg.pcp_batch,
		ret, lab_last_error());
	if (ok)
		fa_adopt_maze(z, m, &cfg, frames, shift);
}

static void fa_destroy(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);

	if (z->m)
		fa_drop(z);
	else
		lab_maze_destroy(NULL);
}

/* A block the allocator handed out: in range, aligned, overlapping
 * nothing held, owned as asked. */
static void fa_adopt_block(struct fa *st, struct fa_maze *z,
			   struct lab_page *page, lab_gfp_t gfp, unsigned order)
{
	uint64_t pfn = fa_desc_pfn(z, (uintptr_t)page), i;
	bool excl = gfp & LAB_GFP_EXCLUSIVE;

	FA_CHECK(st, pfn < z->sh.frames && !(pfn & (lab_fzs_size(order) - 1)),
		 "allocation of order %u at descriptor %p", order,
		 (void *)page);
	for (i = 0; i < lab_fzs_size(order); i++)
		FA_CHECK(st, !lab_fzs_block_at(&z->sh, pfn + i),
			 "allocated pfn %llu overlaps a held block",
			 (unsigned long long)(pfn + i));
	FA_CHECK(st, lab_page_owner(z->m, page) == (excl ? fa_me() : 0),
		 "owner of new pfn %llu", (unsigned long long)pfn);
	lab_fzs_hold(&z->sh, pfn, order, excl, fa_me());
}

static void fa_alloc(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	lab_gfp_t gfp = (lab_gfp_t)lab_fza_value(in);
	unsigned order = (unsigned)lab_fza_value(in); /* as the API sees it */
	bool by_addr = lab_fi_bool(in), valid, misuse;
	struct lab_page *page;
	void *addr;

	if ((gfp & LAB_GFP_NOFAIL) && (gfp & LAB_GFP_DIRECT_RECLAIM))
		gfp &= ~LAB_GFP_NOFAIL; /* may wait forever by contract */
	valid = z->m && !(gfp & ~LAB_GFP_VALID_MASK) &&
		order <= z->sh.max_order;
	misuse = valid && (gfp & LAB_GFP_NOFAIL);
	if (by_addr) {
		addr = lab_get_free_pages(z->m, gfp, order);
		page = addr ? lab_virt_to_page(z->m, addr) : NULL;
		FA_CHECK(st, !addr || page, "address %p is no frame", addr);
	} else {
		page = lab_alloc_pages(z->m, gfp, order);
	}
	if (misuse)
		st->want[LAB_REPORT_NOFAIL_MISUSE]++;
	FA_CHECK(st, (valid && !misuse) || !page,
		 "bad allocation (gfp %x order %u) succeeded", gfp, order);
	if (valid && !misuse && !page && !(gfp & LAB_GFP_NOWARN))
		st->want[LAB_REPORT_ALLOC_FAILURE]++;
	if (page)
		fa_adopt_block(st, z, page, gfp, order);
}

/* A successful free or handoff changes the model. */
static void fa_freed(struct fa_maze *z, uint64_t pfn)
{
	lab_fzs_unhold(&z->sh, lab_fzs_block_at(&z->sh, pfn));
}

static void fa_free_addr(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	uintptr_t p = fa_ptr(st, in), off = p - z->base;
	unsigned order = (unsigned)lab_fza_value(in);
	struct lab_fzs_verdict v = lab_fzs_v(-EINVAL, LAB_FZS_NONE);
	int ret = lab_free_pages_addr(z->m, (void *)p, order);

	if (z->m && p && off >= fa_bytes(z))
		v = fa_outside(st, z, p);
	else if (z->m && p && (off & (z->page_size - 1)))
		v = lab_fzs_v(-EFAULT, LAB_REPORT_BAD_POINTER);
	else if (z->m && p)
		v = lab_fzs_free_verdict(&z->sh, off >> z->sh.shift, order,
					 fa_me());
	fa_expect(st, v, ret, "lab_free_pages_addr");
	if (!ret)
		fa_freed(z, off >> z->sh.shift);
}

/* Verdict for a descriptor argument: NULLs, then not a descriptor. */
static bool fa_desc_verdict(const struct fa_maze *z, uintptr_t p, int bad,
			    struct lab_fzs_verdict *v)
{
	if (!z->m || !p)
		*v = lab_fzs_v(-EINVAL, LAB_FZS_NONE);
	else if (fa_desc_pfn(z, p) == LAB_NO_PFN)
		*v = lab_fzs_v(bad, LAB_REPORT_BAD_POINTER);
	else
		return false;
	return true;
}

static void fa_free_desc(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	uintptr_t p = fa_desc(st, in);
	unsigned order = (unsigned)lab_fza_value(in);
	uint64_t pfn = fa_desc_pfn(z, p);
	struct lab_fzs_verdict v;
	int ret = lab_free_pages(z->m, (struct lab_page *)p, order);

	if (!fa_desc_verdict(z, p, -EFAULT, &v))
		v = lab_fzs_free_verdict(&z->sh, pfn, order, fa_me());
	fa_expect(st, v, ret, "lab_free_pages");
	if (!ret)
		fa_freed(z, pfn);
}

/* lab_page_address: the frame's address unless it belongs to someone
 * else's exclusive block. */
static void fa_address(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	uintptr_t p = fa_desc(st, in), want = 0;
	uint64_t pfn = fa_desc_pfn(z, p);
	void *addr = lab_page_address(z->m, (const struct lab_page *)p);
	const struct lab_fzs_block *b;

	if (z->m && p && pfn == LAB_NO_PFN) {
		st->want[LAB_REPORT_BAD_POINTER]++;
	} else if (z->m && p) {
		b = lab_fzs_block_at(&z->sh, pfn);
		if (b && b->excl && b->owner != fa_me())
			st->want[LAB_REPORT_FOREIGN_ACCESS]++;
		else
			want = fa_at(z, false, pfn);
	}
	FA_CHECK(st, (uintptr_t)addr == want, "lab_page_address gave %p", addr);
}

static void fa_owner(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	uintptr_t p = fa_desc(st, in);
	uint64_t pfn = fa_desc_pfn(z, p);
	uint32_t owner = lab_page_owner(z->m, (const struct lab_page *)p);
	const struct lab_fzs_block *b =
		pfn == LAB_NO_PFN ? NULL : lab_fzs_block_at(&z->sh, pfn);

	FA_CHECK(st, owner == (b && b->pfn == pfn ? b->owner : 0),
		 "lab_page_owner gave %x", owner);
}

static void fa_handoff(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	uintptr_t p = fa_desc(st, in);
	unsigned order = (unsigned)lab_fza_value(in);
	uint32_t owner = (uint32_t)lab_fza_value(in);
	uint64_t pfn = fa_desc_pfn(z, p);
	struct lab_fzs_block *b;
	struct lab_fzs_verdict v;
	int ret = lab_page_handoff(z->m, (struct lab_page *)p, order, owner);

	if (!owner)
		v = lab_fzs_v(-EINVAL, LAB_FZS_NONE);
	else if (!fa_desc_verdict(z, p, -EFAULT, &v))
		v = lab_fzs_handoff_verdict(&z->sh, pfn, order, fa_me());
	fa_expect(st, v, ret, "lab_page_handoff");
	if (ret)
		return;
	b = lab_fzs_block_at(&z->sh, pfn);
	b->excl = true;
	b->owner = owner;
}

static void fa_access(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	uintptr_t p = fa_ptr(st, in), off = p - z->base;
	size_t len = (size_t)lab_fza_value(in);
	struct lab_fzs_verdict v = lab_fzs_v(-EINVAL, LAB_FZS_NONE);
	int ret = lab_access_check(z->m, (const void *)p, len);

	if (z->m && p && len && off >= fa_bytes(z))
		v = fa_outside(st, z, p);
	else if (z->m && p && len)
		v = lab_fzs_access_verdict(&z->sh, off >> z->sh.shift,
					   off & (z->page_size - 1), len,
					   fa_me());
	fa_expect(st, v, ret, "lab_access_check");
}

/* ---- conversions -------------------------------------------------------- */

static void fa_convert_pfn(struct fa *st, struct fa_maze *z, unsigned which,
			   uint64_t pfn, unsigned outs)
{
	bool in = z->m && pfn < z->sh.frames;
	unsigned x = ~0u, y = ~0u;
	uintptr_t got, want;
	int ret;

	if (which == LAB_FZA_PFN_TO_XY) {
		ret = lab_pfn_to_xy(z->m, pfn, outs & 1 ? &x : NULL,
				    outs & 2 ? &y : NULL);
		FA_CHECK(st,
			 in ? !ret && (!(outs & 1) || x == pfn % z->width) &&
					 (!(outs & 2) || y == pfn / z->width) :
			      ret == -EINVAL,
			 "lab_pfn_to_xy(%llu) gave %d", (unsigned long long)pfn,
			 ret);
		return;
	}
	if (which == LAB_FZA_PFN_TO_PAGE) {
		got = (uintptr_t)lab_pfn_to_page(z->m, pfn);
		want = in ? fa_at(z, true, pfn) : 0;
	} else {
		got = (uintptr_t)lab_pfn_to_virt(z->m, pfn);
		want = in ? fa_at(z, false, pfn) : 0;
	}
	FA_CHECK(st, got == want, "conversion %u of pfn %llu gave %p", which,
		 (unsigned long long)pfn, (void *)got);
}

static void fa_convert(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	unsigned which = (unsigned)lab_fi_range(in, 5);
	uintptr_t p, off, got, want = 0;
	uint64_t pfn;

	if (which == LAB_FZA_PAGE_TO_PFN) {
		p = fa_desc(st, in);
		pfn = lab_page_to_pfn(z->m, (const struct lab_page *)p);
		FA_CHECK(st, pfn == fa_desc_pfn(z, p),
			 "lab_page_to_pfn(%p) gave %llu", (void *)p,
			 (unsigned long long)pfn);
	} else if (which == LAB_FZA_VIRT_TO_PAGE) {
		p = fa_ptr(st, in);
		off = p - z->base;
		got = (uintptr_t)lab_virt_to_page(z->m, (const void *)p);
		if (z->m && off < fa_bytes(z))
			want = fa_at(z, true, off >> z->sh.shift);
		FA_CHECK(st, got == want, "lab_virt_to_page(%p) gave %p",
			 (void *)p, (void *)got);
	} else {
		pfn = lab_fza_value(in);
		fa_convert_pfn(st, z, which, pfn,
			       which == LAB_FZA_PFN_TO_XY ?
				       (unsigned)lab_fi_range(in, 4) :
				       0);
	}
}

static void fa_fail_next(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	uint64_t skip = lab_fza_value(in), count = lab_fza_value(in);

	(void)st;
	lab_maze_fail_next(z->m, (unsigned long)skip, (unsigned long)count);
}

static void fa_stats(struct fa *st, struct lab_fi *in)
{
	struct fa_maze *z = fa_maze_arg(st, in);
	bool null_out = lab_fi_bool(in);
	struct lab_maze_stats s;
	int ret = lab_maze_stats(z->m, null_out ? NULL : &s);

	FA_CHECK(st, ret == (z->m && !null_out ? 0 : -EINVAL),
		 "lab_maze_stats returned %d", ret);
	if (ret)
		return;
	FA_CHECK(st,
		 s.frames == z->sh.frames &&
			 s.free_frames + s.cached_frames + z->sh.held_frames ==
				 s.frames,
		 "free %llu + cached %llu + held %llu != %llu frames",
		 (unsigned long long)s.free_frames,
		 (unsigned long long)s.cached_frames,
		 (unsigned long long)z->sh.held_frames,
		 (unsigned long long)s.frames);
	FA_CHECK(st,
		 s.wmark_min <= s.wmark_low && s.wmark_low <= s.wmark_high &&
			 s.wmark_high <= s.frames,
		 "watermarks %llu/%llu/%llu", (unsigned long long)s.wmark_min,
		 (unsigned long long)s.wmark_low,
		 (unsigned long long)s.wmark_high);
}

/* ---- contexts and names -------------------------------------------------- */

static void fa_switch(struct fa *st, unsigned slot)
{
	lab_ctx_switch(st->ctx[slot]);
	st->cur = slot;
}

/* lab_ctx_create with any id, into slot 1 + (task & 1). */
static void fa_ctx_create(struct fa *st, uint32_t task)
{
	unsigned slot = 1 + (unsigned)(task & 1);
	struct lab_ctx *c = lab_ctx_create((uint32_t)task, "hostile");

	FA_CHECK(st, !c == (task > LAB_CTX_TASK_MAX),
		 "lab_ctx_create(%u) gave %p", task, (void *)c);
	if (!c)
		return;
	FA_CHECK(st, task == 0 || lab_ctx_task_id(c) == task,
		 "context made for task %u has id %u", task,
		 lab_ctx_task_id(c));
	if (st->cur == slot)
		fa_switch(st, 0);
	lab_ctx_destroy(st->ctx[slot]);
	st->ctx[slot] = c;
}

static void fa_ctx(struct fa *st, struct lab_fi *in)
{
	unsigned what = (unsigned)lab_fi_range(in, LAB_FZA_CTX_COUNT);
	uint64_t v = lab_fza_value(in);

	if (what == LAB_FZA_CTX_CREATE) {
		fa_ctx_create(st, (uint32_t)v);
	} else if (what == LAB_FZA_CTX_SWITCH && st->ctx[v % LAB_FZA_CTXS]) {
		fa_switch(st, (unsigned)(v % LAB_FZA_CTXS));
	} else if (what == LAB_FZA_CTX_NULLS) {
		lab_ctx_destroy(NULL);
		FA_CHECK(st, !lab_ctx_task_id(NULL) && !*lab_ctx_name(NULL),
			 "NULL context has id %u", lab_ctx_task_id(NULL));
	} else if (what == LAB_FZA_CTX_IRQ_EXIT) {
		st->want[LAB_REPORT_CONTEXT]++;
		lab_irq_exit();
	} else if (what == LAB_FZA_CTX_PREEMPT_ON) {
		st->want[LAB_REPORT_CONTEXT]++;
		lab_preempt_enable();
	} else if (what == LAB_FZA_CTX_RAISE_NULL) {
		FA_CHECK(st, !lab_irq_raise(NULL, NULL) && lab_might_sleep(),
			 "lab_irq_raise(NULL) ran, or might_sleep refused in "
			 "context %x",
			 lab_ctx_id());
	}
}

/* Name lookups with any number or string: "?" or NULL out of range, and
 * no global state changes for names that are not real. */
static void fa_names(struct fa *st, struct lab_fi *in)
{
	uint32_t v = (uint32_t)lab_fza_value(in);
	unsigned len = (unsigned)lab_fi_range(in, LAB_FZA_NAME_MAX + 1), i;
	char name[LAB_FZA_NAME_MAX + 1];
	const char *bug = lab_bug_selected();
	bool real = false;

	for (i = 0; i < len; i++)
		name[i] = (char)lab_fi_u8(in);
	name[len] = '\0';
	FA_CHECK(st,
		 (v < LAB_REPORT_KIND_COUNT) ==
			 !!strcmp(lab_report_kind_name(v), "?"),
		 "lab_report_kind_name(%u)", v);
	FA_CHECK(st,
		 (v < LAB_CLASS_COUNT) == !!strcmp(lab_gfp_class_name(v), "?"),
		 "lab_gfp_class_name(%u)", v);
	FA_CHECK(st,
		 (v < LAB_YP_COUNT) == !!strcmp(lab_yield_point_name(v), "?"),
		 "lab_yield_point_name(%u)", v);
	FA_CHECK(st,
		 (v < LAB_BUG_COUNT) == (lab_bug_name(v) != NULL) &&
			 !lab_bug_name(v) == !lab_bug_description(v),
		 "lab_bug_name(%u)", v);
	FA_CHECK(st, lab_gfp_class(v) < LAB_CLASS_COUNT, "lab_gfp_class(%x)",
		 v);
	for (i = 0; i < LAB_BUG_COUNT; i++)
		real |= !strcmp(name, lab_bug_name(i));
	FA_CHECK(st,
		 real || (lab_bug_select(name) == -ENOENT &&
			  !strcmp(lab_bug_selected(), bug)),
		 "lab_bug_select(\"%s\") accepted or changed the bug", name);
	FA_CHECK(st,
		 !lab_backend_find(name) ||
			 !strcmp(lab_backend_find(name)->name, name),
		 "lab_backend_find(\"%s\")", name);
}

/* ---- the mutex buddy, through its ops table ------------------------------ */

static const struct lab_backend_ops *const fa_mb_ops = &lab_backend_mutex_buddy;

/* Free frames as the table reports them, and the structure checked. */
static void fa_mb_check(struct fa *st)
{
	struct lab_maze_stats s;
	long problems;

	if (!st->mb.inst)
		return;
	problems = fa_mb_ops->check(st->mb.inst);
	FA_CHECK(st, problems == 0, "mutex buddy check: %ld problems (%s)",
		 problems, lab_last_error());
	FA_CHECK(st,
		 !fa_mb_ops->stats(st->mb.inst, &s) &&
			 s.free_frames == st->mb.frames - st->mb.held_frames,
		 "mutex buddy has %llu free frames, expected %llu",
		 (unsigned long long)s.free_frames,
		 (unsigned long long)(st->mb.frames - st->mb.held_frames));
}

static void fa_mb_drop(struct fa *st)
{
	if (st->mb.inst)
		fa_mb_ops->destroy(st->mb.inst);
	memset(&st->mb, 0, sizeof(st->mb));
}

static void fa_mb_create(struct fa *st, struct lab_fi *in)
{
	struct lab_maze_config cfg;
	uint64_t frames = 0;
	unsigned shift = 0;
	bool ok;

	lab_fza_read_config(in, &cfg);
	fa_mb_drop(st);
	ok = fa_geometry_ok(&cfg, &frames, &shift) &&
	     fa_mb_config_ok(&cfg, frames);
	if (ok && !fa_small(&cfg, frames, shift))
		return;
	st->mb.inst = fa_mb_ops->create(&cfg);
	FA_CHECK(st, ok == (st->mb.inst != NULL),
		 "mutex buddy create %ux%u page %zu: %s", cfg.width, cfg.height,
		 cfg.page_size, lab_last_error());
	st->mb.frames = frames;
	st->mb.page_size = (size_t)1 << shift;
	st->mb.max_order = cfg.max_order;
}

static void fa_mb_alloc(struct fa *st, struct lab_fi *in)
{
	lab_gfp_t gfp = (lab_gfp_t)lab_fza_value(in);
	unsigned order = (unsigned)lab_fza_value(in);
	bool valid =
		st->mb.inst && !(gfp & ~LAB_GFP_VALID_MASK) &&
		order <= st->mb.max_order &&
		(!(gfp & LAB_GFP_NOFAIL) || (gfp & LAB_GFP_DIRECT_RECLAIM));
	uintptr_t a = (uintptr_t)fa_mb_ops->alloc(st->mb.inst, gfp, order);
	size_t bytes;
	unsigned i;

	FA_CHECK(st, valid || !a, "bad mutex buddy alloc gfp %x order %u", gfp,
		 order);
	if (!a)
		return;
	bytes = st->mb.page_size << order;
	for (i = 0; i < st->mb.nheld; i++) {
		uintptr_t b = st->mb.held[i].addr;
		size_t n = st->mb.page_size << st->mb.held[i].order;

		FA_CHECK(st, a + bytes <= b || b + n <= a,
			 "mutex buddy block %p overlaps a held one", (void *)a);
	}
	FA_CHECK(st, st->mb.nheld < FA_MB_HELD, "%u blocks", st->mb.nheld);
	st->mb.held[st->mb.nheld].addr = a;
	st->mb.held[st->mb.nheld++].order = order;
	st->mb.held_frames += (uint64_t)1 << order;
}

/* Only an exact (address, order) of a held block frees; anything else is
 * refused with nothing changed (fa_mb_check). */
static void fa_mb_free(struct fa *st, struct lab_fi *in)
{
	uintptr_t p = fa_ptr(st, in);
	unsigned order = (unsigned)lab_fza_value(in), i;
	int ret = fa_mb_ops->free(st->mb.inst, (void *)p, order);

	for (i = 0; i < st->mb.nheld; i++) {
		if (st->mb.held[i].addr == p && st->mb.held[i].order == order)
			break;
	}
	FA_CHECK(st,
		 !st->mb.inst ? ret == -EINVAL :
				(ret == 0) == (i < st->mb.nheld),
		 "mutex buddy free of %p order %u returned %d", (void *)p,
		 order, ret);
	if (ret || i == st->mb.nheld)
		return;
	st->mb.held_frames -= (uint64_t)1 << order;
	st->mb.held[i] = st->mb.held[--st->mb.nheld];
}

/* ---- the call loop -------------------------------------------------------- */

typedef void (*fa_call_fn)(struct fa *st, struct lab_fi *in);

static const struct {
	const char *name;
	fa_call_fn fn;
} fa_calls[LAB_FZA_OP_COUNT] = {
	[LAB_FZA_CREATE] = { "create", fa_create },
	[LAB_FZA_DESTROY] = { "destroy", fa_destroy },
	[LAB_FZA_ALLOC] = { "alloc", fa_alloc },
	[LAB_FZA_FREE_ADDR] = { "free-addr", fa_free_addr },
	[LAB_FZA_FREE_DESC] = { "free-desc", fa_free_desc },
	[LAB_FZA_ADDRESS] = { "page-address", fa_address },
	[LAB_FZA_OWNER] = { "page-owner", fa_owner },
	[LAB_FZA_HANDOFF] = { "handoff", fa_handoff },
	[LAB_FZA_ACCESS] = { "access-check", fa_access },
	[LAB_FZA_CONVERT] = { "convert", fa_convert },
	[LAB_FZA_FAIL_NEXT] = { "fail-next", fa_fail_next },
	[LAB_FZA_STATS] = { "stats", fa_stats },
	[LAB_FZA_CTX] = { "context", fa_ctx },
	[LAB_FZA_NAMES] = { "names", fa_names },
	[LAB_FZA_MB_CREATE] = { "mbuddy-create", fa_mb_create },
	[LAB_FZA_MB_ALLOC] = { "mbuddy-alloc", fa_mb_alloc },
	[LAB_FZA_MB_FREE] = { "mbuddy-free", fa_mb_free },
};

static void fa_trace_call(const struct fa *st)
{
	unsigned k;

	fprintf(stderr, "call %u %s:", st->call, st->name);
	for (k = 0; k < LAB_REPORT_KIND_COUNT; k++) {
		if (st->got[k])
			fprintf(stderr, " %u %s", st->got[k],
				lab_report_kind_name((enum lab_report_kind)k));
	}
	fprintf(stderr, " (%s)\n", lab_last_error());
}

/* After every call: exactly the expected reports, every live maze
 * consistent, the mutex buddy too. */
static void fa_call_end(struct fa *st)
{
	unsigned k, i;
	long problems;

	if (fa_trace)
		fa_trace_call(st);
	for (i = 0; i < LAB_FZA_MAZES; i++) {
		if (!st->mz[i].m)
			continue;
		problems = lab_maze_check(st->mz[i].m);
		FA_CHECK(st, problems == 0, "maze %u: %ld problems (%s)", i,
			 problems, st->msg);
	}
	for (k = 0; k < LAB_REPORT_KIND_COUNT; k++)
		FA_CHECK(st, st->got[k] == st->want[k],
			 "%u %s report(s), expected %u (last: %s)", st->got[k],
			 lab_report_kind_name((enum lab_report_kind)k),
			 st->want[k], st->msg);
	fa_mb_check(st);
	memset(st->want, 0, sizeof(st->want));
	memset(st->got, 0, sizeof(st->got));
	st->call++;
}

/* Frees a block as its owner: a context with the owner's task id (made
 * for the purpose), in IRQ context if the id has the IRQ bit.  An owner
 * with task id 0 can never be a context: its block stays (and goes with
 * the maze). */
static void fa_release(struct fa *st, struct fa_maze *z,
		       const struct lab_fzs_block *b)
{
	uint32_t task = b->owner & ~LAB_CTX_IRQ_BIT, pfn = b->pfn;
	struct lab_ctx *c = NULL;
	int ret;

	if (b->excl && !task)
		return;
	if (b->excl)
		c = lab_ctx_create(task, "owner");
	lab_ctx_switch(c ? c : st->ctx[0]);
	if (b->owner & LAB_CTX_IRQ_BIT)
		lab_irq_enter();
	ret = lab_free_pages(z->m, lab_pfn_to_page(z->m, pfn), b->order);
	if (b->owner & LAB_CTX_IRQ_BIT)
		lab_irq_exit();
	lab_ctx_switch(st->ctx[0]);
	lab_ctx_destroy(c);
	FA_CHECK(st, ret == 0, "owner %x could not free pfn %u: %d", b->owner,
		 pfn, ret);
	fa_freed(z, pfn);
}

static void fa_teardown(struct fa *st)
{
	unsigned i, n;
	int ret;

	st->name = "teardown";
	for (i = 0; i < LAB_FZA_MAZES; i++) {
		struct fa_maze *z = &st->mz[i];

		for (n = z->sh.nheld; n--;)
			fa_release(st, z, &z->sh.held[n]);
		fa_call_end(st);
		fa_drop(z);
	}
	while (st->mb.nheld) {
		n = --st->mb.nheld;
		ret = fa_mb_ops->free(st->mb.inst, (void *)st->mb.held[n].addr,
				      st->mb.held[n].order);
		FA_CHECK(st, ret == 0, "mutex buddy free at the end: %d", ret);
	}
	fa_mb_drop(st);
	lab_ctx_switch(NULL);
	for (i = 0; i < LAB_FZA_CTXS; i++)
		lab_ctx_destroy(st->ctx[i]);
}

static int fa_wait(const atomic_uint *word, unsigned expected,
		   unsigned timeout_ms, void *arg)
{
	(void)word;
	(void)expected;
	(void)timeout_ms;
	(void)arg;
	return -ETIMEDOUT;
}

static void fa_init_once(void)
{
	static bool done;
	static const struct lab_sched_hooks hooks = { NULL, fa_wait, NULL };

	if (done)
		return;
	done = true;
	fa_trace = getenv("LAB_FUZZ_TRACE") != NULL;
	lab_fuzz_select_bug();
	lab_set_report_hook(fa_report, &fa_state);
	lab_set_sched_hooks(&hooks);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fa_init_once();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fa *st = &fa_state;
	struct lab_fi in;
	unsigned n, op;

	fa_init_once();
	memset(st, 0, sizeof(*st));
	lab_fi_init(&in, data, size);
	st->name = "setup";
	st->ctx[0] = lab_ctx_create(FA_TASK0, "fuzz-api");
	FA_CHECK(st, st->ctx[0], "lab_ctx_create: %s", lab_last_error());
	fa_switch(st, 0);
	for (n = 0; n < LAB_FZA_MAX_CALLS && !lab_fi_done(&in); n++) {
		op = (unsigned)lab_fi_range(&in, LAB_FZA_OP_COUNT);
		st->name = fa_calls[op].name;
		fa_calls[op].fn(st, &in);
		fa_call_end(st);
	}
	fa_teardown(st);
	return 0;
}

/* bugs.c - the seeded-bug switch.
 *
 * Each bug lives at the place it breaks, behind LAB_BUG_ON(id), which is
 * constant false in release builds so the bug code is compiled away.  What
 * each breaks and the real-world bug it resembles is in the table below.
 */
#include <string.h>

#include "internal.h"

_Atomic int _lab_bug;

static const struct {
	const char *name, *description;
} lab_bugs[LAB_BUG_COUNT] = {
	[LAB_BUG_NONE] = { "none", "the correct allocator" },
	[LAB_BUG_CLAIM_RACE] = { "claim-race",
				 "buddy claim checks a free bit, then clears it with a plain "
				 "store instead of a CAS: two CPUs can take one block (a "
				 "test_bit/clear_bit pair where test_and_clear_bit was needed)" },
	[LAB_BUG_PCP_IRQ_UNSAFE] = { "pcp-irq-unsafe",
				     "the per-context cache section ignores interrupts: an IRQ that "
				     "lands inside it relinks the same list (pcp lists touched "
				     "without local_irq_save or the pcp trylock)" },
	[LAB_BUG_RACY_FREE_COUNT] = { "racy-free-count",
				      "frees add to the free count with a plain read-modify-write: "
				      "concurrent frees lose updates and the watermarks drift (a "
				      "counter bumped with ++ instead of atomic_add)" },
};

const char *lab_bug_name(enum lab_bug b)
{
	return (unsigned)b < LAB_BUG_COUNT ? lab_bugs[b].name : NULL;
}

const char *lab_bug_description(enum lab_bug b)
{
	return (unsigned)b < LAB_BUG_COUNT ? lab_bugs[b].description : NULL;
}

const char *lab_bug_selected(void)
{
	return lab_bugs[atomic_load(&_lab_bug)].name;
}

int lab_bug_select(const char *name)
{
	int b;

	for (b = 0; name && b < LAB_BUG_COUNT; b++) {
		if (strcmp(name, lab_bugs[b].name))
			continue;
		if (!LAB_DEBUG && b != LAB_BUG_NONE) {
			_lab_set_error("seeded bugs are compiled out of "
				       "release builds");
			return -ENOTSUP;
		}
		atomic_store(&_lab_bug, b);
		return 0;
	}
	_lab_set_error("unknown bug '%s'; known: none, claim-race, "
		       "pcp-irq-unsafe, racy-free-count",
		       name ? name : "(null)");
	return -ENOENT;
}

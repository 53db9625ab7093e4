/* labyrinth/gfp.h - allocation flags.
 *
 * Three tiers, as in Linux gfp_types.h: raw bit numbers, single typed flags,
 * and the combined classes callers normally use (LAB_GFP_KERNEL, ...).
 * lab_gfp_class() folds any flag word into the class that decides the
 * watermark and whether the call may block.
 */
#ifndef LABYRINTH_GFP_H
#define LABYRINTH_GFP_H

typedef unsigned int lab_gfp_t;

/* Tier 1: raw bit numbers. */
enum lab_gfp_bit {
	LAB_GFPB_HIGH, /* high priority: may use part of the min reserve */
	LAB_GFPB_DIRECT_RECLAIM, /* may sleep: direct reclaim and waiting */
	LAB_GFPB_KSWAPD_RECLAIM, /* may wake background reclaim (never sleeps) */
	LAB_GFPB_ZERO,		 /* return zeroed memory */
	LAB_GFPB_NOWARN,	 /* no failure report */
	LAB_GFPB_NOFAIL,	 /* never return NULL; needs DIRECT_RECLAIM */
	LAB_GFPB_EXCLUSIVE, /* one recorded owner (labyrinth's own contract) */
	LAB_GFPB_COUNT
};

/* Tier 2: single flags. */
#define LAB_GFP_HIGH ((lab_gfp_t)1u << LAB_GFPB_HIGH)
#define LAB_GFP_DIRECT_RECLAIM ((lab_gfp_t)1u << LAB_GFPB_DIRECT_RECLAIM)
#define LAB_GFP_KSWAPD_RECLAIM ((lab_gfp_t)1u << LAB_GFPB_KSWAPD_RECLAIM)
#define LAB_GFP_ZERO ((lab_gfp_t)1u << LAB_GFPB_ZERO)
#define LAB_GFP_NOWARN ((lab_gfp_t)1u << LAB_GFPB_NOWARN)
#define LAB_GFP_NOFAIL ((lab_gfp_t)1u << LAB_GFPB_NOFAIL)
#define LAB_GFP_EXCLUSIVE ((lab_gfp_t)1u << LAB_GFPB_EXCLUSIVE)
#define LAB_GFP_VALID_MASK (((lab_gfp_t)1u << LAB_GFPB_COUNT) - 1u)

/* Tier 3: classes.
 * KERNEL: may sleep, reclaim and wait; never below the min watermark.
 * NOWAIT: never sleeps; never below min ("very likely to fail").
 * ATOMIC: never sleeps; bounded walk; may go down to 37.5% of min. */
#define LAB_GFP_KERNEL (LAB_GFP_DIRECT_RECLAIM | LAB_GFP_KSWAPD_RECLAIM)
#define LAB_GFP_NOWAIT (LAB_GFP_KSWAPD_RECLAIM)
#define LAB_GFP_ATOMIC (LAB_GFP_HIGH | LAB_GFP_KSWAPD_RECLAIM)

/* The class a flag word belongs to; statistics are kept per class.
 * HIGH without DIRECT_RECLAIM is ATOMIC; DIRECT_RECLAIM is KERNEL (with HIGH
 * it may dip to 50% of min, as the kernel's blocking high-priority mode). */
enum lab_gfp_class {
	LAB_CLASS_KERNEL,
	LAB_CLASS_NOWAIT,
	LAB_CLASS_ATOMIC,
	LAB_CLASS_COUNT
};

static inline enum lab_gfp_class lab_gfp_class(lab_gfp_t gfp)
{
	if (gfp & LAB_GFP_DIRECT_RECLAIM)
		return LAB_CLASS_KERNEL;
	return (gfp & LAB_GFP_HIGH) ? LAB_CLASS_ATOMIC : LAB_CLASS_NOWAIT;
}

static inline int lab_gfp_may_block(lab_gfp_t gfp)
{
	return (gfp & LAB_GFP_DIRECT_RECLAIM) != 0;
}

/* "KERNEL", "NOWAIT" or "ATOMIC"; "?" for an out-of-range value. */
const char *lab_gfp_class_name(enum lab_gfp_class cls);

#endif /* LABYRINTH_GFP_H */

/* labyrinth.h - the labyrinth page-frame allocator and its harness hooks.
 *
 *   labyrinth/gfp.h      allocation flags and classes
 *   labyrinth/context.h  simulated execution context, IRQs, spinlock
 *   labyrinth/maze.h     the allocator: mazes, pages, ownership, checks
 *   labyrinth/report.h   misuse reports and error messages
 *   labyrinth/detectors.h  every check by name, and how often it fired
 *   labyrinth/hooks.h    yield points and wait hooks for schedulers
 *   labyrinth/backend.h  the operations table the harness drives
 *   labyrinth/bugs.h     seeded bugs (non-release builds)
 */
#ifndef LABYRINTH_H
#define LABYRINTH_H

#define LAB_VERSION_MAJOR 0
#define LAB_VERSION_MINOR 1
#define LAB_VERSION_PATCH 0

#include "labyrinth/backend.h"
#include "labyrinth/bugs.h"
#include "labyrinth/context.h"
#include "labyrinth/detectors.h"
#include "labyrinth/gfp.h"
#include "labyrinth/hooks.h"
#include "labyrinth/maze.h"
#include "labyrinth/report.h"

/* "0.1.0 (<build type> <sanitizers>)" of the built library. */
const char *lab_version(void);

#endif /* LABYRINTH_H */

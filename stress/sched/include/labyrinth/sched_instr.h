/* labyrinth/sched_instr.h - what the instrumentation (labyrinth_instr:
 * stress/sched/atomic.c, locks.c) asks of the controlled scheduler beyond
 * labyrinth/sched_point.h.
 *
 * The instrumentation models condition variables inside a schedule with
 * per-OS-thread waiter records.  A schedule that ends with threads still
 * waiting (a deadlock, a finding, a budget) abandons them, so the
 * scheduler must forget them before the next schedule runs on the same
 * OS thread: call lab_instr_reset() when a schedule starts.  Programs that
 * do not link labyrinth_instr have no such records; a scheduler that may
 * run without it declares the function weak and calls it when linked:
 *
 *     __attribute__((weak)) void lab_instr_reset(void);
 *     ...
 *     if (lab_instr_reset)
 *             lab_instr_reset();
 */
#ifndef LABYRINTH_SCHED_INSTR_H
#define LABYRINTH_SCHED_INSTR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Forgets every condition-variable waiter of the calling OS thread's
 * schedules.  Call between schedules, never from a logical thread. */
void lab_instr_reset(void);

#ifdef __cplusplus
}
#endif

#endif /* LABYRINTH_SCHED_INSTR_H */

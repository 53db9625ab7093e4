/* labyrinth/atomic_model.h - replacing how scheduled atomic operations
 * behave (a memory model, labyrinth/c11.h).
 *
 * lab_atomic_perform() (labyrinth/atomic.h) carries out every scheduled
 * operation.  Without a model installed it is lab_atomic_perform_sc():
 * the operation on real memory, so every load sees the latest store (a
 * sequentially consistent execution, since one logical thread runs at a
 * time).  With one installed on the calling OS thread, it is
 * model(arg, op); the model may call lab_atomic_perform_sc() for the real
 * memory effect.  Operations outside a schedule never reach either.
 */
#ifndef LABYRINTH_ATOMIC_MODEL_H
#define LABYRINTH_ATOMIC_MODEL_H

#include "labyrinth/atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef lab_u64_t (*lab_atomic_model_t)(void *arg,
					const struct lab_atomic_op *op);

/* Installs model for the calling OS thread's schedules (NULL: none).
 * Call between schedules, never from a logical thread mid-operation. */
void lab_atomic_set_model(lab_atomic_model_t model, void *arg);

/* The operation on real memory, as without a model. */
lab_u64_t lab_atomic_perform_sc(const struct lab_atomic_op *op);

#ifdef __cplusplus
}
#endif

#endif /* LABYRINTH_ATOMIC_MODEL_H */

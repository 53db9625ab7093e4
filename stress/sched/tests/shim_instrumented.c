/* shim_instrumented.c - shim_body.c compiled with the shim
 * (labyrinth_instrument(... SOURCES shim_instrumented.c)). */
#define LAB_BODY lab_body_instrumented
#include "shim_body.c"

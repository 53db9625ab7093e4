/* shim_plain.c - shim_body.c without the shim. */
#define LAB_BODY lab_body_plain
#include "shim_body.c"

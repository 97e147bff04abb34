/* The CPU schedule (schedule_cpu.mlir) and how passes apply it. */
#ifndef TANDEM_CODEGEN_SCHEDULE_H
#define TANDEM_CODEGEN_SCHEDULE_H

#include "ir/session.h"

/* Parses the schedule plus `extra` named sequences (MLIR text) and applies the
 * sequence named `entry` to `module`. */
tdm_status cg_schedule_apply(MlirOperation module, tdm_session *s, const char *extra,
                             const char *entry);

#endif

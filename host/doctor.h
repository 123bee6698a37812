/* SPDX-License-Identifier: Apache-2.0 */
/* `nesbridge-host doctor`: is everything in place for the browsers to use
 * nesbridge? Plain text (Turkish or English by locale) or --json. */
#ifndef NB_DOCTOR_H
#define NB_DOCTOR_H

#include "backend.h"
#include "config.h"

/* Returns the exit code: 0 when everything is fine, 1 otherwise. */
int nb_doctor_run(int json, const char *self_path, const nb_config *config, const nb_backend *backend);

#endif

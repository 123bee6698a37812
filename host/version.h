/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NB_VERSION_H
#define NB_VERSION_H
#define NB_HOST_VERSION "0.1.0"
#endif

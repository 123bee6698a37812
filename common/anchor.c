/* SPDX-License-Identifier: Apache-2.0 */
/* What the two platform sides of the trust-anchor rule (platform.h) share:
 * how a refusal is recorded, and what each means in words the log, the
 * configuration's error and doctor use. */
#include "platform.h"

#include <string.h>

nb_anchor_problem nb_anchor_refuse(nb_anchor_why *why, nb_anchor_problem problem, const char *where, size_t len)
{
    why->problem = problem;
    if (len >= sizeof(why->where))
        len = sizeof(why->where) - 1;
    memcpy(why->where, where, len);
    why->where[len] = '\0';
    return problem;
}


const char *nb_anchor_problem_text(nb_anchor_problem problem)
{
    switch (problem) {
    case NB_ANCHOR_OK:
        return "acceptable";
    case NB_ANCHOR_MISSING:
        return "not there";
    case NB_ANCHOR_LINK:
        return "a symbolic link, never followed";
    case NB_ANCHOR_WRONG_TYPE:
        return "not a regular file or directory as expected";
    case NB_ANCHOR_OWNER:
        return "owned by another user (only root or this user count)";
    case NB_ANCHOR_WRITABLE:
        return "others than its owner may write it";
    case NB_ANCHOR_PARENT_OWNER:
        return "a directory above it is owned by another user";
    case NB_ANCHOR_PARENT_WRITABLE:
        return "others may write a directory above it";
    case NB_ANCHOR_UNREADABLE:
        return "cannot be opened or examined";
    case NB_ANCHOR_BAD_KEY:
        return "not a P-256 or RSA>=3072 public key, or too many keys";
    }
    return "refused";
}

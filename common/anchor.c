/* SPDX-License-Identifier: Apache-2.0 */
/* What each refusal of the trust-anchor rule (platform.h) means, in words
 * the log, the configuration's error and doctor share. */
#include "platform.h"

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

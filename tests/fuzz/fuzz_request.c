/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a request text through the whole dispatcher (envelope, origin,
 * arguments, handlers, policy) on the fake backend. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "fake_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fake_backend fake;
    static nb_session session;
    static int ready = 0;
    if (!ready) {
        fake_init(&fake);
        ready = 1;
    }
    nb_session_init(&session, &fake.backend, NULL, 1);
    /* Start from a session that said hello and holds a card, so that every
     * command is reachable; the first byte may skip the hello. */
    const char *hello = "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"https://kamusm.gov.tr\",\"args\":{\"protocol\":1}}";
    if (size == 0 || data[0] != '!') {
        char *r = nb_dispatch(&session, hello, strlen(hello));
        free(r);
    }
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *reply = nb_dispatch(&session, text, size);
    if (reply == NULL || strlen(reply) > 1024 * 1024)
        abort(); /* a reply always comes, and never too large */
    free(reply);
    free(text);
    nb_session_close(&session);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the signed-script parser (as if the signature had verified),
 * and the strict base64 decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "base64.h"
#include "script.h"
#include "trust.h"

/* A fixed P-256 key in the trust store, for the verifier. */
static nb_trust_store *store;
static char key_id[NB_KEY_ID_HEX + 1];

static void setup_store(void)
{
    if (store != NULL)
        return;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    nb_key_id(nb_crypto_direct(), key, key_id);
    store = nb_trust_load(nb_crypto_direct(), NULL, 0);
    nb_trust_add_key(store, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Inputs starting with 'S': a signature (DER or raw r||s) to verify
     * over a fixed text with the pinned key; it must never verify. */
    if (size > 0 && data[0] == 'S') {
        setup_store();
        static const uint8_t text[] = "{\"version\":1}";
        if (nb_trust_verify(store, key_id, text, sizeof(text) - 1, data + 1, size - 1) == NB_OK)
            abort();
        (void)nb_trust_verify(store, "00", text, sizeof(text) - 1, data + 1, size - 1);
        return 0;
    }
    nb_script script;
    nb_outcome out = {0};
    if (nb_script_parse(data, size, &script, &out) == NB_OK) {
        for (size_t i = 0; i < script.step_count; i++) {
            const nb_step *step = &script.steps[i];
            if (step->kind == NB_STEP_NEW_PIN) {
                uint8_t apdu[32];
                if (nb_new_pin_check(step, "123456", "123456") == NB_OK &&
                    nb_new_pin_apdu(step, "123456", apdu, sizeof(apdu)) == 0)
                    abort();
            }
            (void)nb_sw_matches(step, 0x9000);
        }
        nb_script_free(&script);
    }
    cJSON_Delete(out.result);
    size_t n = 0;
    uint8_t *decoded = nb_base64_decode((const char *)data, size, &n);
    if (decoded != NULL) {
        char *again = nb_base64_encode(decoded, n);
        if (again == NULL || memcmp(again, data, size) != 0)
            abort(); /* strict: only the canonical form decodes */
        free(again);
    }
    free(decoded);
    return 0;
}

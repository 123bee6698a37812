/* libFuzzer: the signed-script parser (as if the signature had verified),
 * and the strict base64 decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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

/* SPDX-License-Identifier: Apache-2.0 */
/* nesbridge-host: started by the browser as a native messaging host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "caller.h"
#include "config.h"
#include "doctor.h"
#include "jsonguard.h"
#include "log.h"
#include "platform.h"
#include "relay.h"
#include "session.h"
#include "trust.h"
#include "watchdog.h"
#include "version.h"

static void usage(FILE *out)
{
    fprintf(out,
            "nesbridge-host %s: native messaging host relaying NES card unlock requests\n"
            "from the nesbridge browser extension to PC/SC (pcscd).\n\n"
            "Browsers start it themselves; it is not meant to be run by hand.\n\n"
            "Usage:\n"
            "  nesbridge-host --version   print the version\n"
            "  nesbridge-host --help      print this text\n"
            "  nesbridge-host doctor [--json]  check browsers, manifests, pcscd, readers, keys\n\n"
            "Environment:\n"
            "  NESBRIDGE_CONFIG    configuration file (default %s)\n"
            "  NESBRIDGE_LOG       off, error, info or debug (overrides log_level)\n"
            "  NESBRIDGE_LOG_FILE  append the log to this file instead of stderr\n",
            NB_HOST_VERSION, nb_system_config_path());
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("nesbridge-host %s (protocol 1)\n", NB_HOST_VERSION);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "doctor") == 0 &&
        (argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0))) {
        nb_config config;
        char err[512];
        if (nb_config_load(&config, nb_config_path(), err, sizeof(err)) != 0)
            memset(&config, 0, sizeof(config));
        char self[4096];
        nb_self_path(self, sizeof(self));
        nb_platform_prepare_console();
        int code = nb_doctor_run(argc == 3, self, &config, nb_pcsc_backend());
        nb_config_free(&config);
        return code;
    }
    nb_caller_kind caller = nb_caller_check(argc, argv);
    if (caller == NB_CALLER_NOT_BROWSER) {
        usage(stderr);
        return 2;
    }
    nb_platform_prepare_stdio();
    nb_json_use_host_allocator();

    nb_config config;
    char err[512];
    if (nb_config_load(&config, nb_config_path(), err, sizeof(err)) != 0) {
        /* Run with the defaults: only the authority's origins are served. */
        fprintf(stderr, "nesbridge-host: ignoring configuration: %s\n", err);
        memset(&config, 0, sizeof(config));
    }
    const char *level = getenv("NESBRIDGE_LOG");
    const char *file = getenv("NESBRIDGE_LOG_FILE");
    if (nb_log_open(level != NULL ? level : config.log_level,
                    file != NULL ? file : config.log_file) != 0)
        fprintf(stderr, "nesbridge-host: cannot open the log file; logging to stderr\n");
    nb_log(NB_LOG_INFO, "started, caller %s", caller == NB_CALLER_ALLOWED ? "allowed" : "refused");

    /* Loaded, with libcrypto, by the first signed script (nb_session_trust). */
    const char *trust_dirs[] = {nb_system_trust_dir(), config.trust_dir};

    nb_session session;
    nb_session_init(&session, nb_pcsc_backend(), &config, caller == NB_CALLER_ALLOWED);
    session.trust_dirs = trust_dirs;
    session.trust_dir_count = 2;
    nb_watchdog_start(STDIN_FILENO, STDOUT_FILENO,
                      config.card_timeout_ms != 0 ? config.card_timeout_ms : NB_CARD_TIMEOUT_MS_DEFAULT);
    int code = nb_relay_run(&session, STDIN_FILENO, STDOUT_FILENO);
    nb_watchdog_stop();
    nb_trust_free(session.trust_loaded);

    nb_log(NB_LOG_INFO, "exiting with %d", code);
    nb_log_close();
    nb_config_free(&config);
    return code;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origin.h"
#include "platform.h"

const char *nb_config_path(void)
{
    const char *env = getenv(NB_CONFIG_ENV);
    return env != NULL && env[0] != '\0' ? env : nb_system_config_path();
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int set_string(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (copy == NULL)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

static int set_allow_origin(nb_config *cfg, const char *value, const char **why)
{
    if (!nb_origin_well_formed(value)) {
        *why = "allow_origin is not an origin of the form scheme://host[:port]";
        return -1;
    }
    if (cfg->extra_origin_count == NB_MAX_EXTRA_ORIGINS) {
        *why = "too many allow_origin lines";
        return -1;
    }
    char *copy = strdup(value);
    if (copy == NULL) {
        *why = "out of memory";
        return -1;
    }
    cfg->extra_origins[cfg->extra_origin_count++] = copy;
    return 0;
}

static int set_card_timeout(nb_config *cfg, const char *value, const char **why)
{
    char *end = NULL;
    unsigned long ms = strtoul(value, &end, 10);
    if (end == value || *end != '\0' || ms < NB_CARD_TIMEOUT_MS_MIN || ms > NB_CARD_TIMEOUT_MS_MAX) {
        *why = "card_timeout_ms must be from 1000 to 600000";
        return -1;
    }
    cfg->card_timeout_ms = (unsigned)ms;
    return 0;
}

static int set_path_or_name(char **slot, const char *value, const char **why)
{
    if (value[0] == '\0') {
        *why = "empty value";
        return -1;
    }
    if (set_string(slot, value) != 0) {
        *why = "out of memory";
        return -1;
    }
    return 0;
}

static int set_trust_dir(nb_config *cfg, const char *value, const char **why)
{
    return set_path_or_name(&cfg->trust_dir, value, why);
}

static int set_log_file(nb_config *cfg, const char *value, const char **why)
{
    return set_path_or_name(&cfg->log_file, value, why);
}

static int set_log_level(nb_config *cfg, const char *value, const char **why)
{
    if (strcmp(value, "off") != 0 && strcmp(value, "error") != 0 && strcmp(value, "info") != 0 &&
        strcmp(value, "debug") != 0) {
        *why = "log_level must be off, error, info or debug";
        return -1;
    }
    return set_path_or_name(&cfg->log_level, value, why);
}

/* Every key the file may hold (docs/protocol.md, "Configuration file";
 * the contract test compares the two). */
static const struct {
    const char *key;
    int (*set)(nb_config *cfg, const char *value, const char **why);
} settings[] = {
    {"allow_origin", set_allow_origin}, {"trust_dir", set_trust_dir},       {"log_level", set_log_level},
    {"log_file", set_log_file},         {"card_timeout_ms", set_card_timeout},
};

const char *nb_config_key(size_t i)
{
    return i < sizeof(settings) / sizeof(settings[0]) ? settings[i].key : NULL;
}

static int apply_setting(nb_config *cfg, const char *key, const char *value, const char **why)
{
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (strcmp(key, settings[i].key) == 0)
            return settings[i].set(cfg, value, why);
    *why = "unknown key";
    return -1;
}

int nb_config_load_why(nb_config *cfg, const char *path, char *err, size_t err_len, nb_anchor_why *why)
{
    memset(cfg, 0, sizeof(*cfg));
    why->problem = NB_ANCHOR_OK;
    why->where[0] = '\0';
    if (path[0] == '\0')
        return 0; /* no system configuration where the host lives */
    FILE *f = nb_anchor_open_file(path, why);
    if (f == NULL) {
        if (why->problem == NB_ANCHOR_MISSING) {
            why->problem = NB_ANCHOR_OK;
            return 0;
        }
        if (strcmp(why->where, path) == 0)
            snprintf(err, err_len, "%s: %s; refusing it", path, nb_anchor_problem_text(why->problem));
        else
            snprintf(err, err_len, "%s: %s (%s); refusing it", path, nb_anchor_problem_text(why->problem),
                     why->where);
        return -1;
    }
    char line[NB_CONFIG_MAX_LINE];
    unsigned line_no = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        line_no++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, err_len, "%s:%u: line too long", path, line_no);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (s[0] == '\0' || s[0] == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, err_len, "%s:%u: expected key = value", path, line_no);
            rc = -1;
            break;
        }
        *eq = '\0';
        const char *bad = NULL;
        char *key = trim(s);
        if (apply_setting(cfg, key, trim(eq + 1), &bad) != 0) {
            snprintf(err, err_len, "%s:%u: %s: %s", path, line_no, key, bad);
            rc = -1;
            break;
        }
    }
    fclose(f);
    if (rc != 0)
        nb_config_free(cfg);
    return rc;
}

int nb_config_load(nb_config *cfg, const char *path, char *err, size_t err_len)
{
    nb_anchor_why why;
    return nb_config_load_why(cfg, path, err, err_len, &why);
}

void nb_config_free(nb_config *cfg)
{
    for (size_t i = 0; i < cfg->extra_origin_count; i++)
        free(cfg->extra_origins[i]);
    free(cfg->trust_dir);
    free(cfg->log_level);
    free(cfg->log_file);
    memset(cfg, 0, sizeof(*cfg));
}

/*
 * cmd_config.c — `hedgehog config`: the configuration table, seen from the
 * command line.
 *
 *   hedgehog config --defaults       every key with its default, as YAML
 *                                    grouped by section, with its comment
 *   hedgehog config --check FILE     load FILE and the reference data it
 *                                    names; print "ok" or the error
 *
 * The printed defaults come from the same rows the loader applies, and they
 * load as printed (the README's blocks are this output).
 *
 * Exit codes: 0 done / ok; 1 writing stdout failed; 2 bad usage or an
 * invalid configuration (the message names the file, line and key).
 */
#include "app/cmd.h"
#include "app/common.h"

#define ME "config"
const char hh_usage_config[] =
    "usage: hedgehog config --defaults\n"
    "       hedgehog config --check FILE\n";
#define USAGE hh_usage_config

static int check(const char *path)
{
    struct hh_world w;
    struct hh_diag d = { .msg = "" };

    if (hh_world_load(&w, path, &d))
        return hh_app_say(ME, NULL, HH_EXIT_USAGE, "%s", d.msg);
    hh_world_free(&w);
    printf("ok\n");
    return fflush(stdout) ? HH_EXIT_FAIL : HH_EXIT_OK;
}

int hh_cmd_config(int argc, char **argv)
{
    const char *defaults, *path;
    const struct hh_opt opts[] = {
        { .name = "--defaults", .value = &defaults, .flag = true },
        { .name = "--check", .value = &path },
    };

    if (hh_app_parse(ME, USAGE, argc, argv, opts, 2))
        return HH_EXIT_USAGE;
    if (!defaults == !path)
        return hh_app_say(ME, USAGE, HH_EXIT_USAGE, "give exactly one of --defaults and --check");
    if (path)
        return check(path);
    if (hh_config_write_defaults(stdout))
        return hh_app_say(ME, NULL, HH_EXIT_FAIL, "writing the defaults failed");
    return HH_EXIT_OK;
}

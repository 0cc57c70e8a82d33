/*
 * main.c — hedgehog's command line: dispatch to a subcommand.  Each
 * command owns its usage text (app/cmd.h); `hedgehog --help` lists them
 * all, `hedgehog CMD --help` prints one, `hedgehog --version` says which
 * build this is.
 */
#include "app/cmd.h"
#include "app/version.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    { "backtest", hh_cmd_backtest, hh_usage_backtest },
    { "run", hh_cmd_run, hh_usage_run },
    { "validate", hh_cmd_validate, hh_usage_validate },
    { "candles", hh_cmd_candles, hh_usage_candles },
    { "compare", hh_cmd_compare, hh_usage_compare },
    { "margin", hh_cmd_margin, hh_usage_margin },
    { "price-options", hh_cmd_price_options, hh_usage_price_options },
    { "config", hh_cmd_config, hh_usage_config },
    { "audit", hh_cmd_audit, hh_usage_audit },
    { "kill", hh_cmd_kill, hh_usage_kill },
    { "report", hh_cmd_report, hh_usage_report },
    { "db", hh_cmd_db, hh_usage_db },
    { "api", hh_cmd_api, hh_usage_api },
};

static bool is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* Every command's usage, each line "  hedgehog CMD ..." (its text without
 * the "usage:" that starts it and the spaces that align its other forms). */
static void usage(FILE *f)
{
    fprintf(f, "usage: hedgehog COMMAND [OPTIONS]   (hedgehog COMMAND --help: one command)\n"
               "       hedgehog --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const char *s = commands[i].usage;

        while (*s) {
            size_t n = strcspn(s, "\n");
            size_t skip = strncmp(s, "usage:", 6) ? 0 : 6;

            skip += strspn(s + skip, " ");
            fprintf(f, "  %.*s\n", (int)(n - skip), s + skip);
            s += n + (s[n] == '\n');
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HH_EXIT_USAGE;
    }
    if (is_help(argv[1]) || !strcmp(argv[1], "help")) {
        usage(stdout);
        return fflush(stdout) ? HH_EXIT_FAIL : HH_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("hedgehog %s (build %s)\n", HH_VERSION, hh_build_id());
        return fflush(stdout) ? HH_EXIT_FAIL : HH_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(argv[1], commands[i].name))
            continue;
        /* the commands with a subcommand or arguments first (audit, db,
         * api) see --help only in an option's place: answer it here */
        if (argc >= 3 && is_help(argv[2])) {
            fputs(commands[i].usage, stdout);
            return fflush(stdout) ? HH_EXIT_FAIL : HH_EXIT_OK;
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "hedgehog: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return HH_EXIT_USAGE;
}

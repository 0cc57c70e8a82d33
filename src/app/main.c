/*
 * main.c — hedgehog's command line: dispatch to a subcommand.
 */
#include "app/cmd.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    { "candles", hh_cmd_candles,
      "candles [--config FILE] --ticks FILE --tf 1m|3m|5m|15m|30m|1h --out FILE" },
    { "backtest", hh_cmd_backtest,
      "backtest --config FILE (--ticks FILE | --bars FILE) --signals FILE --out DIR" },
    { "run", hh_cmd_run,
      "run --config FILE --mode paper|shadow|live [--ticks FILE --speed X] "
      "[--signals FILE|-] [--db FILE] [--log-level L]" },
    { "validate", hh_cmd_validate,
      "validate --config FILE --signals FILE --out DIR" },
    { .name = "config", .run = hh_cmd_config, .usage = "config --defaults" },
    { .name = "config", .run = hh_cmd_config, .usage = "config --check FILE" },
    { .name = "compare", .run = hh_cmd_compare, .usage = "compare --a DIR --b DIR [--out FILE]" },
    { "audit", hh_cmd_audit, "audit verify --db FILE [--key-file KEY ...]" },
    { "audit", hh_cmd_audit, "audit show --db FILE [--correlation ID]" },
    { "audit", hh_cmd_audit, "audit key --db FILE --key-file KEY" },
    { "kill", hh_cmd_kill,
      "kill --db FILE --action pause|reduce|halt|flatten|resume [--reason TEXT] "
      "[--key-file KEY]" },
    { "kill", hh_cmd_kill, "kill --db FILE --status" },
    { "report", hh_cmd_report, "report --db FILE --date YYYY-MM-DD --out DIR" },
    { "db", hh_cmd_db, "db backup --db FILE --to FILE" },
    { "db", hh_cmd_db, "db check --db FILE" },
    { "api", hh_cmd_api,
      "api METHOD PATH [--body JSON] --key-file FILE [--key ID] --url http://HOST:PORT "
      "[--timeout SECONDS]" },
    { "margin", hh_cmd_margin,
      "margin --config FILE --legs FILE.json --spot PRICE --iv VOL --available RUPEES "
      "[--as-of TS] [--rate R]" },
    { "price-options", hh_cmd_price_options,
      "price-options --bars FILE --underlying SYMBOL --expiry YYYY-MM-DD --strikes K1,K2,... "
      "--iv VOL [--rate R] [--lot LOT] [--tick TICK] [--volume UNITS] [--holidays FILE] "
      "--out BARS.csv [--instruments OUT.csv]" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: hedgehog COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  hedgehog %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HH_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return HH_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hedgehog: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return HH_EXIT_USAGE;
}

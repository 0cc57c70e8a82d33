/*
 * cmd.h — the hedgehog subcommands.  Each takes the arguments after its
 * name and returns the process exit code (SPEC §6): 0 done, 1 the run
 * failed, 2 bad usage, unreadable input or invalid config.
 */
#ifndef HH_CMD_H
#define HH_CMD_H

enum { HH_EXIT_OK = 0, HH_EXIT_FAIL = 1, HH_EXIT_USAGE = 2 };

int hh_cmd_candles(int argc, char **argv);
int hh_cmd_validate(int argc, char **argv);
int hh_cmd_backtest(int argc, char **argv);
int hh_cmd_audit(int argc, char **argv);
int hh_cmd_db(int argc, char **argv);
int hh_cmd_margin(int argc, char **argv);
int hh_cmd_price_options(int argc, char **argv);
int hh_cmd_run(int argc, char **argv);
int hh_cmd_config(int argc, char **argv);
int hh_cmd_compare(int argc, char **argv);
int hh_cmd_api(int argc, char **argv);
int hh_cmd_kill(int argc, char **argv);
int hh_cmd_report(int argc, char **argv);

/* Each command's usage text ("usage: hedgehog CMD ...\n", a line per form):
 * printed on an argument error (stderr, exit 2), on --help (stdout, exit 0)
 * and, all of them, by `hedgehog --help`. */
extern const char hh_usage_candles[], hh_usage_validate[], hh_usage_backtest[],
    hh_usage_audit[], hh_usage_db[], hh_usage_margin[], hh_usage_price_options[],
    hh_usage_run[], hh_usage_config[], hh_usage_compare[], hh_usage_api[], hh_usage_kill[],
    hh_usage_report[];

#endif

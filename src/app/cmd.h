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

#endif

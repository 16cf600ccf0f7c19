/* What the subcommands share: the command table's signatures and helpers. */
#ifndef CALIB_CMD_H
#define CALIB_CMD_H

#include "lib/calib.h"

int	 cmd_init(int, char **);
int	 cmd_exec(int, char **);
int	 cmd_update(int, char **);
int	 cmd_run(int, char **);
int	 cmd_status(int, char **);
int	 cmd_cancel(int, char **);
int	 cmd_export(int, char **);
int	 cmd_report(int, char **);
int	 cmd_check(int, char **);
int	 cmd_amend(int, char **);
int	 cmd_backends(int, char **);

/*
 * The core's entry (cmd/core.c, in calib-core.so): dispatch argv to its
 * command.  version is the front's CALIB_VERSION; a core of another
 * version refuses.
 */
__attribute__((visibility("default")))
int	 calib_core_main(int argc, char **argv, const char *version);
/*
 * calib exec in the front (cmd/main.c), without the core: run the member
 * when it is one of calib's jobs and needs no HDF5; -1 when it must be
 * left to the core's cmd_exec (which then does everything, errors
 * included), else the exit status.
 */
int	 exec_light(int argc, char **argv);

/* Print "calib: message" on stderr and free the message. */
void	 error_cause(char *cause);
/*
 * Open the experiment named on the command line (default calib.yaml),
 * printing the error and returning its exit status on failure.
 */
int	 open_experiment(const char *arg, struct experiment *);
/* The same, for an experiment that must be initialised (else EXIT_FAIL). */
int	 open_initialised(const char *arg, struct experiment *);
/*
 * calib exec and calib update run by hand (not from one of calib's jobs,
 * whose command has --job: job is 0) hold the experiment's lock in *lock
 * while they work, and refuse while jobs of iteration it (covering member
 * m, when positive) are still queued or running.  Prints the error;
 * returns the exit status.
 */
int	 hand_lock(const struct experiment *, long it, long m,
	    const char *what, int job, int *lock);
/*
 * "unknown backend 'slurmm' (did you mean 'slurm'? backends: ...)" on
 * stderr; returns EXIT_USAGE.
 */
int	 unknown_backend(const char *name);
/* "calib: the end of WHAT:" and tail's lines, indented, on stderr. */
void	 print_tail(const char *what, char *tail);
/* A number of 0 or more, the whole of s; -1 when it is not. */
int	 cmd_number(const char *s, long *out);
/* The EXPERIMENT operand, or the default; -1 when there are too many. */
const char *experiment_operand(int argc, char **argv);
/* Print a usage string: on stdout for -h (exit 0), else on stderr (2). */
int	 usage(const char *text, int ok);
/* fflush and check stdout: a full disk is an error, not silence. */
int	 finish_stdout(int status);

#endif

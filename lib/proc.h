/* Running other programs (the batch system's commands) without a shell. */
#ifndef CALIB_PROC_H
#define CALIB_PROC_H

#include <sys/types.h>
#include <stddef.h>

struct proc_result {
	int	 status;	/* exit status; 128+N when killed by signal N */
	char	*out;		/* everything written to stdout, NUL-terminated */
	char	*err;		/* and to stderr */
};

/*
 * Run argv[0] (searched in PATH) with stdin from /dev/null and collect its
 * output.  Variables for which drop() answers 1 are removed from its
 * environment (drop may be NULL).  A command still running after timeout
 * seconds is killed.  Returns 0 when it ran (whatever its exit status), or
 * -1 with *cause set when it could not be started or was killed.
 */
int	 proc_run(char *const argv[], int (*drop)(const char *), double timeout,
	    struct proc_result *, char **cause);
void	 proc_result_release(struct proc_result *);

/*
 * Run fn(arg, cause) first in a child process, to find out whether it
 * survives: for handing untrusted files to a library that may crash on
 * them (HDF5 1.10 overruns buffers on some damaged files).  Returns 0 when
 * fn returned 0 there (the caller then runs it for real), -1 with fn's
 * message, or with "reading it crashed" naming what, when it died.  Inside
 * such a child it calls fn directly.
 */
int	 proc_probe(int (*fn)(void *, char **), void *arg, const char *what,
	    char **cause);

/*
 * Processes found in /proc, other than this one, into *pids (owned by the
 * caller; how many is returned, 0 also when /proc cannot be read):
 * proc_children the live (not zombie) children of parent, proc_with_env
 * those whose environment holds name=value (a zombie has none; processes
 * of other users are not readable, unless calib runs as root).
 */
size_t	 proc_children(pid_t parent, pid_t **pids);
size_t	 proc_with_env(const char *name, const char *value, pid_t **pids);

/* The command line as a user would type it, for messages and logs. */
char	*proc_argv_string(char *const argv[]);

#endif

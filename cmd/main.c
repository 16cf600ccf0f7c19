/*
 * calib's front.  calib is two files: this small executable, linked with
 * libc, libyaml and libxxhash only, and its core, calib-core.so, linked
 * with HDF5, BLAS, LAPACK, GSL and the rest.  Loading those libraries
 * takes about ten milliseconds, more than many models run; the front runs
 * the members of calib's jobs itself (exec_light) and loads the core for
 * everything else, from beside the executable (the build tree) or from
 * ../lib/calib/ (an install).
 */
#include <sys/prctl.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"

/*
 * A job of the local backend dies with the calib run that started it:
 * that driver names itself in CALIB_DRIVER_PID (schedulers/local.c).  Set
 * here, at the start of the job's own process, not in the driver's child
 * before exec, so that the driver can start jobs by posix_spawn.
 */
static void
die_with_driver(void)
{
	const char	*v = getenv("CALIB_DRIVER_PID");
	char		*end;
	long		 pid;

	if (v == NULL)
		return;
	errno = 0;
	pid = strtol(v, &end, 10);
	/* The driver may have died before prctl: then so do we. */
	if (*v != '\0' && *end == '\0' && errno == 0 && pid > 1) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != pid)
			_exit(EXIT_FAIL);
	}
	unsetenv("CALIB_DRIVER_PID");
}

/* Load calib-core.so and return its entry, or NULL with the error said. */
static int
(*load_core(void))(int, char **, const char *)
{
	static const char *const where[] = {
		"calib-core.so", "../lib/calib/calib-core.so"
	};
	char		 self[PATH_MAX], path[PATH_MAX + 64], *slash;
	const char	*why = NULL;
	void		*h = NULL, *fn;
	sigset_t	 all, old;
	ssize_t		 len;
	size_t		 i;

	if ((len = readlink("/proc/self/exe", self, sizeof self - 1)) < 0) {
		fprintf(stderr, "calib: cannot find its own executable: %s\n",
		    strerror(errno));
		return NULL;
	}
	self[len] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	/*
	 * Threads that libraries start as they load (OpenBLAS's pool) take
	 * every signal blocked: else a SIGCHLD that the local backend waits
	 * for with sigtimedwait could be delivered to one of them, and lost.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; h == NULL && i < sizeof where / sizeof where[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", self, where[i]);
		if (access(path, F_OK) == 0 &&
		    (h = dlopen(path, RTLD_LAZY | RTLD_LOCAL)) == NULL &&
		    why == NULL)
			why = dlerror();
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h == NULL) {
		fprintf(stderr, "calib: cannot load calib-core.so (looked in %s "
		    "and %s/../lib/calib): %s\n", self, self, why ? why :
		    "no such file");
		return NULL;
	}
	if ((fn = dlsym(h, "calib_core_main")) == NULL) {
		fprintf(stderr, "calib: %s is not calib's core: %s\n", path,
		    dlerror());
		return NULL;
	}
	return (int (*)(int, char **, const char *))fn;
}

int
main(int argc, char **argv)
{
	int	(*core)(int, char **, const char *);
	int	 rc;

	die_with_driver();
	if (argc > 1 && !strcmp(argv[1], "exec") &&
	    (rc = exec_light(argc - 1, argv + 1)) >= 0)
		return finish_stdout(rc);
	if ((core = load_core()) == NULL)
		return EXIT_FAIL;
	return core(argc, argv, CALIB_VERSION);
}

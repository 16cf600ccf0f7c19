/*
 * libFuzzer harness: the readers of calib's HDF5 state (lib/state.h).  Two
 * small experiments are initialised once (eki with 3 members, uki with 5;
 * 2 parameters, 3 observations); each input then replaces one of their
 * files, chosen by the first byte, and is read back:
 *
 *   0  iteration_000/ensemble.h5 of eki    ensemble_read
 *   1  iteration_000/ensemble.h5 of uki    ensemble_read (with uki_*)
 *   2  iteration_000/results.h5 of eki     results_read, iteration_final
 *   3  observations.h5 of eki              observations_read, _count
 *   4  observations.count of eki           observations_count_known
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <hdf5.h>

#include "test/fuzz/fuzz.h"
#include "lib/calib.h"
#include "lib/fsio.h"
#include "lib/state.h"
#include "lib/util.h"


/*
 * HDF5 is not under test: on a damaged file it may ask for absurd sizes
 * (let malloc fail, as it handles) and it leaks on some of its error paths
 * (not calib's leaks: calib's own objects are checked below).  calib's
 * allocations abort on failure, so its absurd sizes are still caught.
 */
FUZZ_HDF5_OPTIONS

static char			*dir;
static struct experiment	 eki, uki;
static char			*files[5];

static void
cleanup(void)
{
	size_t	 i;

	experiment_release(&eki);
	experiment_release(&uki);
	remove_tree(dir, NULL);
	free(dir);
	for (i = 0; i < 5; i++)
		free(files[i]);
}

/* An initialised experiment in dir/name (test/lib.sh's make_experiment). */
static void
make_experiment(struct experiment *e, const char *name, const char *extra)
{
	char	*sub = path_join(dir, name), *f, *yaml, *cause = NULL;

	if (mkdirs(sub, &cause) != 0)
		goto fail;
	f = path_join(sub, "obs.txt");
	fuzz_put(f, (const uint8_t *)"1\n2\n3\n", 6);
	free(f);
	yaml = xasprintf("name: tiny\n%s\n"
	    "iterations: 2\n"
	    "seed: 7\n"
	    "parameters:\n"
	    "  a:\n"
	    "    prior: {normal: {mean: 0, std: 1}}\n"
	    "  b:\n"
	    "    prior: {constrained_gaussian: {mean: 2, std: 0.5, lower: 0, "
	    "upper: .inf}}\n"
	    "observations:\n"
	    "  values: obs.txt\n"
	    "  noise: {std: 0.5}\n"
	    "forward_model:\n"
	    "  command: [\"/bin/true\", \"{parameters}\", \"{output}\"]\n"
	    "  parameter_file: {name: p.env, format: env}\n"
	    "  output: {file: out.txt}\n", extra);
	f = path_join(sub, "calib.yaml");
	fuzz_put(f, (const uint8_t *)yaml, strlen(yaml));
	free(yaml);
	if (config_load(f, NULL, NULL, e, &cause) != 0 ||
	    init_experiment(e, 0, &cause) != 0) {
		free(f);
		goto fail;
	}
	free(f);
	free(sub);
	return;
fail:
	fprintf(stderr, "fuzz_state: %s: %s\n", name, cause);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	/* Never wait for files a shared filesystem might show late. */
	setenv("CALIB_FS_LAG", "0", 1);
	dir = fuzz_tmpdir();
	atexit(cleanup);
	make_experiment(&eki, "eki", "ensemble_size: 3");
	make_experiment(&uki, "uki", "algorithm: {method: uki}");
	files[0] = iteration_file(&eki, 0, "ensemble.h5");
	files[1] = iteration_file(&uki, 0, "ensemble.h5");
	files[2] = iteration_file(&eki, 0, "results.h5");
	files[3] = path_join(eki.output_dir, "observations.h5");
	files[4] = path_join(eki.output_dir, "observations.count");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ensemble		 en;
	struct results		 r;
	struct observations	 o;
	char			*cause = NULL, *why = NULL;
	size_t			 d, which;
	struct timespec		 times[2];
	static int		 flip;

	if (size == 0)
		return 0;
	which = data[0] % 5;
	fuzz_put(files[which], data + 1, size - 1);
	switch (which) {
	case 0:
	case 1:
		if (ensemble_read(which ? &uki : &eki, 0, &en, &cause) == 0)
			ensemble_release(&en);
		break;
	case 2:
		if (results_read(&eki, 0, &r, &cause) == 0)
			results_release(&r);
		iteration_final(&eki, 0, &why);
		free(why);
		break;
	case 3:
		if (observations_read(&eki, &o, &cause) == 0)
			observations_release(&o);
		observations_count(&eki, &d, &cause);
		break;
	case 4:
		/*
		 * One of two fixed times for observations.h5, in turn: what the
		 * last call remembered does not count, and a count file naming
		 * the time (as the seed count-valid does) can be accepted.
		 */
		flip ^= 1;
		times[0].tv_sec = times[1].tv_sec = 1795416013;
		times[0].tv_nsec = times[1].tv_nsec = 98130235 + flip;
		utimensat(AT_FDCWD, files[3], times, 0);
		if (observations_count_known(&eki, &d) && (d < 1 ||
		    d > CALIB_MAX_VALUES))
			abort();
		break;
	}
	free(cause);
	/* Every HDF5 object opened was closed: a file left open stays so. */
	if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) {
		fprintf(stderr, "fuzz_state: HDF5 objects left open\n");
		abort();
	}
	return 0;
}

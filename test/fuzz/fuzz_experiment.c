/*
 * libFuzzer harness: the experiment file parser, config_load, on the input
 * written as calib.yaml in a private folder.  Each input is loaded twice:
 * as calib init reads it (files it names must exist, and here none does),
 * and as a frozen copy in an output directory (files are not looked for,
 * so the whole file is parsed and validated).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test/fuzz/fuzz.h"
#include "lib/config.h"
#include "lib/fsio.h"
#include "lib/util.h"


static char	*dir, *file, *outdir;

static void
cleanup(void)
{
	remove_tree(dir, NULL);
	free(dir);
	free(file);
	free(outdir);
}

/* Use what was parsed the way calib's commands do. */
static void
use(const struct experiment *e)
{
	size_t	 i, j;
	char	*s, *cause = NULL;

	for (i = 0; i < e->nparams; i++)
		for (j = 0; j < e->params[i].size && j < 4; j++) {
			s = param_component_name(&e->params[i], j);
			free(s);
		}
	for (i = 0; i < e->ncommand; i++)
		if (command_expand(e->command[i], NULL, NULL, &cause) != 0)
			abort();	/* config_load checked them */
	free(cause);
	if (method_name(e->alg.method) == NULL)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_tmpdir();
	file = path_join(dir, "calib.yaml");
	outdir = path_join(dir, "output");
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct experiment	 e;
	char			*cause = NULL;

	fuzz_put(file, data, size);
	if (config_load(file, NULL, NULL, &e, &cause) == 0) {
		use(&e);
		experiment_release(&e);
	}
	if (config_load(file, dir, outdir, &e, &cause) == 0) {
		use(&e);
		experiment_release(&e);
	}
	free(cause);
	return 0;
}

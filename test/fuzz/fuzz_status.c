/*
 * libFuzzer harness: status_read on the input written as DIR/status (the
 * file calib exec leaves in each member folder).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test/fuzz/fuzz.h"
#include "lib/fsio.h"
#include "lib/state.h"
#include "lib/util.h"


static char	*dir, *file;

static void
cleanup(void)
{
	remove_tree(dir, NULL);
	free(dir);
	free(file);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_tmpdir();
	file = path_join(dir, "status");
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct member_status	 s;
	char			*cause = NULL;

	fuzz_put(file, data, size);
	if (status_read(dir, &s, &cause) == 1 && outcome_name(s.outcome) == NULL)
		abort();
	free(cause);
	return 0;
}

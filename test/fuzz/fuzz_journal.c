/*
 * libFuzzer harness: journal_load and journal_refresh on the input written
 * as OUTPUT/jobs.journal.  journal_load reads only the experiment's
 * output_dir, so the experiment is that field alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "lib/fsio.h"
#include "lib/journal.h"
#include "lib/util.h"


static struct experiment	 ex;
static char			*file;

static void
cleanup(void)
{
	remove_tree(ex.output_dir, NULL);
	free(ex.output_dir);
	free(file);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ex.output_dir = fuzz_tmpdir();
	file = path_join(ex.output_dir, "jobs.journal");
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal	 j;
	struct jentry	*x;
	char		*cause = NULL;
	size_t		 i;

	fuzz_put(file, data, size);
	if (journal_load(&ex, &j, &cause) == 0) {
		/* What callers do with the records: every field is readable. */
		for (i = 0; i < j.n; i++)
			if (strlen(j.v[i].name) + strlen(j.v[i].backend) +
			    (j.v[i].members ? strlen(j.v[i].members) : 0) +
			    (j.v[i].id ? strlen(j.v[i].id) : 0) == (size_t)-1)
				abort();
		x = journal_last(&j, JOB_MEMBERS, 0);
		x = journal_last(&j, JOB_UPDATE, x ? x->iteration : 1);
		(void)x;
		journal_refresh(&j, &cause);
	}
	journal_release(&j);
	free(cause);
	return 0;
}

/*
 * libFuzzer harness: the parsers of what batch schedulers answer, chosen
 * by the first byte: squeue and sacct lines (Slurm), qstat -f -F json
 * (PBS Pro), qstat -x (Torque), and the index lists of job arrays.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "lib/ranges.h"
#include "lib/util.h"
#include "schedulers/scheduler.h"


static int (*const parsers[])(const char *, struct job_info **, size_t *,
    char **) = {
	slurm_parse_squeue, slurm_parse_sacct, pbs_parse_json,
	torque_parse_xml,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_info	*v = NULL;
	char		*text, *cause = NULL;
	long		*idx;
	size_t		 n = 0, i, which;

	if (size == 0)
		return 0;
	which = data[0] % 5;
	text = xmalloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (which < 4) {
		if (parsers[which](text, &v, &n, &cause) == 0) {
			for (i = 0; i < n; i++)
				if (strlen(v[i].id) + strlen(v[i].state) ==
				    (size_t)-1 || v[i].phase > PHASE_SYSTEM)
					abort();
			job_info_free(v, n);
		} else if (v != NULL || n != 0)
			abort();	/* a failed parse leaves nothing */
	} else if (ranges_parse(text, &idx, &n) == 0) {
		/* ranges_contain walks the text: check a bounded sample. */
		for (i = 0; i < n && i < 4096; i++)
			if (!ranges_contain(text, idx[i]))
				abort();	/* the two readings disagree */
		free(idx);
	}
	free(cause);
	free(text);
	return 0;
}

/*
 * libFuzzer harness: template_render with the input as a job script
 * template and the variables calib renders scripts with; command_expand
 * with the input as one forward_model.command argument; shell_quote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "lib/config.h"
#include "lib/template.h"
#include "lib/util.h"


static const struct tvar vars[] = {
	{ "experiment", "tiny" },
	{ "iteration", "3" },
	{ "directives", "#SBATCH --job-name=calib\n#SBATCH --time=10:00" },
	{ "setup", "module load 'gcc'" },
	{ "command", "'/usr/bin/calib' exec -i 3 '/tmp/out'" },
	{ "calib", "'/usr/bin/calib'" },
	{ "output_dir", "'/tmp/it'\\''s out'" },
};

/* {experiment_dir}, {member_dir}, {iteration}, {member}, {parameters}, {output} */
static const char *const vals[] = {
	"/exp", "/exp/out/iteration_003/member_007", "3", "7", "p.toml",
	"out.txt",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text = xmalloc(size + 1), *out = NULL, *cause = NULL;

	/* Templates and arguments are C strings: a NUL ends them. */
	memcpy(text, data, size);
	text[size] = '\0';
	if (template_render(text, "fuzz.sbatch", vars,
	    sizeof vars / sizeof vars[0], &out, &cause) == 0)
		free(out);
	out = NULL;
	if (command_expand(text, vals, &out, &cause) == 0)
		free(out);
	command_expand(text, NULL, NULL, &cause);
	free(shell_quote(text));
	free(cause);
	free(text);
	return 0;
}

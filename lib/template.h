/*
 * Job script templates (calib-templates(7)): text with {{variable}}
 * placeholders.  The defaults are built into calib from templates/, so
 * calib and its core need no other installed files on the cluster.
 */
#ifndef CALIB_TEMPLATE_H
#define CALIB_TEMPLATE_H

#include <stddef.h>

struct tvar {
	const char	*name;
	const char	*value;
};

/* The built-in template "slurm/member.sbatch" and so on, or NULL. */
const char	*builtin_template(const char *name);

/*
 * The template `file` of backend folder `sub`: dir/file when dir is set and
 * has it, else the built-in sub/file.  *origin names where it came from.
 */
int	 template_load(const char *dir, const char *sub, const char *file,
	    char **text, char **origin, char **cause);

/*
 * Replace every {{name}} in text by its value.  An unknown name is an
 * error naming origin:line:column.
 */
int	 template_render(const char *text, const char *origin,
	    const struct tvar *, size_t n, char **out, char **cause);

/* s in single quotes for a POSIX shell: 'it'\''s'. */
char	*shell_quote(const char *s);

#endif

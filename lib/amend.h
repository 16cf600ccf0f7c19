/*
 * calib amend: which keys of an experiment file differ from the frozen copy
 * in its output directory, and which of them may change without changing
 * the meaning of iterations already closed.
 */
#ifndef CALIB_AMEND_H
#define CALIB_AMEND_H

#include "lib/config.h"

struct change {
	char		*key;		/* "forward_model.command" */
	char		*old, *new;	/* canonical values; NULL: absent */
	size_t		 line;		/* in the new file; 0 when absent */
	const char	*refused;	/* why it may not change, or NULL */
};

struct changes {
	struct change	*v;
	size_t		 n;
	size_t		 refused;	/* how many of v are refused */
};

/*
 * The differences between the experiment file path and the frozen copy
 * frozen, key by key (a list is one value).  Returns 0, or -1 with *cause.
 */
int	 changes_find(const char *path, const char *frozen, struct changes *,
	    char **cause);
void	 changes_release(struct changes *);

/*
 * Take the file path into the experiment (its output directory's frozen
 * copy), every change being allowed, and record each change in
 * output_dir/amendments.  The caller holds the experiment's lock.
 */
int	 amend_apply(const struct experiment *, const char *path,
	    const struct changes *, char **cause);

#endif

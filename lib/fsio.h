/*
 * Files on disk.  Everything another process may read is written to a
 * temporary name in the same directory, flushed, fsync'd and renamed into
 * place, so readers see either nothing or the whole file.
 */
#ifndef CALIB_FSIO_H
#define CALIB_FSIO_H

#include <sys/types.h>
#include <stdio.h>
#include <stddef.h>

struct atomic_file {
	char	*path;		/* final name */
	char	*tmp;		/* temporary name in the same directory */
	FILE	*fp;
};

/*
 * The mode of the files calib creates: 0666 less the umask, so that a
 * group may share a calibration (umask 002).  Folders are 0777 less it.
 */
mode_t	 file_mode(void);
mode_t	 dir_mode(void);

/*
 * Open a temporary file, created exclusively under an unpredictable name
 * (.NAME.tmpXXXXXX) in path's folder, that af_commit will rename to path.
 */
int	 af_open(struct atomic_file *, const char *path, char **cause);
/* Flush, fsync, rename into place and fsync the directory; frees af. */
int	 af_commit(struct atomic_file *, char **cause);
/* Remove the temporary file and free af (safe after a failed commit). */
void	 af_abort(struct atomic_file *);

/* Write len bytes to path atomically. */
int	 write_file_atomic(const char *path, const void *, size_t, char **cause);
/*
 * The same (a temporary name renamed into place), without making it
 * durable: for a batch of files that sync_filesystem then makes durable
 * at once, before anything that says they exist is published.
 */
int	 write_file_unsynced(const char *path, const void *, size_t,
	    char **cause);
/*
 * Make everything written to path's filesystem durable, file data and
 * directories alike, in one call (syncfs(2)): one journal commit where a
 * fsync per file and per folder would each force one.
 */
int	 sync_filesystem(const char *path, char **cause);
/* fsync a file already written and closed by other code, and its directory. */
int	 sync_path(const char *path, char **cause);
/* rename(2) then fsync the directory of `to`. */
int	 rename_durable(const char *from, const char *to, char **cause);

/* "a directory", "a FIFO", ...: what a file of this mode is, for messages. */
const char	*file_kind(mode_t);

/*
 * Read a whole regular file (a directory, FIFO or device is an error that
 * says so); the buffer is NUL-terminated and owned by the caller.
 */
int	 read_file(const char *path, char **buf, size_t *len, char **cause);
/*
 * The last n non-blank lines of a text file (a model's log, of any size:
 * only its last 64 KiB are read), each escaped and cut like any untrusted
 * bytes, joined by "\n"; NULL when there are none or it cannot be read.
 */
char	*file_tail(const char *path, size_t n);

/*
 * Remove temporary files (.NAME.tmpXXXXXX) last changed more than age
 * seconds ago in dir and its folders down to depth levels: what a writer
 * killed between creating and renaming left behind.  Returns how many.
 */
size_t	 sweep_temps(const char *dir, int depth, double age);

/* Create a directory and its parents (mode 0777 less umask). */
int	 mkdirs(const char *path, char **cause);
/* Remove a directory tree (used by init --force). */
int	 remove_tree(const char *path, char **cause);

int	 is_dir(const char *);
int	 is_file(const char *);
/*
 * Like is_file, but on a miss keep looking for up to `seconds`: shared
 * filesystems (NFS, Lustre, GPFS) can show a file late on another node.
 */
int	 wait_file(const char *, double seconds);
/* How long to wait for such files: $CALIB_FS_LAG seconds, default 10. */
double	 fs_lag(void);

/* dirname and join, returning new strings. */
char	*path_dir(const char *);
char	*path_join(const char *, const char *);
/* Absolute form of path without resolving the last component's links. */
char	*path_abs(const char *);

#endif

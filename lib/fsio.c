/* Atomic writes, directory helpers and bounded waits for late files. */
#include <sys/stat.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsio.h"
#include "lib/util.h"

char *
path_dir(const char *p)
{
	const char	*slash = strrchr(p, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == p)
		return xstrdup("/");
	return strndup(p, slash - p);
}

char *
path_join(const char *a, const char *b)
{
	if (b[0] == '/' || a[0] == '\0')
		return xstrdup(b);
	if (a[strlen(a) - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

char *
path_abs(const char *p)
{
	char	 cwd[PATH_MAX], *dir, *real, *base, *out;

	if (p[0] == '/')
		return xstrdup(p);
	dir = path_dir(p);
	real = realpath(dir, NULL);
	free(dir);
	base = strrchr(p, '/') ? strrchr(p, '/') + 1 : (char *)p;
	if (real != NULL) {
		out = path_join(real, base);
		free(real);
		return out;
	}
	if (getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(p);
	return path_join(cwd, p);
}

static int
fsync_dir(const char *path, char **cause)
{
	char	*dir = path_dir(path);
	int	 fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd == -1 || (fsync(fd) == -1 && errno != EINVAL))
		rc = failf(cause, "%s: %s", dir, strerror(errno));
	if (fd != -1)
		close(fd);
	free(dir);
	return rc;
}

static mode_t
user_umask(void)
{
	static mode_t	 mask = (mode_t)-1;

	/* umask can only be read by setting it: once, put straight back. */
	if (mask == (mode_t)-1) {
		mask = umask(077);
		umask(mask);
	}
	return mask;
}

mode_t
file_mode(void)
{
	return 0666 & ~user_umask();
}

mode_t
dir_mode(void)
{
	return 0777 & ~user_umask();
}

int
af_open(struct atomic_file *af, const char *path, char **cause)
{
	char	*dir = path_dir(path);
	int	 fd;

	memset(af, 0, sizeof *af);
	af->path = xstrdup(path);
	af->tmp = xasprintf("%s/.%s.tmpXXXXXX", dir,
	    strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	free(dir);
	fd = mkstemp(af->tmp);
	if (fd == -1) {
		failf(cause, "%s: cannot create: %s", path, strerror(errno));
		free(af->path);
		free(af->tmp);
		memset(af, 0, sizeof *af);
		return -1;
	}
	/* mkstemp makes it 0600: as any file the user creates, instead. */
	fchmod(fd, file_mode());
	af->fp = fdopen(fd, "w");
	if (af->fp == NULL) {
		close(fd);
		unlink(af->tmp);
		return failf(cause, "%s: %s", path, strerror(errno));
	}
	return 0;
}

static void
af_free(struct atomic_file *af)
{
	free(af->path);
	free(af->tmp);
	memset(af, 0, sizeof *af);
}

void
af_abort(struct atomic_file *af)
{
	if (af->fp != NULL)
		fclose(af->fp);
	if (af->tmp != NULL)
		unlink(af->tmp);
	af_free(af);
}

int
af_commit(struct atomic_file *af, char **cause)
{
	int	 err = 0;

	if (fflush(af->fp) != 0 || ferror(af->fp))
		err = errno ? errno : EIO;
	else if (fsync(fileno(af->fp)) == -1)
		err = errno;
	if (fclose(af->fp) != 0 && err == 0)
		err = errno;
	af->fp = NULL;
	if (err == 0 && rename(af->tmp, af->path) == -1)
		err = errno;
	if (err != 0) {
		failf(cause, "%s: cannot write: %s", af->path, strerror(err));
		af_abort(af);
		return -1;
	}
	err = fsync_dir(af->path, cause);
	af_free(af);
	return err;
}

int
write_file_atomic(const char *path, const void *buf, size_t len, char **cause)
{
	struct atomic_file	 af;

	if (af_open(&af, path, cause) != 0)
		return -1;
	if (len && fwrite(buf, 1, len, af.fp) != len) {
		af_abort(&af);
		return failf(cause, "%s: cannot write: %s", path, strerror(errno));
	}
	return af_commit(&af, cause);
}

int
write_file_unsynced(const char *path, const void *buf, size_t len,
    char **cause)
{
	struct atomic_file	 af;
	int			 err = 0;

	if (af_open(&af, path, cause) != 0)
		return -1;
	if (len && fwrite(buf, 1, len, af.fp) != len)
		err = errno ? errno : EIO;
	else if (fflush(af.fp) != 0 || ferror(af.fp))
		err = errno ? errno : EIO;
	if (fclose(af.fp) != 0 && err == 0)
		err = errno;
	af.fp = NULL;
	if (err == 0 && rename(af.tmp, af.path) == -1)
		err = errno;
	if (err != 0) {
		failf(cause, "%s: cannot write: %s", path, strerror(err));
		af_abort(&af);
		return -1;
	}
	af_free(&af);
	return 0;
}

int
sync_filesystem(const char *path, char **cause)
{
	int	 fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd == -1)
		return failf(cause, "%s: %s", path, strerror(errno));
	if (syncfs(fd) == -1)
		rc = failf(cause, "%s: syncfs: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int
sync_path(const char *path, char **cause)
{
	int	 fd = open(path, O_RDONLY), rc = 0;

	if (fd == -1)
		return failf(cause, "%s: %s", path, strerror(errno));
	if (fsync(fd) == -1)
		rc = failf(cause, "%s: fsync: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int
rename_durable(const char *from, const char *to, char **cause)
{
	if (rename(from, to) == -1)
		return failf(cause, "%s: cannot rename to '%s': %s", from, to,
		    strerror(errno));
	return fsync_dir(to, cause);
}

const char *
file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

int
read_file(const char *path, char **bufp, size_t *lenp, char **cause)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 fd;

	/* Not blocking on a FIFO, not reading a device: files only. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return failf(cause, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		failf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return failf(cause, "%s: is %s, not a file", path,
		    file_kind(st.st_mode));
	}
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
	buf = xreallocarray(NULL, cap + 1, 1);
	for (;;) {
		if (len == cap) {
			/* The file grew since fstat: double, within reason. */
			if (size_mul(cap, 2, SIZE_MAX / 4, &cap) != 0) {
				n = -1;
				errno = EFBIG;
				break;
			}
			buf = xreallocarray(buf, cap + 1, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	if (n == -1) {
		failf(cause, "%s: read error: %s", path, strerror(errno));
		close(fd);
		free(buf);
		return -1;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

/* .NAME.tmpXXXXXX, as af_open and the HDF5 writer name their files. */
static int
temp_name(const char *s)
{
	size_t	 n = strlen(s);

	return n > 11 && s[0] == '.' && !strncmp(s + n - 10, ".tmp", 4);
}

size_t
sweep_temps(const char *dir, int depth, double age)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		*p;
	size_t		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = path_join(dir, de->d_name);
		if (lstat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth > 0)
				n += sweep_temps(p, depth - 1, age);
			else if (S_ISREG(st.st_mode) && temp_name(de->d_name) &&
			    now() - st.st_mtime > age && unlink(p) == 0)
				n++;
		}
		free(p);
	}
	closedir(d);
	return n;
}

int
mkdirs(const char *path, char **cause)
{
	char	*p, *s;

	/* Most calls create one folder in one that exists: try that first. */
	if (mkdir(path, 0777) == 0 || errno == EEXIST)
		return 0;
	p = xstrdup(path);
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) == -1 && errno != EEXIST) {
			failf(cause, "%s: cannot create directory: %s", p,
			    strerror(errno));
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, 0777) == -1 && errno != EEXIST) {
		failf(cause, "%s: cannot create directory: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

int
remove_tree(const char *path, char **cause)
{
	DIR		*d;
	struct dirent	*de;
	char		*sub;
	struct stat	 st;
	int		 rc = 0;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : failf(cause, "%s: %s", path,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return unlink(path) == -1 ?
		    failf(cause, "%s: %s", path, strerror(errno)) : 0;
	if ((d = opendir(path)) == NULL)
		return failf(cause, "%s: %s", path, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = path_join(path, de->d_name);
		rc = remove_tree(sub, cause);
		free(sub);
	}
	closedir(d);
	if (rc == 0 && rmdir(path) == -1)
		rc = failf(cause, "%s: %s", path, strerror(errno));
	return rc;
}

int
is_dir(const char *p)
{
	struct stat	 st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int
is_file(const char *p)
{
	struct stat	 st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int
wait_file(const char *p, double seconds)
{
	struct timespec	 ts = { 0, 100 * 1000 * 1000 };
	double		 deadline = now() + seconds;

	while (!is_file(p)) {
		if (now() >= deadline)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 1;
}

double
fs_lag(void)
{
	const char	*s = getenv("CALIB_FS_LAG");
	char		*end;
	double		 v;

	if (s == NULL || *s == '\0')
		return 10.0;
	v = strtod(s, &end);
	return *end == '\0' && v >= 0 ? v : 10.0;
}

/* How much of a file's end file_tail reads. */
#define TAIL_BYTES	65536

char *
file_tail(const char *path, size_t n)
{
	struct buf	 out = BUF_INIT;
	struct stat	 st;
	char		*buf, *end, *b, *q;
	const char	*line[16];
	size_t		 len[16], k = 0, i;
	ssize_t		 got;
	int		 fd;

	if (n > 16)
		n = 16;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_size > TAIL_BYTES &&
	    lseek(fd, st.st_size - TAIL_BYTES, SEEK_SET) == -1)) {
		close(fd);
		return NULL;
	}
	buf = xmalloc(TAIL_BYTES + 1);
	got = read(fd, buf, TAIL_BYTES);
	close(fd);
	end = buf + (got > 0 ? got : 0);
	/* From the end back, the last n lines with something in them. */
	while (k < n && end > buf) {
		while (end > buf && isspace((unsigned char)end[-1]))
			end--;
		for (b = end; b > buf && b[-1] != '\n'; b--)
			;
		if (end > b) {
			line[k] = b;
			len[k++] = end - b;
		}
		end = b;
	}
	for (i = k; i > 0; i--) {
		q = quote_bytes(line[i - 1], len[i - 1], 300);
		buf_addsep(&out, "\n", q);
		free(q);
	}
	free(buf);
	if (out.len == 0) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out);
}

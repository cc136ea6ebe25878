/*
 * fs.c - the two file operations every state file of hotline uses: a
 * bounded read and an atomic replace.
 *
 * Reading refuses anything that is not a regular file (a FIFO would block,
 * a device could be endless) and never reads more than the caller's bound.
 * Writing follows the usual recipe for crash safety: write the whole
 * content to a new file in the same folder, fsync it, rename it over the
 * target (atomic in POSIX), then fsync the folder so that the rename
 * itself is durable.  A crash at any point leaves either the old or the
 * new content, never a mixture.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity_internal.h"

int hl_identity_fs_fault_step;

static atomic_uint tmp_counter;

/* The test hook: fail at this step once, as the system call would. */
static bool fault(int step)
{
	if (hl_identity_fs_fault_step != step)
		return false;
	hl_identity_fs_fault_step = 0;
	errno = EIO;
	return true;
}

/*
 * Grow *buf (holding used bytes) to cap bytes without realloc(), so that
 * no copy of a secret is left behind in freed memory: the old block is
 * wiped before it is freed.
 */
static int grow(char **buf, size_t used, size_t cap)
{
	char *n = hl_malloc(cap);

	if (!n)
		return HL_ENOMEM;
	if (used)
		memcpy(n, *buf, used);
	if (*buf) {
		hl_wipe(*buf, used);
		hl_free(*buf);
	}
	*buf = n;
	return 0;
}

int hl_identity_fs_read(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0, cap = 0;
	int fd, err = 0, saved = 0;

	if (!path || !out || !len || max >= SIZE_MAX - 1)
		return HL_EINVAL;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? HL_ENOTFOUND : HL_EIO;
	if (fstat(fd, &st) != 0) {
		err = HL_EIO;
		saved = errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = HL_EIO;
		saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		err = HL_ETOOBIG;
		goto out;
	}
	/* One byte more than announced, to see the end (or growth). */
	cap = (size_t)st.st_size + 2;
	err = grow(&buf, 0, cap);
	if (err)
		goto out;
	for (;;) {
		ssize_t r;

		if (used + 1 == cap) {
			size_t ncap;

			if (used > max) {
				err = HL_ETOOBIG; /* it grew while we read */
				goto out;
			}
			ncap = used > max / 2 ? max + 2 : 2 * used + 2;
			err = grow(&buf, used, ncap);
			if (err)
				goto out;
			cap = ncap;
		}
		r = read(fd, buf + used, cap - 1 - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = HL_EIO;
			saved = errno;
			goto out;
		}
		if (r == 0)
			break;
		used += (size_t)r;
	}
	if (used > max) {
		err = HL_ETOOBIG;
		goto out;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
out:
	if (buf) {
		hl_wipe(buf, cap);
		hl_free(buf);
	}
	close(fd);
	if (saved)
		errno = saved;
	return err;
}

/* fsync a folder, which makes a rename inside it durable (POSIX). */
static int sync_dir(const char *dir)
{
	int fd, err = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return HL_EIO;
	if (fault(5) || fsync(fd) != 0)
		err = HL_EIO;
	close(fd);
	return err;
}

/* The folder that holds path, into dir (cap >= strlen(path) + 2). */
static void parent_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		snprintf(dir, cap, ".");
		return;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, n);
	dir[n] = '\0';
}

/* Write all of data to fd, retrying short writes and EINTR. */
static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len) {
		ssize_t w;

		if (fault(2))
			return HL_EIO;
		w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return HL_EIO;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

int hl_identity_fs_write_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = NULL, *dir;
	size_t cap;
	int fd = -1, err = 0, saved = 0;
	bool created = false;

	if (!path || !*path || (!data && len))
		return HL_EINVAL;
	/* One block for the temporary name and the folder name, so that
	 * nothing can fail for want of memory once the rename is done. */
	cap = strlen(path) + 48;
	tmp = hl_malloc(2 * cap);
	if (!tmp)
		return HL_ENOMEM;
	dir = tmp + cap;
	parent_of(path, dir, cap);
	snprintf(tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(),
		 atomic_fetch_add(&tmp_counter, 1));
	if (fault(1))
		goto fail;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		goto fail;
	created = true;
	/* The umask can only remove bits; make the mode exact anyway. */
	if (fchmod(fd, 0600) != 0)
		goto fail;
	if (write_all(fd, data, len))
		goto fail;
	if (fault(3) || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (fault(4) || rename(tmp, path) != 0)
		goto fail;
	created = false;
	err = sync_dir(dir);
	if (err)
		saved = errno;
	goto out;
fail:
	saved = errno;
	err = HL_EIO;
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
out:
	hl_free(tmp);
	if (saved)
		errno = saved;
	return err;
}

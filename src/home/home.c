/*
 * home.c - the client's state folder (docs/protocol.md §5.6): opening or
 * creating it, names inside it, and whole-file reads and atomic writes.
 *
 * The folder is created with mode 0700 (missing parents too, as the XDG
 * base-directory rules ask) and every file is written through
 * hl_identity_fs_write_atomic() (temporary file, fsync, rename, fsync of
 * the folder), mode 0600.  Names are relative paths checked before use,
 * so nothing outside the folder can be named; a write creates the
 * subfolders its name needs (e.g. "contracts/").
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "home_internal.h"

#include "../identity/identity_internal.h"

bool hl_home_name_ok(const char *name)
{
	size_t len, start = 0;

	if (!name)
		return false;
	len = strnlen(name, HL_HOME_PATH_MAX);
	if (len == 0 || len >= HL_HOME_PATH_MAX || name[0] == '/')
		return false;
	for (size_t i = 0; i <= len; i++) {
		size_t n;

		if (i < len && name[i] != '/')
			continue;
		n = i - start;
		if (n == 0 || (n == 1 && name[start] == '.') ||
		    (n == 2 && name[start] == '.' && name[start + 1] == '.'))
			return false; /* empty, "." or ".." component */
		start = i + 1;
	}
	return true;
}

int hl_home_json_open(const char *text, size_t len, const char *key,
		      json_t **root, json_t **array)
{
	json_error_t jerr;
	json_t *r, *v, *a;
	int err = HL_EPARSE;

	if (!text && len)
		return HL_EINVAL;
	r = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!r)
		return HL_EPARSE;
	if (!json_is_object(r))
		goto out;
	/* The version first: a newer file may have other fields. */
	v = json_object_get(r, "version");
	if (!json_is_integer(v))
		goto out;
	if (json_integer_value(v) > HL_HOME_FILE_VERSION) {
		err = HL_EUNSUPPORTED;
		goto out;
	}
	a = json_object_get(r, key);
	if (json_integer_value(v) != HL_HOME_FILE_VERSION ||
	    json_object_size(r) != 2 || !json_is_array(a))
		goto out;
	*root = r;
	*array = a;
	r = NULL;
	err = 0;
out:
	json_decref(r);
	return err;
}

int hl_home_json_dump(json_t *root, char **out, size_t *len)
{
	size_t n = json_dumpb(root, NULL, 0, JSON_INDENT(2));
	char *buf;

	if (n == 0)
		return HL_ENOMEM;
	buf = hl_malloc(n + 2);
	if (!buf)
		return HL_ENOMEM;
	if (json_dumpb(root, buf, n, JSON_INDENT(2)) != n) {
		hl_free(buf);
		return HL_ENOMEM;
	}
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*out = buf;
	*len = n + 1;
	return 0;
}

/*
 * Make dir (a writable copy) and any missing parent, each 0700.  A
 * component that exists must be a folder (or a link to one).
 */
static int make_dirs(char *dir)
{
	size_t len = strlen(dir);
	struct stat st;

	for (size_t i = 1; i <= len; i++) {
		char c = dir[i];

		if (c != '/' && c != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) == 0) {
			/* The umask may have taken bits away; be exact. */
			if (chmod(dir, 0700) != 0) {
				dir[i] = c;
				return HL_EIO;
			}
		} else if (errno != EEXIST) {
			dir[i] = c;
			return HL_EIO;
		} else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			if (errno != ENOENT)
				errno = ENOTDIR;
			dir[i] = c;
			return HL_EIO;
		}
		dir[i] = c;
	}
	return 0;
}

int hl_home_open(struct hl_home **out, const char *dir, bool create)
{
	struct hl_home *h = NULL;
	struct stat st;
	size_t len;
	int err = 0;

	if (!out || !dir || !*dir)
		return HL_EINVAL;
	len = strnlen(dir, HL_HOME_PATH_MAX);
	if (len >= HL_HOME_PATH_MAX)
		return HL_ETOOBIG;
	h = hl_calloc(1, sizeof(*h));
	if (!h)
		return HL_ENOMEM;
	h->dir = hl_malloc(len + 1);
	if (!h->dir) {
		err = HL_ENOMEM;
		goto out;
	}
	memcpy(h->dir, dir, len + 1);
	while (len > 1 && h->dir[len - 1] == '/')
		h->dir[--len] = '\0';
	if (stat(h->dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			err = HL_EIO;
			goto out;
		}
		if (st.st_mode & 077)
			hl_log(HL_LOG_WARN,
			       "home folder %s is open to other users "
			       "(mode %03o); chmod 700 it",
			       h->dir, (unsigned)(st.st_mode & 0777));
	} else if (errno != ENOENT) {
		err = HL_EIO;
		goto out;
	} else if (!create) {
		err = HL_ENOTFOUND;
		goto out;
	} else {
		err = make_dirs(h->dir);
		if (err)
			goto out;
	}
	*out = h;
	h = NULL;
out:
	if (h) {
		int saved = errno;

		hl_free(h->dir);
		hl_free(h);
		errno = saved;
	}
	return err;
}

void hl_home_close(struct hl_home *h)
{
	if (!h)
		return;
	hl_free(h->dir);
	hl_free(h);
}

const char *hl_home_dir(const struct hl_home *h)
{
	return h ? h->dir : NULL;
}

int hl_home_path(const struct hl_home *h, const char *name, char *buf,
		 size_t cap)
{
	size_t dl, nl;
	bool root;

	if (!h || !buf || !hl_home_name_ok(name))
		return HL_EINVAL;
	dl = strlen(h->dir);
	nl = strlen(name);
	root = dl == 1 && h->dir[0] == '/';
	if (dl + (root ? 0 : 1) + nl + 1 > cap)
		return HL_ETOOBIG;
	memcpy(buf, h->dir, dl);
	if (!root)
		buf[dl++] = '/';
	memcpy(buf + dl, name, nl + 1);
	return 0;
}

int hl_home_write(const struct hl_home *h, const char *name, const void *data,
		  size_t len)
{
	char *path, *slash;
	int err, saved;

	if (!h || !hl_home_name_ok(name) || (!data && len))
		return HL_EINVAL;
	path = hl_malloc(HL_HOME_PATH_MAX);
	if (!path)
		return HL_ENOMEM;
	err = hl_home_path(h, name, path, HL_HOME_PATH_MAX);
	if (err)
		goto out;
	/* The subfolders of name ("contracts/" ...), made 0700 on demand. */
	slash = strrchr(path + strlen(h->dir) + 1, '/');
	if (slash) {
		*slash = '\0';
		err = make_dirs(path);
		*slash = '/';
		if (err)
			goto out;
	}
	err = hl_identity_fs_write_atomic(path, data, len);
out:
	saved = errno;
	hl_free(path);
	errno = saved;
	return err;
}

int hl_home_read(const struct hl_home *h, const char *name, size_t max,
		 char **out, size_t *len)
{
	char *path;
	int err, saved;

	if (!h || !out || !len || !hl_home_name_ok(name))
		return HL_EINVAL;
	path = hl_malloc(HL_HOME_PATH_MAX);
	if (!path)
		return HL_ENOMEM;
	err = hl_home_path(h, name, path, HL_HOME_PATH_MAX);
	if (!err)
		err = hl_identity_fs_read(path, max, out, len);
	saved = errno;
	hl_free(path);
	errno = saved;
	return err;
}

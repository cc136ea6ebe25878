/*
 * y4m.c - YUV4MPEG2 (Y4M) file source and sink, 8-bit 4:2:0 only.
 *
 * A Y4M stream is one header line, "YUV4MPEG2" followed by space-separated
 * tags (W width, H height, F num:den frame rate, I interlacing, A aspect,
 * C colour space, X comments), then per frame a line "FRAME" with optional
 * parameters and the Y, U and V planes, tightly packed.
 *
 * Reader: W and H are required, even, 2..HL_VIDEO_MAX_DIM; F defaults to
 * 30:1; C may be 420, 420jpeg, 420paldv, 420mpeg2 or absent (all the same
 * 8-bit 4:2:0 layout; the chroma siting differences are ignored), any
 * other colour space is HL_EUNSUPPORTED; I, A, X and unknown tags are
 * ignored.  Header and FRAME lines are at most MAX_LINE bytes.  The reader
 * allocates only its own small state: the caller's picture receives the
 * frame.  A last frame cut short (a recording that was interrupted) ends
 * the stream like end of file (HL_EAGAIN).
 *
 * Writer: "YUV4MPEG2 W.. H.. F<fps>:1 Ip A1:1 C420jpeg", then FRAME lines.
 */
#include <stdlib.h>
#include <string.h>

#include "media_internal.h"

#define MAX_LINE 1024

struct hl_y4m_reader {
	struct hl_media_in in;
	int width, height;
	uint64_t data_start;
};

struct hl_y4m_writer {
	FILE *f;
	int width, height;
	bool failed;
};

/*
 * Read one line (without its '\n') into buf (MAX_LINE + 1 bytes, NUL
 * terminated).  HL_EAGAIN if the input ends before the '\n' (at the start:
 * end of stream; later: a cut-off last line, *len then says how much of it
 * is in buf), HL_EPARSE for a line that is too long or contains a NUL.
 */
static int read_line(struct hl_media_in *in, char *buf, size_t *len)
{
	size_t n = 0;

	for (;;) {
		uint8_t c;

		if (hl_media_in_read(in, &c, 1) != 1) {
			*len = n;
			return HL_EAGAIN;
		}
		if (c == '\n')
			break;
		if (c == 0 || n == MAX_LINE)
			return HL_EPARSE;
		buf[n++] = (char)c;
	}
	buf[n] = 0;
	*len = n;
	return 0;
}

/* A positive decimal number of at most 9 digits, whole token. */
static bool parse_uint(const char *s, const char *end, int *out)
{
	long v = 0;

	if (s == end || end - s > 9)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = (int)v;
	return true;
}

static bool colour_ok(const char *s, size_t n)
{
	static const char *const ok[] = {"420", "420jpeg", "420paldv",
					 "420mpeg2"};

	for (size_t i = 0; i < HL_ARRAY_SIZE(ok); i++)
		if (strlen(ok[i]) == n && memcmp(s, ok[i], n) == 0)
			return true;
	return false;
}

static int parse_header(const char *line, size_t len, int *w, int *h, int *num,
			int *den)
{
	const char *p = line + 9, *end = line + len;
	bool have_w = false, have_h = false;
	bool unsupported = false;

	if (len < 9 || memcmp(line, "YUV4MPEG2", 9) != 0)
		return HL_EPARSE;
	*num = 30;
	*den = 1;
	while (p < end) {
		const char *t, *te;

		if (*p == ' ') {
			p++;
			continue;
		}
		t = p;
		while (p < end && *p != ' ')
			p++;
		te = p;
		switch (*t) {
		case 'W':
			if (!parse_uint(t + 1, te, w))
				return HL_EPARSE;
			have_w = true;
			break;
		case 'H':
			if (!parse_uint(t + 1, te, h))
				return HL_EPARSE;
			have_h = true;
			break;
		case 'F': {
			const char *colon =
				memchr(t + 1, ':', (size_t)(te - t - 1));

			if (!colon || !parse_uint(t + 1, colon, num) ||
			    !parse_uint(colon + 1, te, den) || *num == 0 ||
			    *den == 0)
				return HL_EPARSE;
			break;
		}
		case 'C':
			if (!colour_ok(t + 1, (size_t)(te - t - 1)))
				unsupported = true;
			break;
		default: /* I, A, X and tags we do not know */
			break;
		}
	}
	if (!have_w || !have_h || *w == 0 || *h == 0)
		return HL_EPARSE;
	if (*w > HL_VIDEO_MAX_DIM || *h > HL_VIDEO_MAX_DIM)
		return HL_ETOOBIG;
	if (unsupported || (*w & 1) || (*h & 1))
		return HL_EUNSUPPORTED;
	return 0;
}

/* Parse the header from r->in; on failure the caller frees r. */
static int reader_start(struct hl_y4m_reader *r, int *width, int *height,
			int *fps_num, int *fps_den)
{
	char line[MAX_LINE + 1];
	size_t len;
	int w = 0, h = 0, num, den, err;

	err = read_line(&r->in, line, &len);
	if (err)
		return err == HL_EAGAIN ? HL_EPARSE : err;
	err = parse_header(line, len, &w, &h, &num, &den);
	if (err)
		return err;
	err = hl_media_in_tell(&r->in, &r->data_start);
	if (err)
		return err;
	r->width = w;
	r->height = h;
	*width = w;
	*height = h;
	*fps_num = num;
	*fps_den = den;
	return 0;
}

int hl_y4m_reader_open(struct hl_y4m_reader **out, const char *path, int *width,
		       int *height, int *fps_num, int *fps_den)
{
	struct hl_y4m_reader *r;
	int err;

	if (!out || !path || !width || !height || !fps_num || !fps_den)
		return HL_EINVAL;
	r = hl_calloc(1, sizeof(*r));
	if (!r)
		return HL_ENOMEM;
	r->in.f = fopen(path, "rb");
	if (!r->in.f) {
		hl_free(r);
		return HL_EIO;
	}
	err = reader_start(r, width, height, fps_num, fps_den);
	if (err) {
		hl_y4m_reader_close(r);
		return err;
	}
	*out = r;
	return 0;
}

int hl_y4m_reader_open_mem(struct hl_y4m_reader **out, const uint8_t *data,
			   size_t len, int *width, int *height, int *fps_num,
			   int *fps_den)
{
	struct hl_y4m_reader *r;
	int err;

	if (!out || (!data && len) || !width || !height || !fps_num || !fps_den)
		return HL_EINVAL;
	r = hl_calloc(1, sizeof(*r));
	if (!r)
		return HL_ENOMEM;
	r->in.mem = data;
	r->in.len = len;
	err = reader_start(r, width, height, fps_num, fps_den);
	if (err) {
		hl_y4m_reader_close(r);
		return err;
	}
	*out = r;
	return 0;
}

int hl_y4m_read(struct hl_y4m_reader *r, struct hl_image *img)
{
	char line[MAX_LINE + 1];
	size_t len;
	int err;

	if (!r || !img || img->width != r->width || img->height != r->height)
		return HL_EINVAL;
	err = read_line(&r->in, line, &len);
	/* A cut-off last FRAME line ends the stream; other text is bad. */
	if (err == HL_EAGAIN && len > 0 &&
	    memcmp(line, "FRAME", HL_MIN(len, (size_t)5)) != 0)
		return HL_EPARSE;
	if (err)
		return err;
	if (len < 5 || memcmp(line, "FRAME", 5) != 0 ||
	    (len > 5 && line[5] != ' '))
		return HL_EPARSE;
	for (int p = 0; p < 3; p++) {
		int w = p ? r->width / 2 : r->width;
		int h = p ? r->height / 2 : r->height;

		for (int y = 0; y < h; y++)
			if (hl_media_in_read(&r->in,
					     img->plane[p] +
						     (size_t)y * img->stride[p],
					     (size_t)w) != (size_t)w)
				return HL_EAGAIN; /* truncated last frame */
	}
	return 0;
}

int hl_y4m_rewind(struct hl_y4m_reader *r)
{
	if (!r)
		return HL_EINVAL;
	return hl_media_in_seek(&r->in, r->data_start);
}

void hl_y4m_reader_close(struct hl_y4m_reader *r)
{
	if (!r)
		return;
	hl_media_in_close(&r->in);
	hl_free(r);
}

int hl_y4m_writer_open_file(struct hl_y4m_writer **out, FILE *f, int width,
			    int height, int fps)
{
	struct hl_y4m_writer *w;

	if (!f)
		return HL_EINVAL;
	if (!out || width < 2 || height < 2 || (width & 1) || (height & 1) ||
	    width > HL_VIDEO_MAX_DIM || height > HL_VIDEO_MAX_DIM || fps < 1 ||
	    fps > 1000) {
		fclose(f);
		return HL_EINVAL;
	}
	w = hl_calloc(1, sizeof(*w));
	if (!w) {
		fclose(f);
		return HL_ENOMEM;
	}
	w->f = f;
	w->width = width;
	w->height = height;
	if (fprintf(f, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", width,
		    height, fps) < 0) {
		fclose(f);
		hl_free(w);
		return HL_EIO;
	}
	*out = w;
	return 0;
}

int hl_y4m_writer_open(struct hl_y4m_writer **out, const char *path, int width,
		       int height, int fps)
{
	FILE *f;

	if (!out || !path)
		return HL_EINVAL;
	f = fopen(path, "wb");
	if (!f)
		return HL_EIO;
	return hl_y4m_writer_open_file(out, f, width, height, fps);
}

int hl_y4m_write(struct hl_y4m_writer *w, const struct hl_image *img)
{
	if (!w || !img || img->width != w->width || img->height != w->height)
		return HL_EINVAL;
	if (fputs("FRAME\n", w->f) == EOF)
		goto fail;
	for (int p = 0; p < 3; p++) {
		size_t pw = (size_t)(p ? w->width / 2 : w->width);
		int ph = p ? w->height / 2 : w->height;

		for (int y = 0; y < ph; y++)
			if (fwrite(img->plane[p] + (size_t)y * img->stride[p],
				   1, pw, w->f) != pw)
				goto fail;
	}
	return 0;
fail:
	w->failed = true;
	return HL_EIO;
}

int hl_y4m_writer_close(struct hl_y4m_writer *w)
{
	int err = 0;

	if (!w)
		return HL_EINVAL;
	if (w->failed || ferror(w->f))
		err = HL_EIO;
	if (fclose(w->f) != 0)
		err = HL_EIO;
	hl_free(w);
	return err;
}

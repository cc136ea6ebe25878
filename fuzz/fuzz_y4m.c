/*
 * fuzz_y4m.c - libFuzzer target for the Y4M reader (src/media/y4m.c).
 *
 * Parses the input as a Y4M stream from memory and reads up to 8 frames.
 * Invariants: no crash or leak; every frame read is written again with the
 * Y4M writer (to an open_memstream buffer) and reading that back gives the
 * same size and the same pixels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/media.h"
#include "../src/media/media_internal.h"

#define MAX_FRAMES 8

static bool same_image(const struct hl_image *a, const struct hl_image *b)
{
	for (int p = 0; p < 3; p++) {
		int w = p ? a->width / 2 : a->width;
		int h = p ? a->height / 2 : a->height;

		for (int y = 0; y < h; y++)
			if (memcmp(a->plane[p] + (size_t)y * a->stride[p],
				   b->plane[p] + (size_t)y * b->stride[p],
				   (size_t)w))
				return false;
	}
	return true;
}

static void check(const uint8_t *data, size_t size)
{
	struct hl_y4m_reader *r = NULL, *r2 = NULL;
	struct hl_y4m_writer *w = NULL;
	struct hl_image *img = NULL, *img2 = NULL;
	int width, height, num, den, w2, h2, n2, d2, frames = 0;
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = NULL;

	if (hl_y4m_reader_open_mem(&r, data, size, &width, &height, &num, &den))
		return;
	if (width < 2 || height < 2 || width > HL_VIDEO_MAX_DIM ||
	    height > HL_VIDEO_MAX_DIM || (width & 1) || (height & 1) ||
	    num <= 0 || den <= 0)
		abort();
	/* Skip pictures that cannot be complete in this input (keeps each
	 * run small; the reader itself never allocates a frame). */
	if ((size_t)width * (size_t)height * 3 / 2 > size)
		goto out;
	if (hl_image_new(&img, width, height) ||
	    hl_image_new(&img2, width, height))
		goto out;
	f = open_memstream(&out, &out_len);
	if (!f || hl_y4m_writer_open_file(&w, f, width, height, 30))
		goto out;
	f = NULL; /* owned by w */
	while (frames < MAX_FRAMES && hl_y4m_read(r, img) == 0) {
		if (hl_y4m_write(w, img))
			abort();
		frames++;
	}
	if (hl_y4m_writer_close(w))
		abort();
	w = NULL;
	/* Read back what was written: the same frames. */
	if (hl_y4m_reader_open_mem(&r2, (const uint8_t *)out, out_len, &w2, &h2,
				   &n2, &d2) ||
	    w2 != width || h2 != height || n2 != 30 || d2 != 1)
		abort();
	if (hl_y4m_rewind(r))
		abort();
	for (int i = 0; i < frames; i++) {
		if (hl_y4m_read(r, img) || hl_y4m_read(r2, img2) ||
		    !same_image(img, img2))
			abort();
	}
	if (hl_y4m_read(r2, img2) != HL_EAGAIN)
		abort();
out:
	if (w) {
		int rc = hl_y4m_writer_close(w);

		(void)rc;
	}
	if (f)
		fclose(f);
	free(out);
	hl_y4m_reader_close(r);
	hl_y4m_reader_close(r2);
	hl_image_free(img);
	hl_image_free(img2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = hl_mem_outstanding();

	check(data, size);
	if (hl_mem_outstanding() != before)
		abort();
	return 0;
}

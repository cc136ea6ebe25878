/*
 * image.c - I420 pictures: allocation, copy, Y sum of squared differences
 * and PSNR.
 *
 * hl_image_new() makes one block holding the struct and the three planes
 * (64-byte aligned, strides rounded up to 32) so one hl_free() releases
 * everything.  hl_image_sse_y() runs for every received frame, so it is a
 * plain per-row loop over 32-bit lanes that the compiler vectorizes, with
 * no allocation.
 */
#include <math.h>
#include <string.h>

#include "hotline/media.h"

#define ALIGN 64

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

int hl_image_new(struct hl_image **out, int width, int height)
{
	struct hl_image *img;
	size_t ys, cs, ysize, csize, hdr;
	uint8_t *base;

	if (width < 2 || height < 2 || width > HL_VIDEO_MAX_DIM ||
	    height > HL_VIDEO_MAX_DIM || (width & 1) || (height & 1))
		return HL_EINVAL;
	ys = round_up((size_t)width, 32);
	cs = round_up((size_t)width / 2, 32);
	ysize = round_up(ys * (size_t)height, ALIGN);
	csize = round_up(cs * (size_t)height / 2, ALIGN);
	hdr = round_up(sizeof(*img), ALIGN);
	img = hl_malloc(hdr + ALIGN + ysize + 2 * csize);
	if (!img)
		return HL_ENOMEM;
	base = (uint8_t *)img + hdr;
	base += (ALIGN - (uintptr_t)base % ALIGN) % ALIGN;
	img->width = width;
	img->height = height;
	img->plane[0] = base;
	img->plane[1] = base + ysize;
	img->plane[2] = base + ysize + csize;
	img->stride[0] = (int)ys;
	img->stride[1] = (int)cs;
	img->stride[2] = (int)cs;
	img->owned = true;
	memset(base, 0, ysize);
	memset(base + ysize, 128, 2 * csize);
	*out = img;
	return 0;
}

void hl_image_free(struct hl_image *img)
{
	/* A borrowed picture (a decoder's, owned == false) is left alone. */
	if (img && img->owned)
		hl_free(img);
}

void hl_image_copy(struct hl_image *dst, const struct hl_image *src)
{
	int w = HL_MIN(dst->width, src->width);
	int h = HL_MIN(dst->height, src->height);

	for (int p = 0; p < 3; p++) {
		int pw = p ? w / 2 : w, ph = p ? h / 2 : h;

		for (int y = 0; y < ph; y++)
			memcpy(dst->plane[p] + (size_t)y * dst->stride[p],
			       src->plane[p] + (size_t)y * src->stride[p],
			       (size_t)pw);
	}
}

/*
 * One row: 4096 * 255^2 < 2^32, so a 32-bit accumulator cannot overflow
 * and the loop vectorizes to 16-bit multiply-adds.
 */
static uint32_t row_sse(const uint8_t *restrict a, const uint8_t *restrict b,
			int n)
{
	uint32_t s = 0;
	int i = 0;

	/* Fixed-size inner loop: GCC's -O2 cost model vectorizes it. */
	for (; i + 32 <= n; i += 32) {
		uint32_t part = 0;

		for (int j = 0; j < 32; j++) {
			int d = (int)a[i + j] - (int)b[i + j];

			part += (uint32_t)(d * d);
		}
		s += part;
	}
	for (; i < n; i++) {
		int d = (int)a[i] - (int)b[i];

		s += (uint32_t)(d * d);
	}
	return s;
}

uint64_t hl_image_sse_y(const struct hl_image *a, const struct hl_image *b)
{
	int w = HL_MIN(a->width, b->width);
	int h = HL_MIN(a->height, b->height);
	uint64_t sse = 0;

	for (int y = 0; y < h; y++)
		sse += row_sse(a->plane[0] + (size_t)y * a->stride[0],
			       b->plane[0] + (size_t)y * b->stride[0], w);
	return sse;
}

double hl_psnr_from_sse(uint64_t sse, uint64_t samples)
{
	double db;

	if (samples == 0)
		return 0.0;
	if (sse == 0)
		return 99.0;
	db = 10.0 * log10(255.0 * 255.0 * (double)samples / (double)sse);
	return db > 99.0 ? 99.0 : db;
}

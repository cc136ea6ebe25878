/*
 * pattern.c - the test pattern: a deterministic moving picture that
 * carries its frame number and capture time in a machine-readable stamp.
 *
 * Picture.  The top of the frame is a flat grey band holding the stamp
 * and the frame number in digits (for people watching a recording).
 * Below it, three horizontal bands show a periodic 512x256 texture (smooth
 * colour waves, discs and rectangles with hard edges, a checkerboard and
 * a patch of fine grain) panned in different directions and speeds, and a
 * two-tone disc bounces over them.  To render cheaply the texture is built
 * once (pthread_once) into static tables whose rows are already repeated
 * out to HL_VIDEO_MAX_DIM + 512 pixels, so any pan offset is one memcpy
 * per row; a 1280x720 frame costs little more than copying its bytes.
 * All offsets are even so the chroma planes move with the luma.
 *
 * Stamp.  96 bits: frame_no (32, big-endian), the low 48 bits of
 * capture_us, and a CRC-16/CCITT-FALSE of those 10 bytes (xor 0x4854),
 * most significant bit first, drawn as black (bit 0) and white (bit 1)
 * square cells in rows of up to 48 on the grey band.  The cell size is
 * width/52 rounded to a multiple of 4 (block-aligned edges code cleanly),
 * at least 4, made smaller if the band would take more than half the
 * height.  hl_pattern_read() computes the same layout from the picture
 * size, averages the centre half of every cell, requires every cell to be
 * clearly dark or clearly light, and checks the CRC: a picture that is not
 * the pattern (grey, noise, a natural image) fails with HL_EPARSE.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "hotline/media.h"
#include "media_internal.h"

#define TEX_W	   512 /* luma period of the texture, x */
#define TEX_H	   256 /* luma period of the texture, y */
#define TEX_EXT	   (HL_VIDEO_MAX_DIM + TEX_W)
#define STAMP_BITS 96
#define MAX_COLS   48
#define GREY	   128
#define BLACK	   16
#define WHITE	   235
#define DECIDE	   40 /* a cell must be this far from GREY */
#define MIN_DIM	   64

static uint8_t tex_y[TEX_H][TEX_EXT];
static uint8_t tex_u[TEX_H / 2][TEX_EXT / 2];
static uint8_t tex_v[TEX_H / 2][TEX_EXT / 2];
static pthread_once_t tex_once = PTHREAD_ONCE_INIT;

/* 8x8 digits 0-9, one byte per row, most significant bit on the left. */
static const uint8_t font[10][8] = {
	{0x3c, 0x66, 0x6e, 0x76, 0x66, 0x66, 0x3c, 0x00},
	{0x18, 0x38, 0x18, 0x18, 0x18, 0x18, 0x7e, 0x00},
	{0x3c, 0x66, 0x06, 0x0c, 0x30, 0x60, 0x7e, 0x00},
	{0x3c, 0x66, 0x06, 0x1c, 0x06, 0x66, 0x3c, 0x00},
	{0x0c, 0x1c, 0x3c, 0x6c, 0x7e, 0x0c, 0x0c, 0x00},
	{0x7e, 0x60, 0x7c, 0x06, 0x06, 0x66, 0x3c, 0x00},
	{0x3c, 0x60, 0x7c, 0x66, 0x66, 0x66, 0x3c, 0x00},
	{0x7e, 0x06, 0x0c, 0x18, 0x30, 0x30, 0x30, 0x00},
	{0x3c, 0x66, 0x66, 0x3c, 0x66, 0x66, 0x3c, 0x00},
	{0x3c, 0x66, 0x66, 0x3e, 0x06, 0x0c, 0x38, 0x00},
};

/* Where everything goes for one picture size. */
struct layout {
	int cell, cols, rows; /* stamp grid */
	int x0, y0;	      /* its top-left corner */
	int scale, digit_y;   /* frame number digits */
	int band_h;	      /* flat grey band [0, band_h) */
	int vel;	      /* pan speed, pixels per frame (even) */
};

static int band_height(struct layout *l, int w)
{
	int m = l->cell / 2;

	l->cols = HL_MIN(MAX_COLS, (w - 2 * m) / l->cell);
	if (l->cols < 1)
		return -1;
	l->rows = (STAMP_BITS + l->cols - 1) / l->cols;
	l->x0 = ((w - l->cols * l->cell) / 2) & ~3;
	l->y0 = m;
	l->scale = HL_MAX(1, l->cell / 8);
	l->digit_y = l->y0 + l->rows * l->cell + m;
	return (l->digit_y + 8 * l->scale + m + 15) & ~15;
}

static bool layout_for(int w, int h, struct layout *l)
{
	int c;

	if (w < MIN_DIM || h < MIN_DIM || w > HL_VIDEO_MAX_DIM ||
	    h > HL_VIDEO_MAX_DIM || (w & 1) || (h & 1))
		return false;
	c = (w / 52 + 2) / 4 * 4;
	if (c < 4)
		c = 4;
	for (;;) {
		l->cell = c;
		l->band_h = band_height(l, w);
		if (l->band_h < 0)
			return false;
		if (l->band_h <= h / 2 || c == 4)
			break;
		c -= 4;
	}
	if (l->band_h > h - 16)
		return false;
	l->vel = 2 * HL_MAX(1, w / 640);
	return true;
}

/* ---- the texture ---------------------------------------------------- */

struct shape {
	int x, y, r; /* disc: centre, radius (luma pixels, periodic) */
	int w, h;    /* rectangle instead of a disc if w > 0 */
	uint8_t y_, u, v;
};

static const struct shape shapes[] = {
	{60, 50, 34, 0, 0, 210, 100, 160},
	{200, 190, 48, 0, 0, 50, 170, 110},
	{330, 120, 26, 0, 0, 180, 60, 140},
	{460, 220, 40, 0, 0, 90, 140, 200},
	{420, 40, 0, 70, 40, 230, 128, 128},
	{120, 140, 0, 56, 80, 30, 128, 128},
	{280, 20, 0, 40, 40, 150, 200, 90},
	{10, 200, 20, 0, 0, 240, 110, 120},
};

/*
 * Which shape covers each luma texel (-1: none; the last listed wins
 * where shapes overlap), drawn once shape by shape: testing every shape
 * at every texel cost most of tex_init's 12 ms, which every process
 * that renders or checks a picture paid at start.  Shapes wrap around
 * the texture's edges; none is half a period wide or more.
 */
static int8_t shape_map[TEX_H][TEX_W];

static void draw_shapes(void)
{
	memset(shape_map, -1, sizeof(shape_map));
	for (int i = 0; i < (int)HL_ARRAY_SIZE(shapes); i++) {
		const struct shape *s = &shapes[i];
		int x0 = s->w > 0 ? 0 : 1 - s->r, x1 = s->w > 0 ? s->w : s->r;
		int y0 = s->w > 0 ? 0 : 1 - s->r, y1 = s->w > 0 ? s->h : s->r;

		for (int dy = y0; dy < y1; dy++) {
			for (int dx = x0; dx < x1; dx++) {
				if (s->w <= 0 &&
				    dx * dx + dy * dy >= s->r * s->r)
					continue;
				shape_map[(s->y + dy + TEX_H) % TEX_H]
					 [(s->x + dx + TEX_W) % TEX_W] =
						 (int8_t)i;
			}
		}
	}
}

static int shape_at(int x, int y)
{
	return shape_map[y][x];
}

static uint8_t clamp8(double v)
{
	return (uint8_t)(v < 16 ? 16 : v > 235 ? 235 : lrint(v));
}

static double tex_luma(int x, int y)
{
	double fx = 2 * M_PI * x / TEX_W, fy = 2 * M_PI * y / TEX_H;
	double v = 118 + 40 * sin(2 * fx + 1.5 * sin(fy)) +
		   20 * cos(2 * fx + 2 * fy);
	int s = shape_at(x, y);

	if (s >= 0)
		v = shapes[s].y_ + 8 * sin(fx * 4) * cos(fy * 3);
	/* Checkerboard: sharp edges on an 8-pixel grid. */
	if (x >= 300 && x < 396 && y >= 150 && y < 230)
		v += ((x / 8 + y / 8) & 1) ? 45 : -45;
	/* Fine grain: wavy stripes about 9 pixels apart. */
	if (x >= 20 && x < 260 && y >= 60 && y < 120)
		v += 14 * sin(0.7 * x + 4 * sin(0.09 * y));
	return v;
}

static void tex_chroma(int cx, int cy, uint8_t *u, uint8_t *v)
{
	int x = 2 * cx, y = 2 * cy;
	double fx = 2 * M_PI * x / TEX_W, fy = 2 * M_PI * y / TEX_H;
	int s = shape_at(x, y);

	if (s >= 0) {
		*u = shapes[s].u;
		*v = shapes[s].v;
		return;
	}
	*u = clamp8(128 + 30 * sin(fx + fy));
	*v = clamp8(128 + 30 * cos(2 * fx - fy));
}

static void tex_init(void)
{
	draw_shapes();
	for (int y = 0; y < TEX_H; y++) {
		for (int x = 0; x < TEX_W; x++)
			tex_y[y][x] = clamp8(tex_luma(x, y));
		for (int x = TEX_W; x < TEX_EXT; x++)
			tex_y[y][x] = tex_y[y][x - TEX_W];
	}
	for (int y = 0; y < TEX_H / 2; y++) {
		for (int x = 0; x < TEX_W / 2; x++)
			tex_chroma(x, y, &tex_u[y][x], &tex_v[y][x]);
		for (int x = TEX_W / 2; x < TEX_EXT / 2; x++) {
			tex_u[y][x] = tex_u[y][x - TEX_W / 2];
			tex_v[y][x] = tex_v[y][x - TEX_W / 2];
		}
	}
}

/* ---- rendering ------------------------------------------------------ */

/* Non-negative a mod m for possibly negative 64-bit a. */
static int mod64(int64_t a, int m)
{
	int r = (int)(a % m);

	return r < 0 ? r + m : r;
}

/* Triangle wave: 0..len..0 with period 2*len, for the bouncing disc. */
static int bounce(uint64_t t, int len)
{
	int p;

	if (len <= 0)
		return 0;
	p = (int)(t % (uint64_t)(2 * len));
	return p < len ? p : 2 * len - p;
}

static void fill_rows(struct hl_image *img, int p, int y0, int y1, int w,
		      uint8_t val)
{
	for (int y = y0; y < y1; y++)
		memset(img->plane[p] + (size_t)y * img->stride[p], val,
		       (size_t)w);
}

static void draw_texture(struct hl_image *img, const struct layout *l,
			 uint32_t n)
{
	int w = img->width, h = img->height;
	int third = ((h - l->band_h) / 3) & ~15;
	int64_t v = l->vel;
	/* Per band: pan x, pan y (both even) and a row offset. */
	const int64_t dx[3] = {v * n, -v * n, (v * n / 2) & ~1};
	const int64_t dy[3] = {0, 2 * (int64_t)n, -2 * (int64_t)n};
	const int off[3] = {0, 86, 170};

	for (int y = l->band_h; y < h; y += 2) {
		int b = y < l->band_h + third	    ? 0
			: y < l->band_h + 2 * third ? 1
						    : 2;
		int xo = mod64(dx[b], TEX_W);
		int yo = mod64(y + dy[b] + off[b], TEX_H); /* even */
		size_t cy = (size_t)y / 2;

		memcpy(img->plane[0] + (size_t)y * img->stride[0],
		       &tex_y[yo][xo], (size_t)w);
		memcpy(img->plane[0] + (size_t)(y + 1) * img->stride[0],
		       &tex_y[(yo + 1) % TEX_H][xo], (size_t)w);
		memcpy(img->plane[1] + cy * img->stride[1],
		       &tex_u[yo / 2][xo / 2], (size_t)w / 2);
		memcpy(img->plane[2] + cy * img->stride[2],
		       &tex_v[yo / 2][xo / 2], (size_t)w / 2);
	}
}

/* A filled disc of radius r (even) at (cx, cy) (even) on all planes. */
static void draw_disc(struct hl_image *img, int cx, int cy, int r, int ymin,
		      uint8_t yv, uint8_t uv, uint8_t vv)
{
	for (int y = HL_MAX(cy - r, ymin); y < cy + r && y < img->height; y++) {
		double d = y + 0.5 - cy;
		int hw = (int)sqrt((double)r * r - d * d);
		int x0 = HL_MAX(0, cx - hw), x1 = HL_MIN(img->width, cx + hw);

		if (x1 > x0)
			memset(img->plane[0] + (size_t)y * img->stride[0] + x0,
			       yv, (size_t)(x1 - x0));
		if (y & 1)
			continue;
		d = y / 2 + 0.5 - cy / 2;
		hw = (int)sqrt((double)(r / 2) * (r / 2) - d * d);
		x0 = HL_MAX(0, cx / 2 - hw);
		x1 = HL_MIN(img->width / 2, cx / 2 + hw);
		if (x1 > x0) {
			size_t o1 = (size_t)y / 2 * img->stride[1] + x0;
			size_t o2 = (size_t)y / 2 * img->stride[2] + x0;

			memset(img->plane[1] + o1, uv, (size_t)(x1 - x0));
			memset(img->plane[2] + o2, vv, (size_t)(x1 - x0));
		}
	}
}

static void draw_sprite(struct hl_image *img, const struct layout *l,
			uint32_t n)
{
	int r = (img->height / 8) & ~1;
	int area = img->height - l->band_h;
	int cx, cy;

	if (r < 4 || area < 2 * r)
		return;
	cx = r +
	     (bounce((uint64_t)n * 3 * (uint64_t)l->vel, img->width - 2 * r) &
	      ~1);
	cy = l->band_h + r +
	     (bounce((uint64_t)n * (uint64_t)l->vel, area - 2 * r) & ~1);
	draw_disc(img, cx, cy, r, l->band_h, 220, 60, 190);
	draw_disc(img, cx, cy, (r / 2) & ~1, l->band_h, 40, 180, 80);
}

static void stamp_bits(const struct hl_stamp *st, uint8_t b[12])
{
	uint64_t cap = st->capture_us & 0xffffffffffffull;

	hl_put_be32(b, st->frame_no);
	hl_put_be16(b + 4, (uint16_t)(cap >> 32));
	hl_put_be32(b + 6, (uint32_t)cap);
	hl_put_be16(b + 10, hl_media_crc16(b, 10) ^ 0x4854);
}

static void cell_origin(const struct layout *l, int i, int *x, int *y)
{
	*x = l->x0 + (i % l->cols) * l->cell;
	*y = l->y0 + (i / l->cols) * l->cell;
}

static void draw_stamp(struct hl_image *img, const struct layout *l,
		       const struct hl_stamp *st)
{
	uint8_t b[12];

	stamp_bits(st, b);
	for (int i = 0; i < STAMP_BITS; i++) {
		bool one = (b[i / 8] >> (7 - i % 8)) & 1;
		int x, y;

		cell_origin(l, i, &x, &y);
		for (int r = 0; r < l->cell; r++)
			memset(img->plane[0] +
				       (size_t)(y + r) * img->stride[0] + x,
			       one ? WHITE : BLACK, (size_t)l->cell);
	}
}

static void draw_digits(struct hl_image *img, const struct layout *l,
			uint32_t n)
{
	char s[12];
	int len = 0, s8 = l->scale;

	do {
		s[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	for (int i = 0; i < len; i++) {
		const uint8_t *g = font[s[len - 1 - i] - '0'];
		int gx = l->x0 + i * 8 * s8;

		if (gx + 8 * s8 > img->width)
			break;
		for (int r = 0; r < 8 * s8; r++) {
			uint8_t *row =
				img->plane[0] +
				(size_t)(l->digit_y + r) * img->stride[0] + gx;
			uint8_t bits = g[r / s8];

			for (int c = 0; c < 8 * s8; c++)
				if ((bits >> (7 - c / s8)) & 1)
					row[c] = BLACK;
		}
	}
}

void hl_pattern_render(struct hl_image *img, const struct hl_stamp *st)
{
	struct layout l;

	if (!img || !st)
		return;
	if (!layout_for(img->width, img->height, &l)) {
		fill_rows(img, 0, 0, img->height, img->width, GREY);
		fill_rows(img, 1, 0, img->height / 2, img->width / 2, 128);
		fill_rows(img, 2, 0, img->height / 2, img->width / 2, 128);
		return;
	}
	pthread_once(&tex_once, tex_init);
	fill_rows(img, 0, 0, l.band_h, img->width, GREY);
	fill_rows(img, 1, 0, l.band_h / 2, img->width / 2, 128);
	fill_rows(img, 2, 0, l.band_h / 2, img->width / 2, 128);
	draw_texture(img, &l, st->frame_no);
	draw_sprite(img, &l, st->frame_no);
	draw_stamp(img, &l, st);
	draw_digits(img, &l, st->frame_no);
}

/* ---- reading -------------------------------------------------------- */

int hl_pattern_read(const struct hl_image *img, struct hl_stamp *st)
{
	struct layout l;
	uint8_t b[12] = {0};
	int q;

	if (!img || !st)
		return HL_EINVAL;
	if (!layout_for(img->width, img->height, &l))
		return HL_EPARSE;
	q = l.cell / 2; /* the centre half of each cell */
	for (int i = 0; i < STAMP_BITS; i++) {
		int x, y;
		unsigned sum = 0, mean;

		cell_origin(&l, i, &x, &y);
		x += (l.cell - q) / 2;
		y += (l.cell - q) / 2;
		for (int r = 0; r < q; r++) {
			const uint8_t *p = img->plane[0] +
					   (size_t)(y + r) * img->stride[0] + x;

			for (int c = 0; c < q; c++)
				sum += p[c];
		}
		mean = sum / (unsigned)(q * q);
		if (mean >= GREY - DECIDE && mean <= GREY + DECIDE)
			return HL_EPARSE;
		if (mean > GREY)
			b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	if ((hl_media_crc16(b, 10) ^ 0x4854) != hl_get_be16(b + 10))
		return HL_EPARSE;
	st->frame_no = hl_get_be32(b);
	st->capture_us =
		(uint64_t)hl_get_be16(b + 4) << 32 | hl_get_be32(b + 6);
	return 0;
}

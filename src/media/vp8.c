/*
 * vp8.c - the VP8 encoder and decoder (libvpx) behind the codec tables of
 * hotline/media.h.
 *
 * The encoder runs libvpx in real-time mode for live calls: deadline
 * VPX_DL_REALTIME, one pass, CBR at cfg.kbps, no look-ahead, no frame
 * dropping by the encoder (the congestion controller lowers the bitrate
 * instead), key frames only at the start and on request (a long automatic
 * interval as a safety net), error-resilient entropy coding so that the
 * loss of one frame does not break the parsing of the next ones.
 *
 * Determinism: in real-time mode libvpx picks its speed step per frame.
 * With cpu_used >= 0 it does so from the measured wall-clock encode
 * duration: vp8_encode_frame() (vp8/encoder/encodeframe.c) calls
 * vp8_auto_select_speed() (rdopt.c) unless cpu_used < 0, so two runs on
 * the same input give different bitstreams.  A negative cpu_used fixes the
 * speed to -cpu_used; with one thread the output is then a pure function of
 * the input pictures, their timestamps and the bitrate calls (the unit
 * test encodes 60 frames twice and compares the bytes).  The default here
 * is -6 and one thread.
 *
 * The decoder refuses frames that libvpx reports as corrupt
 * (VP8D_GET_FRAME_CORRUPTED) and hands out libvpx's own picture, valid
 * until the next call.
 */
#include <string.h>

#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include "hotline/media.h"

#define DEFAULT_FPS	 30
#define DEFAULT_KBPS	 1500
#define DEFAULT_CPU_USED (-6)
#define KF_MAX_DIST	 3000 /* 100 s at 30 fps: key frames come on request */
#define MAX_KBPS	 100000

struct vp8_enc {
	vpx_codec_ctx_t codec;
	vpx_codec_enc_cfg_t cfg;
	int width, height;
	unsigned long frame_duration; /* timebase units (microseconds) */
	bool have_pts;
	uint64_t first_pts, last_pts;
	uint8_t *buf; /* the frame's packets, concatenated */
	size_t cap;
	unsigned nominal_kbps; /* the bitrate asked for at creation */
};

struct vp8_dec {
	vpx_codec_ctx_t codec;
	struct hl_image img; /* borrowed view of libvpx's picture */
};

/* Per-call bitrate bound and conversion; 0 kbps means the default. */
static unsigned clamp_kbps(unsigned kbps)
{
	if (kbps == 0)
		return DEFAULT_KBPS;
	if (kbps < 10)
		return 10;
	return kbps > MAX_KBPS ? MAX_KBPS : kbps;
}

/*
 * The key-frame size cap libvpx should respect, as a percentage of the
 * per-frame budget: half the optimal buffer (600 ms) expressed in frames,
 * at least 3 frames' worth (the rule WebRTC uses).
 */
static unsigned max_intra_pct(int fps)
{
	unsigned pct = (unsigned)(600 * 0.5 * fps / 10);

	return pct < 300 ? 300 : pct;
}

static int vp8_enc_create(void **st, const struct hl_video_enc_config *in)
{
	struct vp8_enc *e;
	vpx_codec_enc_cfg_t *c;
	int fps, threads, cpu_used, err = HL_ECODEC;

	if (!in || in->width < 2 || in->height < 2 || (in->width & 1) ||
	    (in->height & 1) || in->width > HL_VIDEO_MAX_DIM ||
	    in->height > HL_VIDEO_MAX_DIM || in->fps < 0 || in->fps > 240 ||
	    in->threads < 0 || in->threads > 16 || in->cpu_used < -16 ||
	    in->cpu_used > 16)
		return HL_EINVAL;
	fps = in->fps ? in->fps : DEFAULT_FPS;
	threads = in->threads ? in->threads : 1;
	cpu_used = in->cpu_used ? in->cpu_used : DEFAULT_CPU_USED;

	e = hl_calloc(1, sizeof(*e));
	if (!e)
		return HL_ENOMEM;
	c = &e->cfg;
	if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), c, 0))
		goto fail;
	c->g_w = (unsigned)in->width;
	c->g_h = (unsigned)in->height;
	c->g_threads = (unsigned)threads;
	c->g_timebase.num = 1;
	c->g_timebase.den = 1000000; /* pts are microseconds */
	c->g_pass = VPX_RC_ONE_PASS;
	c->g_lag_in_frames = 0;
	/* Probabilities are not carried from frame to frame, so a lost
	 * frame costs pixels (until the next key frame) but never the
	 * parsing of later frames. */
	c->g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
	c->rc_end_usage = VPX_CBR;
	c->rc_target_bitrate = clamp_kbps(in->kbps);
	c->rc_dropframe_thresh = 0;
	c->rc_resize_allowed = 0;
	c->rc_min_quantizer = 2;
	c->rc_max_quantizer = 63;
	c->rc_undershoot_pct = 100;
	c->rc_overshoot_pct = 15;
	c->rc_buf_initial_sz = 1000; /* a better first key frame */
	c->rc_buf_optimal_sz = 600;
	c->rc_buf_sz = 1000;
	c->kf_mode = VPX_KF_AUTO;
	c->kf_min_dist = 0;
	c->kf_max_dist = KF_MAX_DIST;
	e->nominal_kbps = c->rc_target_bitrate;
	e->width = in->width;
	e->height = in->height;
	e->frame_duration = 1000000ul / (unsigned long)fps;

	if (vpx_codec_enc_init(&e->codec, vpx_codec_vp8_cx(), c, 0)) {
		hl_log(HL_LOG_WARN, "vp8: encoder init failed: %s",
		       vpx_codec_error(&e->codec));
		goto fail;
	}
	/* Fixed speed (negative) for deterministic output; see above. */
	if (vpx_codec_control(&e->codec, VP8E_SET_CPUUSED, cpu_used) ||
	    /* Skip only truly static macroblocks (WebRTC's choice). */
	    vpx_codec_control(&e->codec, VP8E_SET_STATIC_THRESHOLD, 1u) ||
	    /* No temporal denoiser: it costs CPU, and PSNR is measured
	     * against the undenoised source. */
	    vpx_codec_control(&e->codec, VP8E_SET_NOISE_SENSITIVITY, 0u) ||
	    /* Several token partitions only help a multi-threaded
	     * decoder; one partition is smallest. */
	    vpx_codec_control(&e->codec, VP8E_SET_TOKEN_PARTITIONS,
			      threads > 1 ? (int)VP8_TWO_TOKENPARTITION
					  : (int)VP8_ONE_TOKENPARTITION) ||
	    vpx_codec_control(&e->codec, VP8E_SET_MAX_INTRA_BITRATE_PCT,
			      max_intra_pct(fps))) {
		hl_log(HL_LOG_WARN, "vp8: encoder control failed: %s",
		       vpx_codec_error(&e->codec));
		vpx_codec_destroy(&e->codec);
		goto fail;
	}
	*st = e;
	return 0;
fail:
	hl_free(e);
	return err;
}

static void vp8_enc_destroy(void *st)
{
	struct vp8_enc *e = st;

	if (!e)
		return;
	vpx_codec_destroy(&e->codec);
	hl_free(e->buf);
	hl_free(e);
}

/* Wrap an hl_image in a vpx_image_t without copying. */
static void wrap_image(vpx_image_t *v, const struct hl_image *img)
{
	memset(v, 0, sizeof(*v));
	v->fmt = VPX_IMG_FMT_I420;
	v->w = v->d_w = (unsigned)img->width;
	v->h = v->d_h = (unsigned)img->height;
	v->r_w = v->r_h = 0;
	v->x_chroma_shift = 1;
	v->y_chroma_shift = 1;
	v->bps = 12;
	v->bit_depth = 8;
	for (int p = 0; p < 3; p++) {
		v->planes[p] = img->plane[p];
		v->stride[p] = img->stride[p];
	}
}

/* Make room for n more bytes after len in the output buffer. */
static int reserve(struct vp8_enc *e, size_t len, size_t n)
{
	uint8_t *nb;
	size_t cap;

	if (n > SIZE_MAX / 2 - len)
		return HL_ETOOBIG;
	if (len + n <= e->cap)
		return 0;
	cap = (len + n) * 3 / 2 + 4096;
	nb = hl_realloc(e->buf, cap);
	if (!nb)
		return HL_ENOMEM;
	e->buf = nb;
	e->cap = cap;
	return 0;
}

static int vp8_enc_encode(void *st, const struct hl_image *img, uint64_t pts_us,
			  bool force_keyframe, struct hl_encoded *out)
{
	struct vp8_enc *e = st;
	vpx_codec_iter_t iter = NULL;
	const vpx_codec_cx_pkt_t *pkt;
	vpx_image_t v;
	uint64_t pts;
	size_t len = 0;
	bool key = false;
	int err;

	if (!img || img->width != e->width || img->height != e->height)
		return HL_EINVAL;
	/* libvpx wants small, strictly increasing timestamps. */
	if (!e->have_pts) {
		e->first_pts = pts_us;
		e->have_pts = true;
		pts = 0;
	} else {
		pts = pts_us > e->first_pts ? pts_us - e->first_pts : 0;
		if (pts <= e->last_pts)
			pts = e->last_pts + 1;
	}
	if (pts > (uint64_t)INT64_MAX / 16)
		return HL_EINVAL;
	e->last_pts = pts;

	wrap_image(&v, img);
	if (vpx_codec_encode(
		    &e->codec, &v, (vpx_codec_pts_t)pts, e->frame_duration,
		    force_keyframe ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME)) {
		hl_log(HL_LOG_WARN, "vp8: encode failed: %s",
		       vpx_codec_error(&e->codec));
		return HL_ECODEC;
	}
	while ((pkt = vpx_codec_get_cx_data(&e->codec, &iter)) != NULL) {
		if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
			continue;
		err = reserve(e, len, pkt->data.frame.sz);
		if (err)
			return err;
		memcpy(e->buf + len, pkt->data.frame.buf, pkt->data.frame.sz);
		len += pkt->data.frame.sz;
		if (pkt->data.frame.flags & VPX_FRAME_IS_KEY)
			key = true;
	}
	out->data = e->buf;
	out->len = len;
	out->keyframe = key;
	return 0;
}

static int vp8_enc_set_bitrate(void *st, unsigned kbps)
{
	struct vp8_enc *e = st;

	e->cfg.rc_target_bitrate = clamp_kbps(kbps);
	/* Below the nominal rate (congestion control asks for less than the
	 * picture needs at the coarsest quantizer) the encoder may skip
	 * frames to stay within the target; at the nominal rate it never
	 * does. */
	e->cfg.rc_dropframe_thresh =
		e->cfg.rc_target_bitrate < e->nominal_kbps ? 30 : 0;
	if (vpx_codec_enc_config_set(&e->codec, &e->cfg))
		return HL_ECODEC;
	return 0;
}

const struct hl_video_encoder_ops hl_vp8_encoder = {
	.name = "vp8",
	.create = vp8_enc_create,
	.destroy = vp8_enc_destroy,
	.encode = vp8_enc_encode,
	.set_bitrate = vp8_enc_set_bitrate,
};

static int vp8_dec_create(void **st)
{
	struct vp8_dec *d;
	vpx_codec_dec_cfg_t cfg = {.threads = 1, .w = 0, .h = 0};

	d = hl_calloc(1, sizeof(*d));
	if (!d)
		return HL_ENOMEM;
	if (vpx_codec_dec_init(&d->codec, vpx_codec_vp8_dx(), &cfg, 0)) {
		hl_free(d);
		return HL_ECODEC;
	}
	*st = d;
	return 0;
}

static void vp8_dec_destroy(void *st)
{
	struct vp8_dec *d = st;

	if (!d)
		return;
	vpx_codec_destroy(&d->codec);
	hl_free(d);
}

static int vp8_dec_decode(void *st, const uint8_t *data, size_t len,
			  const struct hl_image **out)
{
	struct vp8_dec *d = st;
	vpx_codec_iter_t iter = NULL;
	vpx_image_t *v;
	int corrupted = 0;
	unsigned w, h;

	if (!data || len == 0 || len > UINT32_MAX)
		return HL_ECODEC;
	if (vpx_codec_decode(&d->codec, data, (unsigned)len, NULL, 0))
		return HL_ECODEC;
	if (vpx_codec_control(&d->codec, VP8D_GET_FRAME_CORRUPTED,
			      &corrupted) ||
	    corrupted)
		return HL_ECODEC;
	v = vpx_codec_get_frame(&d->codec, &iter);
	if (!v || v->fmt != VPX_IMG_FMT_I420)
		return HL_ECODEC;
	/* Odd sizes from a peer are cropped to the even size below. */
	w = v->d_w & ~1u;
	h = v->d_h & ~1u;
	if (w < 2 || h < 2 || w > HL_VIDEO_MAX_DIM || h > HL_VIDEO_MAX_DIM)
		return HL_ECODEC;
	d->img.width = (int)w;
	d->img.height = (int)h;
	for (int p = 0; p < 3; p++) {
		d->img.plane[p] = v->planes[p];
		d->img.stride[p] = v->stride[p];
	}
	d->img.owned = false;
	*out = &d->img;
	return 0;
}

const struct hl_video_decoder_ops hl_vp8_decoder = {
	.name = "vp8",
	.create = vp8_dec_create,
	.destroy = vp8_dec_destroy,
	.decode = vp8_dec_decode,
};

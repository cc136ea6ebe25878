/*
 * meter.c - measure what a receiver shows and plays (see report.h).
 *
 * Video: read the stamp of each shown picture (frame number, capture
 * time), re-render the test pattern for that stamp and compare (Y-PSNR);
 * latency = shown - captured; a freeze is a gap between shown pictures of
 * at least max(3 frame times, frame time + 150 ms) (WebRTC's definition
 * with the nominal frame time).  Audio: read the tone's mark of each
 * played frame (capture time / 20 ms mod 2^16), unwrap it next to the play
 * time, latency = played + codec look-ahead - captured.  Latencies go into
 * 0.1 ms histograms, so percentiles cost no per-sample memory.  Concealed
 * audio counts once a played frame follows it, so the silence after the
 * peer's last frame is not taken for loss.
 */
#include <string.h>

#include "hotline/report.h"

#define BIN_US	     100
#define BINS	     100000 /* 10 s */
#define CORRUPT_PSNR 25.0

struct hist {
	uint32_t bins[BINS];
	uint64_t n;
	double sum_ms; /* of the exact values, clamped at 0 */
};

static void hist_add(struct hist *h, int64_t us)
{
	uint64_t b = us <= 0 ? 0 : (uint64_t)us / BIN_US;

	if (b >= BINS)
		b = BINS - 1;
	h->bins[b]++;
	h->n++;
	h->sum_ms += us <= 0 ? 0 : (double)us / 1000.0;
}

/* Value at quantile q (0..1), in ms, at the bin's centre. */
static double hist_quantile(const struct hist *h, double q)
{
	uint64_t want, acc = 0;

	if (!h->n)
		return 0;
	want = (uint64_t)(q * (double)h->n + 0.999999);
	if (want < 1)
		want = 1;
	for (size_t i = 0; i < BINS; i++) {
		acc += h->bins[i];
		if (acc >= want)
			return ((double)i + 0.5) * BIN_US / 1000.0;
	}
	return (double)BINS * BIN_US / 1000.0;
}

struct hl_vmeter {
	int fps;
	bool stamped;
	struct hl_image *ref;
	struct hist lat;
	struct hl_vmeter_summary s;
	double psnr_sum;
	uint64_t psnr_n;
	unsigned psnr_every, psnr_skip;
	bool have_last;
	uint64_t last_us;
	bool have_frame_no;
};

int hl_vmeter_new(struct hl_vmeter **out, int fps, bool stamped)
{
	struct hl_vmeter *m;

	if (fps < 1)
		return HL_EINVAL;
	m = hl_calloc(1, sizeof(*m));
	if (!m)
		return HL_ENOMEM;
	m->fps = fps;
	m->stamped = stamped;
	*out = m;
	return 0;
}

void hl_vmeter_free(struct hl_vmeter *m)
{
	if (!m)
		return;
	hl_image_free(m->ref);
	hl_free(m);
}

int hl_vmeter_frame(struct hl_vmeter *m, const struct hl_image *img,
		    uint64_t shown_us)
{
	uint64_t frame_us = 1000000u / (unsigned)m->fps;
	uint64_t freeze_us = HL_MAX(3 * frame_us, frame_us + 150000);
	struct hl_stamp st;
	uint64_t sse;
	double psnr;
	int err;

	if (m->have_last && shown_us >= m->last_us) {
		uint64_t gap = shown_us - m->last_us;

		if (gap >= freeze_us) {
			m->s.freezes++;
			if (gap / 1000.0 > m->s.max_freeze_ms)
				m->s.max_freeze_ms = gap / 1000.0;
		}
	}
	m->have_last = true;
	m->last_us = shown_us;
	m->s.width = img->width;
	m->s.height = img->height;

	m->s.frames++;
	if (hl_pattern_read(img, &st)) {
		m->s.unreadable++;
		if (m->stamped)
			m->s.corrupt++;
		return 0;
	}
	if (m->stamped && m->have_frame_no && st.frame_no <= m->s.last_frame_no)
		m->s.corrupt++; /* shown twice or out of order */
	m->have_frame_no = true;
	m->s.last_frame_no = st.frame_no;
	hist_add(&m->lat, (int64_t)shown_us -
				  (int64_t)(st.capture_us & 0xffffffffffffull));
	if (m->psnr_skip) {
		m->psnr_skip--;
		return 0;
	}
	m->psnr_skip = m->psnr_every ? m->psnr_every - 1 : 0;

	if (!m->ref || m->ref->width != img->width ||
	    m->ref->height != img->height) {
		hl_image_free(m->ref);
		m->ref = NULL;
		err = hl_image_new(&m->ref, img->width, img->height);
		if (err)
			return err;
	}
	hl_pattern_render(m->ref, &st);
	sse = hl_image_sse_y(img, m->ref);
	psnr = hl_psnr_from_sse(sse, (uint64_t)img->width * img->height);
	if (psnr < CORRUPT_PSNR)
		m->s.corrupt++;
	m->psnr_sum += psnr;
	m->psnr_n++;
	return 0;
}

void hl_vmeter_psnr_every(struct hl_vmeter *m, unsigned n)
{
	m->psnr_every = n ? n : 1;
	m->psnr_skip = 0;
}

void hl_vmeter_summary(const struct hl_vmeter *m, uint64_t last_capture_us,
		       struct hl_vmeter_summary *s)
{
	uint64_t frame_us = 1000000u / (unsigned)m->fps;
	uint64_t freeze_us = HL_MAX(3 * frame_us, frame_us + 150000);

	*s = m->s;
	s->psnr_db = m->psnr_n ? m->psnr_sum / (double)m->psnr_n : 0;
	s->latency_p50_ms = hist_quantile(&m->lat, 0.50);
	s->latency_p95_ms = hist_quantile(&m->lat, 0.95);
	s->latency_sum_ms = m->lat.sum_ms;
	s->latency_n = m->lat.n;
	/* A freeze at the end: the last picture was due (captured plus the
	 * usual latency) long after the last one shown. */
	if (m->have_last && last_capture_us) {
		uint64_t due =
			last_capture_us + (uint64_t)(s->latency_p50_ms * 1000);

		if (due > m->last_us && due - m->last_us >= freeze_us) {
			s->freezes++;
			if ((due - m->last_us) / 1000.0 > s->max_freeze_ms)
				s->max_freeze_ms = (due - m->last_us) / 1000.0;
		}
	}
}

struct hl_ameter {
	struct hist lat;
	struct hl_ameter_summary s;
	uint64_t pending; /* concealed frames since the last played one */
};

int hl_ameter_new(struct hl_ameter **out)
{
	struct hl_ameter *m = hl_calloc(1, sizeof(*m));

	if (!m)
		return HL_ENOMEM;
	*out = m;
	return 0;
}

void hl_ameter_free(struct hl_ameter *m)
{
	hl_free(m);
}

int hl_ameter_frame(struct hl_ameter *m,
		    const int16_t pcm[HL_AUDIO_FRAME_SAMPLES],
		    const struct hl_audio_out *info, uint64_t played_us)
{
	const uint64_t frame_us = HL_AUDIO_FRAME_MS * 1000;
	uint64_t now_k, k;
	uint16_t mark;

	switch (info->kind) {
	case HL_AUDIO_SILENCE:
		return 0;
	case HL_AUDIO_CONCEALED:
		/* Counted once a real frame follows: concealment after the
		 * peer's last frame is the end of the call, not loss. */
		m->pending++;
		return 0;
	case HL_AUDIO_FEC:
		m->s.fec_frames++;
		break;
	case HL_AUDIO_DECODED:
		break;
	}
	m->s.concealed_frames += m->pending;
	m->s.concealed_ms += (double)m->pending * HL_AUDIO_FRAME_MS;
	m->pending = 0;
	m->s.frames_played++;
	if (hl_tone_read(pcm, info->delay_samples, &mark)) {
		m->s.unreadable++;
		return 0;
	}
	/* The capture frame number k = mark (mod 2^16) nearest below now. */
	now_k = played_us / frame_us;
	k = now_k - ((now_k - mark) & 0xffff);
	hist_add(&m->lat, (int64_t)played_us +
				  (int64_t)info->delay_samples * 1000000 /
					  HL_AUDIO_RATE -
				  (int64_t)(k * frame_us));
	return 0;
}

void hl_ameter_summary(const struct hl_ameter *m, struct hl_ameter_summary *s)
{
	*s = m->s;
	s->latency_p50_ms = hist_quantile(&m->lat, 0.50);
	s->latency_p95_ms = hist_quantile(&m->lat, 0.95);
	s->latency_sum_ms = m->lat.sum_ms;
	s->latency_n = m->lat.n;
}

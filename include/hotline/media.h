/*
 * hotline/media.h - raw media, codecs, sources, sinks and measurement.
 *
 *  - struct hl_image: an I420 picture; PSNR between two pictures.
 *  - Codecs behind small const function tables (STYLE principle 10) so that
 *    the call engine can run with libvpx/libopus or with test mocks:
 *    hl_vp8_encoder/hl_vp8_decoder (libvpx, real-time mode) and
 *    hl_opus_encoder/hl_opus_decoder (libopus, 48 kHz mono, 20 ms frames,
 *    in-band FEC, PLC).
 *  - The test pattern: a deterministic moving picture that carries its
 *    frame number and capture time in a stamp of large black and white
 *    cells, readable after lossy coding; a receiver re-renders the
 *    reference from the stamp and so measures loss, latency and PSNR live.
 *  - The test tone: 20 ms frames, each carrying a 16-bit mark (capture
 *    time / 20 ms, mod 2^16) as one tone out of each of 16 frequency pairs.
 *  - Y4M and WAV file sources and sinks.
 *
 * Time values are microseconds.  Nothing here reads a clock.
 */
#ifndef HOTLINE_MEDIA_H
#define HOTLINE_MEDIA_H

#include <stdio.h>

#include "hotline/base.h"

/* ---- pictures ------------------------------------------------------- */

#define HL_VIDEO_MAX_DIM 4096

struct hl_image {
	int width, height; /* even, 2..HL_VIDEO_MAX_DIM */
	uint8_t *plane[3]; /* Y, U, V */
	int stride[3];
	bool owned; /* planes allocated by hl_image_new */
};

/* Allocate an I420 image; free with hl_image_free(). */
int hl_image_new(struct hl_image **out, int width, int height) HL_MUST_CHECK;
void hl_image_free(struct hl_image *img);
/* Copy src into dst (same size). */
void hl_image_copy(struct hl_image *dst, const struct hl_image *src);
/* Sum of squared differences of the Y planes, and Y-PSNR in dB (99 when
 * identical).  The images must have the same size. */
uint64_t hl_image_sse_y(const struct hl_image *a, const struct hl_image *b);
double hl_psnr_from_sse(uint64_t sse, uint64_t samples);

/* ---- codecs --------------------------------------------------------- */

/* A zero fps, kbps, threads or cpu_used picks the default: 30 fps,
 * 1500 kb/s, 1 thread, cpu_used -6. */
struct hl_video_enc_config {
	int width, height;
	int fps;
	unsigned kbps;
	int threads;  /* 1 = deterministic */
	int cpu_used; /* libvpx speed; negative = fixed speed (deterministic) */
};

struct hl_encoded {
	const uint8_t *data; /* valid until the next call on the encoder */
	size_t len;
	bool keyframe;
};

struct hl_video_encoder_ops {
	const char *name;
	int (*create)(void **st, const struct hl_video_enc_config *cfg);
	void (*destroy)(void *st);
	/*
	 * Encode one picture.  pts in microseconds.  Returns 0 with out set;
	 * out->len == 0 if the encoder dropped the frame.
	 */
	int (*encode)(void *st, const struct hl_image *img, uint64_t pts_us,
		      bool force_keyframe, struct hl_encoded *out);
	int (*set_bitrate)(void *st, unsigned kbps);
};

struct hl_video_decoder_ops {
	const char *name;
	int (*create)(void **st);
	void (*destroy)(void *st);
	/*
	 * Decode one complete frame.  On success *out points to a picture
	 * owned by the decoder, valid until the next call.  HL_ECODEC if the
	 * frame is corrupt or cannot be decoded.
	 */
	int (*decode)(void *st, const uint8_t *data, size_t len,
		      const struct hl_image **out);
};

#define HL_AUDIO_RATE	       48000
#define HL_AUDIO_FRAME_MS      20
#define HL_AUDIO_FRAME_SAMPLES 960  /* 20 ms at 48 kHz, mono */
#define HL_AUDIO_MAX_PACKET    1275 /* largest Opus packet */

struct hl_audio_enc_config {
	unsigned kbps; /* e.g. 32 */
	bool fec;      /* Opus in-band FEC (LBRR) */
	int loss_perc; /* expected loss, 0..100 (drives FEC) */
};

struct hl_audio_encoder_ops {
	const char *name;
	int (*create)(void **st, const struct hl_audio_enc_config *cfg);
	void (*destroy)(void *st);
	/* Encode HL_AUDIO_FRAME_SAMPLES samples; *len bytes written. */
	int (*encode)(void *st, const int16_t *pcm, uint8_t *out, size_t cap,
		      size_t *len);
	int (*set_bitrate)(void *st, unsigned kbps);
	int (*set_loss_perc)(void *st, int loss_perc);
	/* Samples of look-ahead delay the codec adds (decoded output lags
	 * the input by this much). */
	int (*lookahead)(void *st);
};

struct hl_audio_decoder_ops {
	const char *name;
	int (*create)(void **st);
	void (*destroy)(void *st);
	/* Decode one packet into HL_AUDIO_FRAME_SAMPLES samples. */
	int (*decode)(void *st, const uint8_t *data, size_t len, int16_t *pcm);
	/* Recover the previous frame from the FEC data in the next packet. */
	int (*decode_fec)(void *st, const uint8_t *next, size_t len,
			  int16_t *pcm);
	/* Packet loss concealment for one frame. */
	int (*conceal)(void *st, int16_t *pcm);
};

extern const struct hl_video_encoder_ops hl_vp8_encoder;
extern const struct hl_video_decoder_ops hl_vp8_decoder;
extern const struct hl_audio_encoder_ops hl_opus_encoder;
extern const struct hl_audio_decoder_ops hl_opus_decoder;

/* ---- test pattern --------------------------------------------------- */

struct hl_stamp {
	uint32_t frame_no;
	uint64_t capture_us; /* only the low 48 bits are carried */
};

/*
 * Render frame frame_no captured at capture_us into img (any even size
 * >= 64x64).  Pure function of (size, frame_no, capture_us).
 */
void hl_pattern_render(struct hl_image *img, const struct hl_stamp *st);
/* Read the stamp of a (decoded) picture; HL_EPARSE if unreadable. */
int hl_pattern_read(const struct hl_image *img,
		    struct hl_stamp *st) HL_MUST_CHECK;

/* ---- test tone ------------------------------------------------------ */

/*
 * Render one 20 ms mono frame whose mark is mark (capture time / 20 ms,
 * mod 2^16).  Pure function of mark.
 */
void hl_tone_render(int16_t pcm[HL_AUDIO_FRAME_SAMPLES], uint16_t mark);
/*
 * Read the mark of a decoded frame whose content starts `delay` samples
 * late (the codec look-ahead; the mark is read from the part of the frame
 * that belongs to one source frame).  HL_EPARSE if unreadable; HL_EINVAL
 * if delay is outside 0..384 (too little of one source frame is left).
 */
int hl_tone_read(const int16_t pcm[HL_AUDIO_FRAME_SAMPLES], int delay,
		 uint16_t *mark) HL_MUST_CHECK;

/* ---- files ---------------------------------------------------------- */

struct hl_y4m_reader;
/* Open a YUV4MPEG2 file (C420 family only). */
int hl_y4m_reader_open(struct hl_y4m_reader **out, const char *path, int *width,
		       int *height, int *fps_num, int *fps_den) HL_MUST_CHECK;
/* Read the next frame into img (same size); HL_EAGAIN at end of file. */
int hl_y4m_read(struct hl_y4m_reader *r, struct hl_image *img) HL_MUST_CHECK;
int hl_y4m_rewind(struct hl_y4m_reader *r) HL_MUST_CHECK;
void hl_y4m_reader_close(struct hl_y4m_reader *r);

struct hl_y4m_writer;
int hl_y4m_writer_open(struct hl_y4m_writer **out, const char *path, int width,
		       int height, int fps) HL_MUST_CHECK;
int hl_y4m_write(struct hl_y4m_writer *w,
		 const struct hl_image *img) HL_MUST_CHECK;
int hl_y4m_writer_close(struct hl_y4m_writer *w) HL_MUST_CHECK;

struct hl_wav_reader;
/* Open a 16-bit PCM WAV at 48 kHz (mono, or stereo mixed down). */
int hl_wav_reader_open(struct hl_wav_reader **out,
		       const char *path) HL_MUST_CHECK;
/* Read one 20 ms mono frame; HL_EAGAIN at end of file. */
int hl_wav_read(struct hl_wav_reader *r,
		int16_t pcm[HL_AUDIO_FRAME_SAMPLES]) HL_MUST_CHECK;
int hl_wav_rewind(struct hl_wav_reader *r) HL_MUST_CHECK;
void hl_wav_reader_close(struct hl_wav_reader *r);

struct hl_wav_writer;
int hl_wav_writer_open(struct hl_wav_writer **out,
		       const char *path) HL_MUST_CHECK;
int hl_wav_write(struct hl_wav_writer *w, const int16_t *pcm,
		 size_t samples) HL_MUST_CHECK;
/* Finish the header (sizes) and close. */
int hl_wav_writer_close(struct hl_wav_writer *w) HL_MUST_CHECK;

#endif /* HOTLINE_MEDIA_H */

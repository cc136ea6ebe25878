/*
 * hotline/devices.h - real sources and sinks: a V4L2 camera, and (when
 * built with SDL2) a window, the speaker and the microphone.
 *
 * These do I/O on devices; the call engine never calls them, the
 * programs do.  Every open reports why it failed in one sentence.
 */
#ifndef HOTLINE_DEVICES_H
#define HOTLINE_DEVICES_H

#include "hotline/base.h"
#include "hotline/media.h"

/* ---- camera (V4L2) ---------------------------------------------------- */

struct hl_camera;

/*
 * Open dev (e.g. "/dev/video0") for width x height at fps, in YUYV, NV12
 * or YUV420 (converted to I420; the nearest size the device offers is
 * scaled to the asked one).  *err_msg gets a sentence on failure.
 */
int hl_camera_open(struct hl_camera **out, const char *dev, int width,
		   int height, int fps, const char **err_msg) HL_MUST_CHECK;
void hl_camera_close(struct hl_camera *c);
/* Pollable: readable when a frame is ready. */
int hl_camera_fd(const struct hl_camera *c);
/* The newest frame into img (width x height of the open); HL_EAGAIN. */
int hl_camera_read(struct hl_camera *c, struct hl_image *img) HL_MUST_CHECK;

/* YUYV (4:2:2 packed) to I420, exposed for tests. */
void hl_yuyv_to_i420(const uint8_t *yuyv, int stride, struct hl_image *img);

/* ---- SDL2: window, speaker, microphone ------------------------------- */

/* Whether this build has SDL2. */
bool hl_sdl_available(void);

struct hl_window;
int hl_window_open(struct hl_window **out, const char *title, int width,
		   int height, const char **err_msg) HL_MUST_CHECK;
/* Show a picture (scaled to the window); handles window events.  Returns
 * HL_ESTATE once the user closed the window. */
int hl_window_show(struct hl_window *w, const struct hl_image *img);
void hl_window_close(struct hl_window *w);

struct hl_speaker;
/* 48 kHz mono 16-bit output. */
int hl_speaker_open(struct hl_speaker **out,
		    const char **err_msg) HL_MUST_CHECK;
int hl_speaker_play(struct hl_speaker *s,
		    const int16_t pcm[HL_AUDIO_FRAME_SAMPLES]) HL_MUST_CHECK;
/* Milliseconds of sound queued and not yet played. */
unsigned hl_speaker_queued_ms(const struct hl_speaker *s);
void hl_speaker_close(struct hl_speaker *s);

struct hl_mic;
int hl_mic_open(struct hl_mic **out, const char **err_msg) HL_MUST_CHECK;
/* The next 20 ms frame captured; HL_EAGAIN if none is complete yet. */
int hl_mic_read(struct hl_mic *m,
		int16_t pcm[HL_AUDIO_FRAME_SAMPLES]) HL_MUST_CHECK;
void hl_mic_close(struct hl_mic *m);

#endif /* HOTLINE_DEVICES_H */

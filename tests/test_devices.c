/*
 * test_devices.c - the camera's colour conversion and failure sentences,
 * and the SDL window, speaker and microphone on SDL's dummy drivers
 * (include/hotline/devices.h).
 *
 * There is no camera here: the conversion is checked on small images with
 * hand-computed values, and hl_camera_open() on paths that are not
 * cameras.  The SDL tests set SDL_VIDEODRIVER and SDL_AUDIODRIVER to
 * "dummy" before SDL starts, so they need no display and no sound card;
 * they assert only what the dummy drivers make deterministic.
 */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "hotline/devices.h"

#ifdef HL_HAVE_SDL
#include <SDL.h>
#endif

/* ---- YUYV to I420 ---------------------------------------------------- */

static int test_yuyv_known(void)
{
	/* 4x4 picture, rows of 8 bytes + 2 bytes of padding (stride 10):
	 * Y0 U Y1 V per pair of pixels. */
	static const uint8_t yuyv[4 * 10] = {
		10, 100, 20, 200, 30, 50, 40, 60, 0xee, 0xee, /* row 0 */
		11, 101, 21, 203, 31, 51, 41, 61, 0xee, 0xee, /* row 1 */
		12, 0,	 22, 255, 32, 7,  42, 8,  0xee, 0xee, /* row 2 */
		13, 255, 23, 255, 33, 8,  43, 9,  0xee, 0xee, /* row 3 */
	};
	static const uint8_t want_y[16] = {10, 20, 30, 40, 11, 21, 31, 41,
					   12, 22, 32, 42, 13, 23, 33, 43};
	/* Chroma averaged over two rows, rounded half up. */
	static const uint8_t want_u[4] = {101, 51, 128, 8};
	static const uint8_t want_v[4] = {202, 61, 255, 9};
	struct hl_image *img;

	HT_OK(hl_image_new(&img, 4, 4));
	hl_yuyv_to_i420(yuyv, 10, img);
	for (int y = 0; y < 4; y++)
		HT_EQ_MEM(img->plane[0] + y * img->stride[0], want_y + 4 * y,
			  4);
	for (int y = 0; y < 2; y++) {
		HT_EQ_MEM(img->plane[1] + y * img->stride[1], want_u + 2 * y,
			  2);
		HT_EQ_MEM(img->plane[2] + y * img->stride[2], want_v + 2 * y,
			  2);
	}
	hl_image_free(img);
	return 0;
}

static int test_yuyv_flat(void)
{
	/* A flat 64x32 picture in a tightly packed buffer stays flat. */
	uint8_t *yuyv = hl_malloc(64 * 2 * 32);
	struct hl_image *img;

	HT_ASSERT(yuyv);
	for (int i = 0; i < 64 * 32; i++) {
		yuyv[2 * i] = 77;
		yuyv[2 * i + 1] = i % 2 ? 33 : 199; /* U, V alternate */
	}
	HT_OK(hl_image_new(&img, 64, 32));
	hl_yuyv_to_i420(yuyv, 128, img);
	for (int y = 0; y < 32; y++)
		for (int x = 0; x < 64; x++)
			HT_EQ_INT(img->plane[0][y * img->stride[0] + x], 77);
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 32; x++) {
			HT_EQ_INT(img->plane[1][y * img->stride[1] + x], 199);
			HT_EQ_INT(img->plane[2][y * img->stride[2] + x], 33);
		}
	hl_image_free(img);
	hl_free(yuyv);
	return 0;
}

/* ---- camera failures ------------------------------------------------- */

static int test_camera_missing(void)
{
	struct hl_camera *c = NULL;
	const char *msg = NULL;

	HT_EQ_INT(hl_camera_open(&c, "/dev/video-hotline-none", 640, 480, 30,
				 &msg),
		  HL_EIO);
	HT_ASSERT(c == NULL);
	HT_ASSERT(msg && strstr(msg, "/dev/video-hotline-none"));
	HT_ASSERT(strstr(msg, "no such camera"));
	HT_ASSERT(strstr(msg, "v4l2-ctl --list-devices"));
	return 0;
}

static int test_camera_regular_file(void)
{
	char path[] = "/tmp/hl-test-cam-XXXXXX";
	struct hl_camera *c = NULL;
	const char *msg = NULL;
	int fd = mkstemp(path);

	HT_ASSERT(fd >= 0);
	HT_ASSERT(write(fd, "not a camera", 12) == 12);
	close(fd);
	HT_EQ_INT(hl_camera_open(&c, path, 640, 480, 30, &msg), HL_EINVAL);
	unlink(path);
	HT_ASSERT(c == NULL);
	HT_ASSERT(msg && strstr(msg, path));
	HT_ASSERT(strstr(msg, "is not a camera device"));

	/* A character device that is no camera. */
	msg = NULL;
	HT_EQ_INT(hl_camera_open(&c, "/dev/null", 640, 480, 30, &msg),
		  HL_EINVAL);
	HT_ASSERT(msg && strstr(msg, "not a V4L2 video device"));
	return 0;
}

static int test_camera_bad_args(void)
{
	struct hl_camera *c = NULL;
	const char *msg = NULL;

	HT_EQ_INT(hl_camera_open(&c, "/dev/video0", 641, 480, 30, &msg),
		  HL_EINVAL);
	HT_ASSERT(msg && strstr(msg, "641x480"));
	HT_EQ_INT(hl_camera_open(&c, "/dev/video0", 640, 480, 0, &msg),
		  HL_EINVAL);
	HT_EQ_INT(hl_camera_open(&c, NULL, 640, 480, 30, NULL), HL_EINVAL);
	HT_ASSERT(c == NULL);
	hl_camera_close(NULL);
	return 0;
}

/* ---- SDL ------------------------------------------------------------- */

#ifdef HL_HAVE_SDL

static int fill(struct hl_image *img, uint8_t y)
{
	for (int r = 0; r < img->height; r++)
		memset(img->plane[0] + r * img->stride[0], y,
		       (size_t)img->width);
	return 0;
}

static int test_window(void)
{
	struct hl_window *w = NULL;
	struct hl_image *a, *b;
	const char *msg = NULL;

	HT_ASSERT(hl_sdl_available());
	HT_OK(hl_image_new(&a, 64, 48));
	HT_OK(hl_image_new(&b, 32, 16));
	fill(a, 200);
	fill(b, 50);
	HT_EQ_INT(hl_window_open(&w, "test <window>", 64, 48, &msg), 0);
	HT_ASSERT(w);
	for (int i = 0; i < 5; i++)
		HT_EQ_INT(hl_window_show(w, a), 0);
	/* Another picture size: the texture follows. */
	HT_EQ_INT(hl_window_show(w, b), 0);
	HT_EQ_INT(hl_window_show(w, a), 0);
	HT_EQ_INT(hl_window_show(w, NULL), 0); /* events only */
	hl_window_close(w);

	/* Closed by the user: a quit event, then HL_ESTATE for good. */
	HT_EQ_INT(hl_window_open(&w, "again", 64, 48, &msg), 0);
	HT_EQ_INT(hl_window_show(w, a), 0);
	{
		SDL_Event ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = SDL_QUIT;
		HT_ASSERT(SDL_PushEvent(&ev) == 1);
	}
	HT_EQ_INT(hl_window_show(w, a), HL_ESTATE);
	HT_EQ_INT(hl_window_show(w, a), HL_ESTATE);
	hl_window_close(w);
	hl_window_close(NULL);

	HT_EQ_INT(hl_window_open(&w, "bad", 1, 48, &msg), HL_EINVAL);
	HT_ASSERT(msg && strstr(msg, "1x48"));
	hl_image_free(a);
	hl_image_free(b);
	return 0;
}

static int test_speaker(void)
{
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	struct hl_speaker *s = NULL;
	const char *msg = NULL;
	int full = 0, rc;

	for (int i = 0; i < HL_AUDIO_FRAME_SAMPLES; i++)
		pcm[i] = (int16_t)(i * 37);
	rc = hl_speaker_open(&s, &msg);
	if (rc)
		fprintf(stderr, "speaker: %s\n", msg ? msg : "?");
	HT_EQ_INT(rc, 0);
	HT_EQ_INT(hl_speaker_queued_ms(s) <= 20, 1);
	HT_EQ_INT(hl_speaker_play(s, pcm), 0);
	HT_EQ_INT(hl_speaker_play(s, pcm), 0);
	/* At most what was queued (the device may have taken some). */
	HT_ASSERT(hl_speaker_queued_ms(s) <= 40);
	/* Far more than real time: the backlog is capped, not grown. */
	for (int i = 0; i < 100; i++) {
		rc = hl_speaker_play(s, pcm);
		HT_ASSERT(rc == 0 || rc == HL_EFULL);
		full += rc == HL_EFULL;
	}
	HT_ASSERT(full > 0);
	HT_ASSERT(hl_speaker_queued_ms(s) <= 400 + 20);
	hl_speaker_close(s);
	hl_speaker_close(NULL);
	return 0;
}

static int test_mic(void)
{
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	struct hl_mic *m = NULL;
	const char *msg = NULL;
	int rc = hl_mic_open(&m, &msg);

	if (rc)
		fprintf(stderr, "mic: %s\n", msg ? msg : "?");
	HT_EQ_INT(rc, 0);
	/* The dummy driver may capture silence or nothing yet. */
	for (int i = 0; i < 3; i++) {
		rc = hl_mic_read(m, pcm);
		HT_ASSERT(rc == 0 || rc == HL_EAGAIN);
	}
	hl_mic_close(m);
	hl_mic_close(NULL);
	return 0;
}

static int test_all_open_together(void)
{
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES] = {0};
	struct hl_window *w;
	struct hl_speaker *s;
	struct hl_mic *m;
	struct hl_image *img;
	const char *msg = NULL;
	int rc;

	HT_OK(hl_image_new(&img, 16, 16));
	/* SDL initialised, released and initialised again in any order. */
	for (int round = 0; round < 2; round++) {
		HT_EQ_INT(hl_speaker_open(&s, &msg), 0);
		HT_EQ_INT(hl_window_open(&w, "w", 16, 16, &msg), 0);
		HT_EQ_INT(hl_mic_open(&m, &msg), 0);
		HT_EQ_INT(hl_window_show(w, img), 0);
		HT_EQ_INT(hl_speaker_play(s, pcm), 0);
		rc = hl_mic_read(m, pcm);
		HT_ASSERT(rc == 0 || rc == HL_EAGAIN);
		if (round == 0) {
			hl_speaker_close(s);
			hl_mic_close(m);
			hl_window_close(w);
		} else {
			hl_window_close(w);
			hl_speaker_close(s);
			hl_mic_close(m);
		}
	}
	hl_image_free(img);
	return 0;
}

#else

static int test_no_sdl(void)
{
	struct hl_window *w;
	const char *msg = NULL;

	HT_ASSERT(!hl_sdl_available());
	HT_EQ_INT(hl_window_open(&w, "x", 64, 48, &msg), HL_EUNSUPPORTED);
	HT_ASSERT(msg && strstr(msg, "libsdl2-dev"));
	return 0;
}

#endif

static const struct hl_test tests[] = {
	HT_TEST(test_yuyv_known),
	HT_TEST(test_yuyv_flat),
	HT_TEST(test_camera_missing),
	HT_TEST(test_camera_regular_file),
	HT_TEST(test_camera_bad_args),
#ifdef HL_HAVE_SDL
	HT_TEST(test_window),
	HT_TEST(test_speaker),
	HT_TEST(test_mic),
	HT_TEST(test_all_open_together),
#else
	HT_TEST(test_no_sdl),
#endif
};

int main(int argc, char **argv)
{
	/* No display, no sound card: SDL's dummy drivers. */
	setenv("SDL_VIDEODRIVER", "dummy", 1);
	setenv("SDL_AUDIODRIVER", "dummy", 1);
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}

/*
 * sdl.c - a window, the speaker and the microphone through SDL2
 * (include/hotline/devices.h).
 *
 * Built with SDL2 when meson finds it (HL_HAVE_SDL); otherwise every open
 * fails with HL_EUNSUPPORTED and says how to get a build that has it.
 *
 * libSDL2 is loaded (dlopen) when the first device opens, not when the
 * program starts: a call without a window, speaker or microphone never
 * maps it nor the forty-odd libraries it needs (X11, Wayland, PulseAudio,
 * ALSA...), which makes every start about 4 ms faster.  Once loaded it
 * stays.  SDL is then initialised lazily, one subsystem at a time, and
 * reference counted here: the first window initialises SDL video, the last one
 * closed quits it, likewise audio; when nothing is open any more SDL_Quit()
 * releases what SDL still holds.  SDL's own SIGINT/SIGTERM handlers are
 * switched off (the programs handle signals themselves).
 *
 * The window shows I420 pictures through a streaming IYUV texture scaled
 * to the window (aspect kept), and pumps window events on every picture.
 * The speaker and the microphone use SDL's queue API (no callback thread
 * of ours): 48 kHz mono signed 16-bit, 20 ms frames.  Both bound their
 * queues so that latency cannot grow without limit when one side runs
 * faster than the sound card.
 *
 * Failure sentences go to *err_msg (a thread-local buffer, valid until the
 * next open from the same thread).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hotline/devices.h"

static _Thread_local char sdl_msg[512];

static void say(const char **err_msg, const char *fmt, ...) HL_PRINTF(2, 3);

static void say(const char **err_msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sdl_msg, sizeof(sdl_msg), fmt, ap);
	va_end(ap);
	if (err_msg)
		*err_msg = sdl_msg;
}

#ifdef HL_HAVE_SDL

#include <dlfcn.h>
#include <pthread.h>

#include <SDL.h>

#define SDL_LIBRARY "libSDL2-2.0.so.0"

/* The SDL functions we call, looked up in the library when it loads. */
#define SDL_FUNCTIONS(X)        \
	X(GetError)             \
	X(SetHint)              \
	X(InitSubSystem)        \
	X(QuitSubSystem)        \
	X(Quit)                 \
	X(CreateWindow)         \
	X(GetWindowID)          \
	X(CreateRenderer)       \
	X(CreateTexture)        \
	X(DestroyTexture)       \
	X(DestroyRenderer)      \
	X(DestroyWindow)        \
	X(RenderSetLogicalSize) \
	X(PollEvent)            \
	X(UpdateYUVTexture)     \
	X(SetRenderDrawColor)   \
	X(RenderClear)          \
	X(RenderCopy)           \
	X(RenderPresent)        \
	X(OpenAudioDevice)      \
	X(PauseAudioDevice)     \
	X(CloseAudioDevice)     \
	X(QueueAudio)           \
	X(GetQueuedAudioSize)   \
	X(DequeueAudio)

static struct {
#define SDL_POINTER(name) __typeof__(SDL_##name) *name;
	SDL_FUNCTIONS(SDL_POINTER)
#undef SDL_POINTER
} sdl;

#define RATE	       48000
#define FRAME_BYTES    (HL_AUDIO_FRAME_SAMPLES * 2)
#define SPEAKER_MAX_MS 400 /* frames beyond this are dropped */
#define MIC_MAX_FRAMES 10  /* older captured frames are dropped */

static pthread_mutex_t sdl_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned video_users, audio_users;
static bool sdl_loaded;
static char sdl_load_error[300]; /* why it did not load */

/* Load libSDL2 and look up its functions, once; under sdl_lock. */
static int sdl_load(void)
{
	void *lib;

	if (sdl_loaded)
		return 0;
	lib = dlopen(SDL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(sdl_load_error, sizeof(sdl_load_error),
			 "SDL2 cannot be loaded (%s; install libsdl2-2.0-0)",
			 dlerror());
		return HL_EUNSUPPORTED;
	}
#define SDL_LOOKUP(name)                                                  \
	sdl.name = (__typeof__(sdl.name))dlsym(lib, "SDL_" #name);        \
	if (!sdl.name) {                                                  \
		snprintf(sdl_load_error, sizeof(sdl_load_error),          \
			 "%s lacks SDL_%s: SDL 2.0.5 or later is needed", \
			 SDL_LIBRARY, #name);                             \
		dlclose(lib);                                             \
		return HL_EUNSUPPORTED;                                   \
	}
	SDL_FUNCTIONS(SDL_LOOKUP)
#undef SDL_LOOKUP
	sdl_loaded = true; /* never unloaded: SDL may keep threads */
	return 0;
}

/* What went wrong, after a failed sdl_get() or SDL call: a copy for this
 * thread, taken under the lock (another thread may be loading). */
static const char *sdl_error(void)
{
	static _Thread_local char copy[sizeof(sdl_load_error)];

	pthread_mutex_lock(&sdl_lock);
	snprintf(copy, sizeof(copy), "%s",
		 sdl_loaded ? sdl.GetError() : sdl_load_error);
	pthread_mutex_unlock(&sdl_lock);
	return copy;
}

bool hl_sdl_available(void)
{
	int err;

	pthread_mutex_lock(&sdl_lock);
	err = sdl_load();
	pthread_mutex_unlock(&sdl_lock);
	return err == 0;
}

/* Take a reference on an SDL subsystem, loading SDL and initialising the
 * subsystem if first. */
static int sdl_get(Uint32 flag)
{
	unsigned *users = flag == SDL_INIT_VIDEO ? &video_users : &audio_users;
	int err;

	pthread_mutex_lock(&sdl_lock);
	err = sdl_load();
	if (!err && *users == 0) {
		sdl.SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
		if (sdl.InitSubSystem(flag) != 0)
			err = HL_EIO;
	}
	if (!err)
		(*users)++;
	pthread_mutex_unlock(&sdl_lock);
	return err;
}

static void sdl_put(Uint32 flag)
{
	unsigned *users = flag == SDL_INIT_VIDEO ? &video_users : &audio_users;

	pthread_mutex_lock(&sdl_lock);
	if (*users && --*users == 0) {
		sdl.QuitSubSystem(flag);
		if (video_users == 0 && audio_users == 0)
			sdl.Quit();
	}
	pthread_mutex_unlock(&sdl_lock);
}

/* ---- window ---------------------------------------------------------- */

struct hl_window {
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	int tex_w, tex_h;
	Uint32 id;
	bool closed;
};

static int make_texture(struct hl_window *w, int width, int height)
{
	if (w->tex)
		sdl.DestroyTexture(w->tex);
	w->tex = sdl.CreateTexture(w->ren, SDL_PIXELFORMAT_IYUV,
				   SDL_TEXTUREACCESS_STREAMING, width, height);
	if (!w->tex)
		return HL_EIO;
	w->tex_w = width;
	w->tex_h = height;
	/* Letterbox: the picture keeps its aspect in any window size. */
	if (sdl.RenderSetLogicalSize(w->ren, width, height) != 0)
		return HL_EIO;
	return 0;
}

int hl_window_open(struct hl_window **out, const char *title, int width,
		   int height, const char **err_msg)
{
	struct hl_window *w;
	int err;

	if (!out || width < 2 || height < 2 || width > HL_VIDEO_MAX_DIM ||
	    height > HL_VIDEO_MAX_DIM) {
		say(err_msg, "invalid window size %dx%d", width, height);
		return HL_EINVAL;
	}
	err = sdl_get(SDL_INIT_VIDEO);
	if (err == HL_EUNSUPPORTED) {
		say(err_msg, "cannot open a window: %s", sdl_error());
		return err;
	}
	if (err) {
		say(err_msg,
		    "cannot open a window: %s (no display? check that $DISPLAY "
		    "or $WAYLAND_DISPLAY is set, or set SDL_VIDEODRIVER)",
		    sdl_error());
		return HL_EIO;
	}
	w = hl_calloc(1, sizeof(*w));
	if (!w) {
		sdl_put(SDL_INIT_VIDEO);
		say(err_msg, "out of memory");
		return HL_ENOMEM;
	}
	w->win = sdl.CreateWindow(
		title ? title : "hotline", SDL_WINDOWPOS_UNDEFINED,
		SDL_WINDOWPOS_UNDEFINED, width, height, SDL_WINDOW_RESIZABLE);
	if (!w->win) {
		say(err_msg,
		    "cannot open a window: %s (no display? check $DISPLAY or "
		    "SDL_VIDEODRIVER)",
		    sdl_error());
		goto fail;
	}
	w->id = sdl.GetWindowID(w->win);
	w->ren = sdl.CreateRenderer(w->win, -1, 0);
	if (!w->ren)
		w->ren = sdl.CreateRenderer(w->win, -1, SDL_RENDERER_SOFTWARE);
	if (!w->ren) {
		say(err_msg, "cannot draw in the window: %s", sdl_error());
		goto fail;
	}
	if (make_texture(w, width, height)) {
		say(err_msg, "cannot make a %dx%d picture texture: %s", width,
		    height, sdl_error());
		goto fail;
	}
	*out = w;
	return 0;
fail:
	hl_window_close(w);
	return HL_EIO;
}

/* Handle pending events; true once our window was closed. */
static bool pump(struct hl_window *w)
{
	SDL_Event ev;

	while (sdl.PollEvent(&ev)) {
		if (ev.type == SDL_QUIT)
			w->closed = true;
		else if (ev.type == SDL_WINDOWEVENT &&
			 ev.window.windowID == w->id &&
			 ev.window.event == SDL_WINDOWEVENT_CLOSE)
			w->closed = true;
	}
	return w->closed;
}

int hl_window_show(struct hl_window *w, const struct hl_image *img)
{
	if (pump(w))
		return HL_ESTATE;
	if (!img)
		return 0;
	if ((img->width != w->tex_w || img->height != w->tex_h) &&
	    make_texture(w, img->width, img->height))
		return HL_EIO;
	if (sdl.UpdateYUVTexture(w->tex, NULL, img->plane[0], img->stride[0],
				 img->plane[1], img->stride[1], img->plane[2],
				 img->stride[2]) != 0)
		return HL_EIO;
	sdl.SetRenderDrawColor(w->ren, 0, 0, 0, 255);
	sdl.RenderClear(w->ren);
	if (sdl.RenderCopy(w->ren, w->tex, NULL, NULL) != 0)
		return HL_EIO;
	sdl.RenderPresent(w->ren);
	return 0;
}

void hl_window_close(struct hl_window *w)
{
	if (!w)
		return;
	if (w->tex)
		sdl.DestroyTexture(w->tex);
	if (w->ren)
		sdl.DestroyRenderer(w->ren);
	if (w->win)
		sdl.DestroyWindow(w->win);
	hl_free(w);
	sdl_put(SDL_INIT_VIDEO);
}

/* ---- audio ----------------------------------------------------------- */

/* Open the default playback (capture = 0) or capture device. */
static int open_audio(SDL_AudioDeviceID *dev, int capture, const char *what,
		      const char **err_msg)
{
	SDL_AudioSpec want, have;
	int err;

	err = sdl_get(SDL_INIT_AUDIO);
	if (err == HL_EUNSUPPORTED) {
		say(err_msg, "cannot use the sound system for the %s: %s", what,
		    sdl_error());
		return err;
	}
	if (err) {
		say(err_msg,
		    "cannot use the sound system for the %s: %s (is "
		    "PulseAudio/PipeWire running? SDL_AUDIODRIVER picks the "
		    "driver)",
		    what, sdl_error());
		return HL_EIO;
	}
	memset(&want, 0, sizeof(want));
	want.freq = RATE;
	want.format = AUDIO_S16SYS;
	want.channels = 1;
	want.samples = 480;   /* 10 ms device period */
	want.callback = NULL; /* queue API */
	/* No allowed changes: SDL converts to and from our format. */
	*dev = sdl.OpenAudioDevice(NULL, capture, &want, &have, 0);
	if (*dev == 0) {
		say(err_msg,
		    "no %s: %s (check that a sound device exists, e.g. "
		    "`%s -l`, and that PulseAudio/PipeWire is running)",
		    what, sdl_error(), capture ? "arecord" : "aplay");
		sdl_put(SDL_INIT_AUDIO);
		return HL_EIO;
	}
	sdl.PauseAudioDevice(*dev, 0);
	return 0;
}

struct hl_speaker {
	SDL_AudioDeviceID dev;
};

int hl_speaker_open(struct hl_speaker **out, const char **err_msg)
{
	struct hl_speaker *s = hl_calloc(1, sizeof(*s));
	int err;

	if (!s) {
		say(err_msg, "out of memory");
		return HL_ENOMEM;
	}
	err = open_audio(&s->dev, 0, "speaker", err_msg);
	if (err) {
		hl_free(s);
		return err;
	}
	*out = s;
	return 0;
}

int hl_speaker_play(struct hl_speaker *s,
		    const int16_t pcm[HL_AUDIO_FRAME_SAMPLES])
{
	/* A backlog beyond SPEAKER_MAX_MS is latency nobody wants. */
	if (hl_speaker_queued_ms(s) > SPEAKER_MAX_MS)
		return HL_EFULL;
	return sdl.QueueAudio(s->dev, pcm, FRAME_BYTES) == 0 ? 0 : HL_EIO;
}

unsigned hl_speaker_queued_ms(const struct hl_speaker *s)
{
	return sdl.GetQueuedAudioSize(s->dev) / (2 * RATE / 1000);
}

void hl_speaker_close(struct hl_speaker *s)
{
	if (!s)
		return;
	sdl.CloseAudioDevice(s->dev);
	hl_free(s);
	sdl_put(SDL_INIT_AUDIO);
}

struct hl_mic {
	SDL_AudioDeviceID dev;
};

int hl_mic_open(struct hl_mic **out, const char **err_msg)
{
	struct hl_mic *m = hl_calloc(1, sizeof(*m));
	int err;

	if (!m) {
		say(err_msg, "out of memory");
		return HL_ENOMEM;
	}
	err = open_audio(&m->dev, 1, "microphone", err_msg);
	if (err) {
		hl_free(m);
		return err;
	}
	*out = m;
	return 0;
}

int hl_mic_read(struct hl_mic *m, int16_t pcm[HL_AUDIO_FRAME_SAMPLES])
{
	Uint32 q = sdl.GetQueuedAudioSize(m->dev);

	/* A reader that fell behind skips to the recent sound. */
	while (q >= (MIC_MAX_FRAMES + 1) * FRAME_BYTES) {
		if (sdl.DequeueAudio(m->dev, pcm, FRAME_BYTES) != FRAME_BYTES)
			return HL_EIO;
		q -= FRAME_BYTES;
	}
	if (q < FRAME_BYTES)
		return HL_EAGAIN;
	if (sdl.DequeueAudio(m->dev, pcm, FRAME_BYTES) != FRAME_BYTES)
		return HL_EIO;
	return 0;
}

void hl_mic_close(struct hl_mic *m)
{
	if (!m)
		return;
	sdl.CloseAudioDevice(m->dev);
	hl_free(m);
	sdl_put(SDL_INIT_AUDIO);
}

#else /* !HL_HAVE_SDL */

#define NO_SDL "this build has no SDL2 (install libsdl2-dev and rebuild)"

bool hl_sdl_available(void)
{
	return false;
}

int hl_window_open(struct hl_window **out, const char *title, int width,
		   int height, const char **err_msg)
{
	say(err_msg, NO_SDL);
	return HL_EUNSUPPORTED;
}

int hl_window_show(struct hl_window *w, const struct hl_image *img)
{
	return HL_EUNSUPPORTED;
}

void hl_window_close(struct hl_window *w)
{
}

int hl_speaker_open(struct hl_speaker **out, const char **err_msg)
{
	say(err_msg, NO_SDL);
	return HL_EUNSUPPORTED;
}

int hl_speaker_play(struct hl_speaker *s,
		    const int16_t pcm[HL_AUDIO_FRAME_SAMPLES])
{
	return HL_EUNSUPPORTED;
}

unsigned hl_speaker_queued_ms(const struct hl_speaker *s)
{
	return 0;
}

void hl_speaker_close(struct hl_speaker *s)
{
}

int hl_mic_open(struct hl_mic **out, const char **err_msg)
{
	say(err_msg, NO_SDL);
	return HL_EUNSUPPORTED;
}

int hl_mic_read(struct hl_mic *m, int16_t pcm[HL_AUDIO_FRAME_SAMPLES])
{
	return HL_EUNSUPPORTED;
}

void hl_mic_close(struct hl_mic *m)
{
}

#endif /* HL_HAVE_SDL */

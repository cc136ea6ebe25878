/*
 * recorder.c - join's recording in a background thread (recorder.h).
 *
 * Two rings allocated up front (the pictures' at the first picture, whose
 * size they take): the call's thread copies into the next free slot; the
 * writer thread writes the oldest slot without holding the lock and frees
 * it only afterwards, so the two never touch the same slot.  The picture
 * file is created by the thread; the sound file is created at open, in the
 * caller's thread, before the call.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "recorder.h"

#define PATH_CAP 4200

struct recorder {
	char video_path[PATH_CAP], audio_path[PATH_CAP];
	int fps;
	struct hl_y4m_writer *y4m; /* the thread's, once created */
	struct hl_wav_writer *wav; /* the thread's after open */

	/* The call's thread sets these at the first picture, before the
	 * first slot is queued. */
	int width, height;
	struct hl_image *slot[RECORDER_QUEUE];
	int16_t (*pcm)[HL_AUDIO_FRAME_SAMPLES]; /* RECORDER_AUDIO_QUEUE */

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* Under mu: */
	size_t vhead, vlen, ahead, alen;
	bool stop;
	int err; /* the first error; writing stops there */
	char why[PATH_CAP + 128];
	struct recorder_counts counts;
};

/* Under mu: keep the first error and its sentence. */
static void note_error(struct recorder *r, int err, const char *path, int en)
{
	if (!err || r->err)
		return;
	r->err = err;
	snprintf(r->why, sizeof(r->why), "cannot write %s: %s", path,
		 en ? strerror(en) : hl_strerror(err));
}

static void *writer_main(void *arg)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		bool failed = r->err != 0;
		int err = 0;

		while (!r->vlen && !r->alen && !r->stop)
			pthread_cond_wait(&r->cond, &r->mu);
		if (!r->vlen && !r->alen)
			break; /* stopping, and everything is written */
		errno = 0;
		if (r->alen) {
			const int16_t *pcm = r->pcm[r->ahead];

			pthread_mutex_unlock(&r->mu);
			if (!failed)
				err = hl_wav_write(r->wav, pcm,
						   HL_AUDIO_FRAME_SAMPLES);
			pthread_mutex_lock(&r->mu);
			note_error(r, err, r->audio_path, errno);
			r->ahead = (r->ahead + 1) % RECORDER_AUDIO_QUEUE;
			r->alen--;
		} else {
			const struct hl_image *img = r->slot[r->vhead];

			pthread_mutex_unlock(&r->mu);
			if (!failed && !r->y4m)
				err = hl_y4m_writer_open(&r->y4m, r->video_path,
							 img->width,
							 img->height, r->fps);
			if (!failed && !err)
				err = hl_y4m_write(r->y4m, img);
			pthread_mutex_lock(&r->mu);
			note_error(r, err, r->video_path, errno);
			r->vhead = (r->vhead + 1) % RECORDER_QUEUE;
			r->vlen--;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int recorder_open(struct recorder **out, const char *video_path,
		  const char *audio_path, int fps, char *why, size_t why_cap)
{
	struct recorder *r;
	sigset_t all, old;
	int err, rc;

	*out = NULL;
	if (strlen(video_path) >= PATH_CAP ||
	    (audio_path && strlen(audio_path) >= PATH_CAP)) {
		snprintf(why, why_cap,
			 "cannot record into %.64s...: the path is too long",
			 video_path);
		return HL_EINVAL;
	}
	r = hl_calloc(1, sizeof(*r));
	if (!r ||
	    !(r->pcm = hl_calloc(RECORDER_AUDIO_QUEUE, sizeof(*r->pcm)))) {
		hl_free(r);
		snprintf(why, why_cap, "out of memory");
		return HL_ENOMEM;
	}
	snprintf(r->video_path, sizeof(r->video_path), "%s", video_path);
	if (audio_path)
		snprintf(r->audio_path, sizeof(r->audio_path), "%s",
			 audio_path);
	r->fps = fps;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (audio_path) {
		errno = 0;
		err = hl_wav_writer_open(&r->wav, audio_path);
		if (err) {
			note_error(r, err, audio_path, errno);
			goto fail;
		}
	}
	/* The thread takes no signals: Ctrl-C is the call's, and a write
	 * it interrupted (EINTR on a pipe or a network file system) would
	 * end the recording. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, writer_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		err = HL_EIO;
		snprintf(r->why, sizeof(r->why),
			 "cannot start the recording's thread: %s",
			 strerror(rc));
		goto fail;
	}
	r->thread_started = true;
	*out = r;
	return 0;
fail:
	snprintf(why, why_cap, "%s", r->why);
	if (recorder_close(r, NULL, NULL, 0)) {
		/* the error that matters is err */
	}
	return err;
}

/* The first picture: its size becomes the recording's. */
static int first_picture(struct recorder *r, const struct hl_image *img)
{
	for (size_t i = 0; i < RECORDER_QUEUE; i++) {
		int err = hl_image_new(&r->slot[i], img->width, img->height);

		if (err) {
			while (i--) {
				hl_image_free(r->slot[i]);
				r->slot[i] = NULL;
			}
			return err;
		}
	}
	r->width = img->width;
	r->height = img->height;
	return 0;
}

int recorder_video(struct recorder *r, const struct hl_image *img)
{
	int err = 0;

	if (!r->width && (err = first_picture(r, img)) != 0)
		return err;
	pthread_mutex_lock(&r->mu);
	if (r->err) {
		err = r->err;
	} else if (img->width != r->width || img->height != r->height) {
		r->counts.video_resized++; /* a Y4M file has one size */
	} else if (r->vlen == RECORDER_QUEUE) {
		r->counts.video_late++;
		err = HL_EAGAIN;
	} else {
		/* The slot is free: the thread only reads slots in the
		 * queue, and this one is not until vlen grows below. */
		struct hl_image *dst =
			r->slot[(r->vhead + r->vlen) % RECORDER_QUEUE];

		pthread_mutex_unlock(&r->mu);
		hl_image_copy(dst, img);
		pthread_mutex_lock(&r->mu);
		r->vlen++;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
	return err;
}

int recorder_audio(struct recorder *r,
		   const int16_t pcm[HL_AUDIO_FRAME_SAMPLES])
{
	int err = 0;

	pthread_mutex_lock(&r->mu);
	if (r->err) {
		err = r->err;
	} else if (!r->wav) {
		err = HL_EINVAL; /* opened without a sound file */
	} else if (r->alen == RECORDER_AUDIO_QUEUE) {
		r->counts.audio_late++;
		err = HL_EAGAIN;
	} else {
		/* Small enough to copy under the lock. */
		memcpy(r->pcm[(r->ahead + r->alen) % RECORDER_AUDIO_QUEUE], pcm,
		       sizeof(r->pcm[0]));
		r->alen++;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
	return err;
}

const char *recorder_error(struct recorder *r)
{
	const char *why;

	pthread_mutex_lock(&r->mu);
	why = r->err ? r->why : NULL;
	pthread_mutex_unlock(&r->mu);
	return why;
}

int recorder_close(struct recorder *r, struct recorder_counts *counts,
		   char *why, size_t why_cap)
{
	int err;

	if (!r)
		return 0;
	if (r->thread_started) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	/* The thread is gone: no lock needed from here. */
	errno = 0;
	if (r->y4m && (err = hl_y4m_writer_close(r->y4m)) != 0)
		note_error(r, HL_EIO, r->video_path, errno);
	errno = 0;
	if (r->wav && (err = hl_wav_writer_close(r->wav)) != 0)
		note_error(r, HL_EIO, r->audio_path, errno);
	err = r->err;
	if (counts)
		*counts = r->counts;
	if (why && why_cap)
		snprintf(why, why_cap, "%s", err ? r->why : "");
	for (size_t i = 0; i < RECORDER_QUEUE; i++)
		hl_image_free(r->slot[i]);
	hl_free(r->pcm);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mu);
	hl_free(r);
	return err;
}

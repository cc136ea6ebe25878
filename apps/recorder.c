/*
 * recorder.c - join's Y4M recording in a background thread (recorder.h).
 *
 * A ring of RECORDER_QUEUE images allocated at open: the call's thread
 * copies a picture into the next free slot; the writer thread writes the
 * oldest slot without holding the lock and frees it only afterwards, so
 * the two never touch the same image.
 */
#include <errno.h>
#include <pthread.h>

#include "recorder.h"

struct recorder {
	struct hl_y4m_writer *w;
	struct hl_image *slot[RECORDER_QUEUE];
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* Under mu: */
	size_t head, len;
	bool stop;
	int err; /* the first write error */
	uint64_t dropped;
};

static void *writer_main(void *arg)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct hl_image *img;
		int err;

		while (!r->len && !r->stop)
			pthread_cond_wait(&r->cond, &r->mu);
		if (!r->len)
			break; /* stopping, and everything is written */
		img = r->slot[r->head];
		pthread_mutex_unlock(&r->mu);
		err = hl_y4m_write(r->w, img);
		pthread_mutex_lock(&r->mu);
		if (err && !r->err)
			r->err = err;
		r->head = (r->head + 1) % RECORDER_QUEUE;
		r->len--;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int recorder_open(struct recorder **out, const char *path, int width,
		  int height, int fps)
{
	struct recorder *r = hl_calloc(1, sizeof(*r));
	int err, saved;

	if (!r)
		return HL_ENOMEM;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
	for (size_t i = 0; i < RECORDER_QUEUE; i++) {
		err = hl_image_new(&r->slot[i], width, height);
		if (err)
			goto fail;
	}
	err = hl_y4m_writer_open(&r->w, path, width, height, fps);
	if (err)
		goto fail;
	if (pthread_create(&r->thread, NULL, writer_main, r) != 0) {
		err = HL_EIO;
		goto fail;
	}
	r->thread_started = true;
	*out = r;
	return 0;
fail:
	saved = errno; /* why the file could not be made */
	if (recorder_close(r)) {
		/* the error that matters is err */
	}
	errno = saved;
	return err;
}

int recorder_push(struct recorder *r, const struct hl_image *img)
{
	int err = 0;

	pthread_mutex_lock(&r->mu);
	if (r->err) {
		err = r->err;
	} else if (r->len == RECORDER_QUEUE) {
		r->dropped++;
		err = HL_EAGAIN;
	} else {
		/* The slot is free: the thread only reads slots in the
		 * queue, and this one is not until len grows below. */
		struct hl_image *dst =
			r->slot[(r->head + r->len) % RECORDER_QUEUE];

		pthread_mutex_unlock(&r->mu);
		hl_image_copy(dst, img);
		pthread_mutex_lock(&r->mu);
		r->len++;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
	return err;
}

uint64_t recorder_dropped(struct recorder *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->mu);
	n = r->dropped;
	pthread_mutex_unlock(&r->mu);
	return n;
}

int recorder_close(struct recorder *r)
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
	err = r->err;
	if (r->w && hl_y4m_writer_close(r->w) && !err)
		err = HL_EIO;
	for (size_t i = 0; i < RECORDER_QUEUE; i++)
		hl_image_free(r->slot[i]);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mu);
	hl_free(r);
	return err;
}

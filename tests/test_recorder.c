/*
 * test_recorder.c - join's background recorder (apps/recorder.h): every
 * picture and sound frame reaches its file when the disk keeps up; a disk
 * that stops (a FIFO nobody reads) costs pictures and sound, counted,
 * never a wait; a disk that fails (/dev/full) or a file that cannot be
 * made is reported with the file's name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../apps/recorder.h"
#include "harness.h"

#define W	    64
#define H	    64
#define HEADER	    "YUV4MPEG2 W64 H64 F30:1 Ip A1:1 C420jpeg\n"
#define FRAME_BYTES (6 + W * H * 3 / 2) /* "FRAME\n" + I420 */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void paint(struct hl_image *img, int n)
{
	for (int p = 0; p < 3; p++) {
		int w = p ? W / 2 : W, h = p ? H / 2 : H;

		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				img->plane[p][(size_t)y * img->stride[p] + x] =
					(uint8_t)(n + p + x + y);
	}
}

/* Push, waiting while the queue is full (the disk here is fast, but the
 * machine may be busy); each wait is a frame counted late. */
static int push_video(struct recorder *r, const struct hl_image *img,
		      long *late)
{
	int err;

	while ((err = recorder_video(r, img)) == HL_EAGAIN) {
		++*late;
		usleep(1000);
	}
	return err;
}

static int push_audio(struct recorder *r, const int16_t *pcm, long *late)
{
	int err;

	while ((err = recorder_audio(r, pcm)) == HL_EAGAIN) {
		++*late;
		usleep(1000);
	}
	return err;
}

static int test_all_written(void)
{
	char dir[] = "/tmp/hl_recorder_XXXXXX", path[64], wav[64], why[256];
	struct hl_image *img = NULL, *other = NULL;
	struct recorder *r = NULL;
	struct recorder_counts cnt;
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	long vlate = 0, alate = 0;
	struct stat st;
	FILE *f;
	uint8_t *want, *got, last[2 * HL_AUDIO_FRAME_SAMPLES];

	HT_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/received.y4m", dir);
	snprintf(wav, sizeof(wav), "%s/received.wav", dir);
	HT_OK(hl_image_new(&img, W, H));
	HT_OK(hl_image_new(&other, W * 2, H));
	HT_OK(recorder_open(&r, path, wav, 30, why, sizeof(why)));
	/* The sound file is there before any picture; the picture file
	 * waits for the first picture (its size is in the header). */
	HT_EQ_INT(stat(wav, &st), 0);
	HT_ASSERT(stat(path, &st) != 0);
	for (int n = 0; n < 60; n++) {
		for (int i = 0; i < HL_AUDIO_FRAME_SAMPLES; i++)
			pcm[i] = (int16_t)(n * 1000 + i - 30000);
		HT_EQ_INT(push_audio(r, pcm, &alate), 0);
		if (n >= 40)
			continue;
		paint(img, n);
		HT_EQ_INT(push_video(r, img, &vlate), 0);
		if (n == 20) /* another size: left out, counted */
			HT_EQ_INT(recorder_video(r, other), 0);
	}
	HT_EQ_INT(recorder_close(r, &cnt, why, sizeof(why)), 0);
	HT_EQ_INT((long)cnt.video_late, vlate);
	HT_EQ_INT((long)cnt.audio_late, alate);
	HT_EQ_INT((long)cnt.video_resized, 1);
	HT_EQ_INT(stat(path, &st), 0);
	HT_EQ_INT((long)st.st_size,
		  (long)(sizeof(HEADER) - 1 + 40 * FRAME_BYTES));
	/* The last picture is the last one pushed, byte for byte. */
	want = malloc(W * H);
	got = malloc(W * H);
	HT_ASSERT(want && got);
	f = fopen(path, "rb");
	HT_ASSERT(f);
	HT_EQ_INT(fseek(f, (long)(st.st_size - W * H * 3 / 2), SEEK_SET), 0);
	HT_EQ_INT((long)fread(got, 1, W * H, f), (long)(W * H));
	fclose(f);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			want[y * W + x] = (uint8_t)(39 + x + y);
	HT_EQ_MEM(got, want, W * H);
	free(want);
	free(got);
	/* Every sound frame, the last one last (16-bit little-endian). */
	HT_EQ_INT(stat(wav, &st), 0);
	HT_EQ_INT((long)st.st_size, 44 + 60 * (long)sizeof(last));
	f = fopen(wav, "rb");
	HT_ASSERT(f);
	HT_EQ_INT(fseek(f, -(long)sizeof(last), SEEK_END), 0);
	HT_EQ_INT((long)fread(last, 1, sizeof(last), f), (long)sizeof(last));
	fclose(f);
	for (int i = 0; i < HL_AUDIO_FRAME_SAMPLES; i++)
		HT_EQ_INT((int16_t)(last[2 * i] | last[2 * i + 1] << 8),
			  (int16_t)(59 * 1000 + i - 30000));
	hl_image_free(img);
	hl_image_free(other);
	unlink(path);
	unlink(wav);
	rmdir(dir);
	return 0;
}

struct drainer {
	int fd;
	size_t total;
	atomic_bool closed; /* recorder_close returned: no writer any more */
};

/* Read the FIFO until the recorder is closed and the FIFO is empty.  A
 * read can also see EOF before the thread opened its end: keep going. */
static void *drain(void *arg)
{
	struct drainer *d = arg;
	uint8_t buf[65536];

	for (;;) {
		bool closed = atomic_load(&d->closed);
		ssize_t n = read(d->fd, buf, sizeof(buf));

		if (n > 0)
			d->total += (size_t)n;
		else if (closed)
			return NULL;
		else
			usleep(1000);
	}
}

static int test_stalled_disk_drops_not_waits(void)
{
	char dir[] = "/tmp/hl_recorder_XXXXXX", path[64], why[256];
	struct hl_image *img = NULL;
	struct recorder *r = NULL;
	struct recorder_counts cnt;
	struct drainer dr = {0};
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES] = {0};
	pthread_t th;
	int rd, cap, queued = 0, flags, bad = 0, full = 0, streak = 0, closed;
	long pushed = 0, dropped = 0, stalled_dropped = 0, adropped = 0;
	double t0;

	HT_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	HT_EQ_INT(mkfifo(path, 0600), 0);
	/* A reader that reads nothing yet: the pipe fills and the writer
	 * thread blocks, as on a stalled disk. */
	rd = open(path, O_RDONLY | O_NONBLOCK);
	HT_ASSERT(rd >= 0);
	cap = fcntl(rd, F_GETPIPE_SZ);
	HT_ASSERT(cap > 4096);
	HT_OK(hl_image_new(&img, W, H));
	HT_OK(recorder_open(&r, path, "/dev/null", 30, why, sizeof(why)));
	/* Feed pictures until the pipe cannot take another 4 KB write (the
	 * size of stdio's buffer): from then on the thread is stuck.  No
	 * assertion may return before the close below, or the thread would
	 * be left blocked. */
	t0 = now_s();
	while (!full && now_s() - t0 < 10) {
		int err = recorder_video(r, img);

		bad += err != 0 && err != HL_EAGAIN;
		pushed++;
		dropped += err == HL_EAGAIN;
		usleep(1000);
		full = ioctl(rd, FIONREAD, &queued) == 0 && queued > cap - 4096;
	}
	/* Now every picture push finds the queue full or filling, and not
	 * one may wait: had one waited for the disk, it would never return.
	 * The thread takes at most the picture it is writing out of the
	 * queue, so at most a queue's worth gets in. */
	for (int i = 0; i < 200; i++) {
		int err = recorder_video(r, img);

		bad += err != 0 && err != HL_EAGAIN;
		pushed++;
		dropped += err == HL_EAGAIN;
		stalled_dropped += err == HL_EAGAIN;
	}
	/* The sound waits behind the stuck picture (one disk, one thread):
	 * once the thread is inside that picture's write, every sound frame
	 * beyond the queue is left out too.  Push until 50 in a row were. */
	t0 = now_s();
	while (streak < 50 && now_s() - t0 < 10) {
		int err = recorder_audio(r, pcm);

		bad += err != 0 && err != HL_EAGAIN;
		adropped += err == HL_EAGAIN;
		streak = err == HL_EAGAIN ? streak + 1 : 0;
		usleep(1000);
	}
	/* The thread made the file at the first picture, so a blocking read
	 * sees no EOF before close.  Let the disk catch up: a reader drains
	 * the FIFO while close writes everything still queued. */
	flags = fcntl(rd, F_GETFL);
	if (fcntl(rd, F_SETFL, flags & ~O_NONBLOCK) != 0)
		bad++;
	dr.fd = rd;
	if (pthread_create(&th, NULL, drain, &dr) != 0)
		abort(); /* cannot unblock the writer: stop here */
	closed = recorder_close(r, &cnt, NULL, 0);
	atomic_store(&dr.closed, true);
	pthread_join(th, NULL);
	HT_EQ_INT(closed, 0);
	close(rd);
	HT_ASSERT(full);
	HT_EQ_INT(bad, 0);
	/* Stuck: at most a queue's worth got in. */
	HT_ASSERT(stalled_dropped >= 200 - RECORDER_QUEUE);
	HT_EQ_INT(streak, 50);
	HT_EQ_INT((long)cnt.video_late, dropped);
	HT_EQ_INT((long)cnt.audio_late, adropped);
	/* Every picture not dropped is in the file. */
	HT_EQ_INT((long)dr.total,
		  (long)(sizeof(HEADER) - 1 +
			 (size_t)(pushed - dropped) * FRAME_BYTES));
	hl_image_free(img);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* Push pictures until the thread's error comes back (at most ~1 s). */
static int push_until_failure(struct recorder *r, const struct hl_image *img)
{
	int err = 0;

	for (int i = 0; i < 1000 && (err == 0 || err == HL_EAGAIN); i++) {
		err = recorder_video(r, img);
		usleep(1000);
	}
	return err;
}

static int test_failing_disk_reported(void)
{
	struct hl_image *img = NULL;
	struct recorder *r = NULL;
	char why[256];
	const char *e;

	HT_OK(hl_image_new(&img, W, H));
	HT_OK(recorder_open(&r, "/dev/full", NULL, 30, why, sizeof(why)));
	HT_ASSERT(recorder_error(r) == NULL);
	/* The header and the first pictures sit in stdio's buffer; the
	 * error comes once it is flushed, within a few pictures. */
	HT_EQ_INT(push_until_failure(r, img), HL_EIO);
	e = recorder_error(r);
	HT_ASSERT(e && strcmp(e, "cannot write /dev/full: No space left on "
				 "device") == 0);
	HT_ASSERT(recorder_close(r, NULL, why, sizeof(why)) != 0);
	HT_ASSERT(strstr(why, "/dev/full"));
	hl_image_free(img);
	return 0;
}

static int test_open_fails(void)
{
	struct hl_image *img = NULL;
	struct recorder *r = NULL;
	char why[256];

	/* The sound file is made at once: its failure is immediate. */
	HT_ASSERT(recorder_open(&r, "/nonexistent/dir/received.y4m",
				"/nonexistent/dir/received.wav", 30, why,
				sizeof(why)) != 0);
	HT_ASSERT(r == NULL);
	HT_ASSERT(strcmp(why, "cannot write /nonexistent/dir/received.wav: "
			      "No such file or directory") == 0);
	HT_EQ_INT(recorder_close(NULL, NULL, NULL, 0), 0);
	/* The picture file is made by the thread: its failure comes back
	 * from a later push, with the file's name. */
	HT_OK(hl_image_new(&img, W, H));
	HT_OK(recorder_open(&r, "/nonexistent/dir/received.y4m", NULL, 30, why,
			    sizeof(why)));
	HT_EQ_INT(recorder_audio(r, (const int16_t[HL_AUDIO_FRAME_SAMPLES]){0}),
		  HL_EINVAL); /* no sound file */
	HT_EQ_INT(push_until_failure(r, img), HL_EIO);
	HT_ASSERT(recorder_close(r, NULL, why, sizeof(why)) != 0);
	HT_ASSERT(strcmp(why, "cannot write /nonexistent/dir/received.y4m: "
			      "No such file or directory") == 0);
	hl_image_free(img);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_all_written),
	HT_TEST(test_stalled_disk_drops_not_waits),
	HT_TEST(test_failing_disk_reported),
	HT_TEST(test_open_fails),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}

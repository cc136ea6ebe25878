/*
 * test_recorder.c - join's background Y4M recorder (apps/recorder.h):
 * every picture reaches the file when the disk keeps up; a disk that
 * stops (a FIFO nobody reads) costs pictures, counted, never a wait; a
 * disk that fails (/dev/full) is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../apps/recorder.h"
#include "harness.h"

#define W	    64
#define H	    64
#define HEADER	    "YUV4MPEG2 W64 H64 F30:1 Ip A1:1 C420jpeg\n"
#define FRAME_BYTES (6 + W * H * 3 / 2) /* "FRAME\n" + I420 */

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

static int test_all_pictures_written(void)
{
	char dir[] = "/tmp/hl_recorder_XXXXXX", path[64];
	struct hl_image *img = NULL;
	struct recorder *r = NULL;
	struct stat st;
	FILE *f;
	uint8_t *want, *got;

	HT_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/received.y4m", dir);
	HT_OK(hl_image_new(&img, W, H));
	HT_OK(recorder_open(&r, path, W, H, 30));
	for (int n = 0; n < 40; n++) {
		int err;

		paint(img, n);
		/* The queue may be full for a moment: wait, as the disk
		 * here is fast, and count nothing lost. */
		while ((err = recorder_push(r, img)) == HL_EAGAIN)
			usleep(1000);
		HT_EQ_INT(err, 0);
	}
	HT_EQ_INT(recorder_close(r), 0);
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
	hl_image_free(img);
	unlink(path);
	rmdir(dir);
	return 0;
}

struct drainer {
	int fd;
	size_t total;
};

static void *drain(void *arg)
{
	struct drainer *d = arg;
	uint8_t buf[65536];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		d->total += (size_t)n;
	return NULL;
}

static int test_stalled_disk_drops_not_waits(void)
{
	char dir[] = "/tmp/hl_recorder_XXXXXX", path[64];
	struct hl_image *img = NULL;
	struct recorder *r = NULL;
	struct drainer dr = {0};
	pthread_t th;
	int rd, dropped = 0, flags;

	HT_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	HT_EQ_INT(mkfifo(path, 0600), 0);
	/* A reader that reads nothing yet: the pipe fills (64 KB, about
	 * ten pictures) and the writer thread blocks, as on a stalled
	 * disk. */
	rd = open(path, O_RDONLY | O_NONBLOCK);
	HT_ASSERT(rd >= 0);
	HT_OK(hl_image_new(&img, W, H));
	HT_OK(recorder_open(&r, path, W, H, 30));
	for (int i = 0; i < 200; i++) {
		int err = recorder_push(r, img);

		HT_ASSERT(err == 0 || err == HL_EAGAIN);
		dropped += err == HL_EAGAIN;
	}
	/* Had a push waited for the disk, it would never have returned:
	 * nobody reads the FIFO yet. */
	HT_ASSERT(dropped >= 200 - RECORDER_QUEUE - 20);
	HT_EQ_INT((long)recorder_dropped(r), (long)dropped);
	/* Let the disk catch up: a reader drains the FIFO while close
	 * writes everything still queued. */
	flags = fcntl(rd, F_GETFL);
	HT_EQ_INT(fcntl(rd, F_SETFL, flags & ~O_NONBLOCK), 0);
	dr.fd = rd;
	HT_EQ_INT(pthread_create(&th, NULL, drain, &dr), 0);
	HT_EQ_INT(recorder_close(r), 0); /* closes the write end: EOF */
	pthread_join(th, NULL);
	close(rd);
	/* Every picture not dropped is in the file. */
	HT_EQ_INT((long)dr.total,
		  (long)(sizeof(HEADER) - 1 +
			 (size_t)(200 - dropped) * FRAME_BYTES));
	hl_image_free(img);
	unlink(path);
	rmdir(dir);
	return 0;
}

static int test_failing_disk_reported(void)
{
	struct hl_image *img = NULL;
	struct recorder *r = NULL;
	int err = 0;

	HT_OK(hl_image_new(&img, W, H));
	HT_OK(recorder_open(&r, "/dev/full", W, H, 30));
	/* The header and the first pictures sit in stdio's buffer; the
	 * error comes once it is flushed, within a few pictures. */
	for (int i = 0; i < 1000 && (err == 0 || err == HL_EAGAIN); i++) {
		err = recorder_push(r, img);
		if (err == HL_EAGAIN)
			usleep(1000);
	}
	HT_EQ_INT(err, HL_EIO);
	HT_ASSERT(recorder_close(r) != 0);
	hl_image_free(img);
	return 0;
}

static int test_open_fails(void)
{
	struct recorder *r = NULL;

	HT_ASSERT(recorder_open(&r, "/nonexistent/dir/received.y4m", W, H,
				30) != 0);
	HT_EQ_INT(errno, ENOENT);
	HT_ASSERT(r == NULL);
	HT_EQ_INT(recorder_close(NULL), 0);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_all_pictures_written),
	HT_TEST(test_stalled_disk_drops_not_waits),
	HT_TEST(test_failing_disk_reported),
	HT_TEST(test_open_fails),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}

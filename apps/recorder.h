/*
 * recorder.h - join's video recording (`--record DIR`), written by a
 * background thread so that the call never waits for the disk.
 *
 * A Y4M file takes about 40 MB a second at 720p30.  Copying that into
 * the page cache costs the writer a fraction of a millisecond a picture,
 * and once the kernel's dirty-page limit is reached (a long call, a slow
 * disk, a small machine) it throttles the writer, whose write() then
 * blocks for as long as the disk needs: in the call's own thread that
 * would delay every picture and sound behind it.  Pictures are copied
 * into a fixed queue of RECORDER_QUEUE images; when the disk falls that
 * far behind, a picture is left out of the file and counted, and the
 * call goes on.
 */
#ifndef HOTLINE_APPS_RECORDER_H
#define HOTLINE_APPS_RECORDER_H

#include "hotline/base.h"
#include "hotline/media.h"

#define RECORDER_QUEUE 16 /* pictures waiting for the disk (0.5 s) */

struct recorder;

/* Create path (a Y4M file of width x height at fps) and the thread.
 * On failure errno says why the file could not be made. */
int recorder_open(struct recorder **out, const char *path, int width,
		  int height, int fps) HL_MUST_CHECK;
/* Queue a copy of img (of the recording's size): 0; HL_EAGAIN when the
 * queue is full (the picture is left out and counted); or the first
 * error the thread met writing (HL_EIO, the file is incomplete). */
int recorder_push(struct recorder *r, const struct hl_image *img) HL_MUST_CHECK;
/* Pictures left out because the disk was behind. */
uint64_t recorder_dropped(struct recorder *r);
/* Write what is queued, stop the thread, close the file: 0, or the
 * first error.  NULL is a no-op. */
int recorder_close(struct recorder *r) HL_MUST_CHECK;

#endif /* HOTLINE_APPS_RECORDER_H */

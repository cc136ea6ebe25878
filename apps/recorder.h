/*
 * recorder.h - join's recording (`--record DIR`): the received pictures
 * (Y4M) and sound (WAV), written by a background thread so that the call
 * never waits for the disk.
 *
 * A Y4M file takes about 40 MB a second at 720p30.  Copying that into
 * the page cache costs the writer a fraction of a millisecond a picture,
 * and once the kernel's dirty-page limit is reached (a long call, a slow
 * disk, a small machine, the last call's recording still being written
 * back) it throttles every writer, whose write() then blocks for as long
 * as the disk needs; creating a file can wait on the file system's
 * journal as well.  In the call's own thread that would delay every
 * picture and sound behind it.  So the call's thread only copies into
 * fixed queues (RECORDER_QUEUE pictures, RECORDER_AUDIO_QUEUE sound
 * frames); the thread creates the picture file at the first picture (the
 * size is in its header) and does all the writing.  When the disk falls
 * that far behind, a picture or a sound frame is left out of the file and
 * counted, and the call goes on; the file is that much shorter, so from
 * there on the two files no longer line up in time.
 */
#ifndef HOTLINE_APPS_RECORDER_H
#define HOTLINE_APPS_RECORDER_H

#include "hotline/base.h"
#include "hotline/media.h"

#define RECORDER_QUEUE	     16	 /* pictures waiting for the disk (0.5 s) */
#define RECORDER_AUDIO_QUEUE 100 /* 20 ms sound frames (2 s) */

struct recorder;

struct recorder_counts {
	uint64_t video_late;	/* pictures left out: the disk was behind */
	uint64_t video_resized; /* pictures of another size than the first */
	uint64_t audio_late;	/* sound frames left out */
};

/*
 * Start recording: video_path is created (replacing a file there) by the
 * thread at the first picture; audio_path (NULL: no sound) is created now
 * with its header, so that a folder we cannot write to fails before the
 * call (a disk that fills up fails during it, through the pushes).
 * On failure, why holds a sentence naming the file and the reason.
 */
int recorder_open(struct recorder **out, const char *video_path,
		  const char *audio_path, int fps, char *why,
		  size_t why_cap) HL_MUST_CHECK;
/*
 * Queue a copy of img: 0; HL_EAGAIN when the queue is full (left out and
 * counted); or the first error the thread met (HL_EIO: the recording is
 * incomplete; recorder_error says what failed).  A picture of another
 * size than the first is left out, counted, and 0.
 */
int recorder_video(struct recorder *r,
		   const struct hl_image *img) HL_MUST_CHECK;
/* Queue one 20 ms frame of sound; as recorder_video. */
int recorder_audio(struct recorder *r,
		   const int16_t pcm[HL_AUDIO_FRAME_SAMPLES]) HL_MUST_CHECK;
/* The first error as a sentence ("cannot write PATH: REASON"), or NULL. */
const char *recorder_error(struct recorder *r);
/* Write what is queued (this waits for the disk to take up to a queue of
 * each), stop the thread, finish and close the files: 0,
 * or the first error, whose sentence goes to why (both may be NULL, as
 * may counts, which gets what was left out).  NULL is a no-op. */
int recorder_close(struct recorder *r, struct recorder_counts *counts,
		   char *why, size_t why_cap) HL_MUST_CHECK;

#endif /* HOTLINE_APPS_RECORDER_H */

/*
 * fuzz_wav.c - libFuzzer target for the WAV reader (src/media/wav.c).
 *
 * Parses the input as a WAV file from memory and reads up to 64 frames.
 * Invariants: no crash or leak; reading twice (after a rewind) gives the
 * same frames; writing the frames with the WAV writer (to an fmemopen
 * buffer) gives the exact data size in the header, and reading that back
 * gives the same samples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/media.h"
#include "../src/media/media_internal.h"

#define MAX_FRAMES 64

static int16_t frames[MAX_FRAMES][HL_AUDIO_FRAME_SAMPLES];
/* The writer seeks back to fix the header: a fixed fmemopen() buffer
 * supports that (glibc's open_memstream() loses the tail). */
static char out[44 + MAX_FRAMES * HL_AUDIO_FRAME_SAMPLES * 2 + 16];

static void check(const uint8_t *data, size_t size)
{
	struct hl_wav_reader *r = NULL, *r2 = NULL;
	struct hl_wav_writer *w = NULL;
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	size_t out_len;
	int n = 0;
	FILE *f;

	if (hl_wav_reader_open_mem(&r, data, size))
		return;
	if (hl_wav_reader_channels(r) < 1 || hl_wav_reader_channels(r) > 2)
		abort();
	while (n < MAX_FRAMES && hl_wav_read(r, frames[n]) == 0)
		n++;
	if (hl_wav_rewind(r))
		abort();
	for (int i = 0; i < n; i++)
		if (hl_wav_read(r, pcm) ||
		    memcmp(pcm, frames[i], sizeof(pcm)) != 0)
			abort();

	f = fmemopen(out, sizeof(out), "w+");
	if (!f || hl_wav_writer_open_file(&w, f))
		goto out;
	for (int i = 0; i < n; i++)
		if (hl_wav_write(w, frames[i], HL_AUDIO_FRAME_SAMPLES))
			abort();
	if (hl_wav_writer_close(w))
		abort();
	out_len = 44 + (size_t)n * HL_AUDIO_FRAME_SAMPLES * 2;
	if ((uint8_t)out[40] != (uint8_t)(out_len - 44) ||
	    (uint8_t)out[41] != (uint8_t)((out_len - 44) >> 8) ||
	    (uint8_t)out[42] != (uint8_t)((out_len - 44) >> 16) ||
	    hl_wav_reader_open_mem(&r2, (const uint8_t *)out, out_len) ||
	    hl_wav_reader_channels(r2) != 1)
		abort();
	for (int i = 0; i < n; i++)
		if (hl_wav_read(r2, pcm) ||
		    memcmp(pcm, frames[i], sizeof(pcm)) != 0)
			abort();
	if (hl_wav_read(r2, pcm) != HL_EAGAIN)
		abort();
out:
	hl_wav_reader_close(r);
	hl_wav_reader_close(r2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = hl_mem_outstanding();

	check(data, size);
	if (hl_mem_outstanding() != before)
		abort();
	return 0;
}

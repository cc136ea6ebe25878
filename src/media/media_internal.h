/*
 * media_internal.h - private declarations shared by the files of src/media.
 *
 * The Y4M and WAV readers read through struct hl_media_in, which is either
 * a stdio FILE (the public *_open(path) functions) or a caller's memory
 * buffer (the *_open_mem() entry points below, used by the fuzz targets and
 * tests).  The writers can also be opened on a caller's FILE (for example
 * an open_memstream() buffer) so that a fuzz target can check that
 * read -> write -> read gives the same media.
 *
 * Nothing here is part of the public API (include/hotline/media.h).
 */
#ifndef HOTLINE_SRC_MEDIA_INTERNAL_H
#define HOTLINE_SRC_MEDIA_INTERNAL_H

#include <stdio.h>

#include "hotline/media.h"

/* A sequential input: a FILE (owned) or a borrowed memory buffer. */
struct hl_media_in {
	FILE *f;
	const uint8_t *mem;
	size_t len; /* memory only */
	size_t pos; /* memory only */
};

/* Read up to n bytes; returns how many were read (short at end/error). */
size_t hl_media_in_read(struct hl_media_in *in, void *buf, size_t n);
/* Skip n bytes forward; 0, HL_EAGAIN if the input ends first, HL_EIO. */
int hl_media_in_skip(struct hl_media_in *in, uint64_t n);
/* Current offset from the start; HL_EIO on failure. */
int hl_media_in_tell(struct hl_media_in *in, uint64_t *off);
/* Go back to absolute offset off (one seen before); 0 or HL_EIO. */
int hl_media_in_seek(struct hl_media_in *in, uint64_t off);
/* Close the FILE if there is one; the memory buffer is the caller's. */
void hl_media_in_close(struct hl_media_in *in);

/*
 * Open a Y4M reader on len bytes at data (borrowed: they must outlive the
 * reader).  Same contract as hl_y4m_reader_open().
 */
int hl_y4m_reader_open_mem(struct hl_y4m_reader **out, const uint8_t *data,
			   size_t len, int *width, int *height, int *fps_num,
			   int *fps_den) HL_MUST_CHECK;
/*
 * Open a Y4M writer on an open FILE f; the writer owns f from then on
 * (closed by hl_y4m_writer_close(), also on failure of this call).
 */
int hl_y4m_writer_open_file(struct hl_y4m_writer **out, FILE *f, int width,
			    int height, int fps) HL_MUST_CHECK;

/* Open a WAV reader on len borrowed bytes; as hl_wav_reader_open(). */
int hl_wav_reader_open_mem(struct hl_wav_reader **out, const uint8_t *data,
			   size_t len) HL_MUST_CHECK;
/* Channels of the file being read (1 or 2; output is always mono). */
int hl_wav_reader_channels(const struct hl_wav_reader *r);
/*
 * Open a WAV writer on an open, seekable FILE f; the writer owns f from
 * then on (closed by hl_wav_writer_close(), also on failure of this call).
 */
int hl_wav_writer_open_file(struct hl_wav_writer **out, FILE *f) HL_MUST_CHECK;

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xffff), used by the stamp. */
uint16_t hl_media_crc16(const uint8_t *p, size_t len);

#endif /* HOTLINE_SRC_MEDIA_INTERNAL_H */

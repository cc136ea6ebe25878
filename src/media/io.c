/*
 * io.c - the sequential input under the Y4M and WAV readers (a FILE or a
 * memory buffer, see media_internal.h) and the CRC-16 of the test pattern.
 */
#include <string.h>
#include <sys/types.h>

#include "media_internal.h"

size_t hl_media_in_read(struct hl_media_in *in, void *buf, size_t n)
{
	size_t avail;

	if (in->f)
		return fread(buf, 1, n, in->f);
	avail = in->len - in->pos;
	if (n > avail)
		n = avail;
	if (n)
		memcpy(buf, in->mem + in->pos, n);
	in->pos += n;
	return n;
}

int hl_media_in_skip(struct hl_media_in *in, uint64_t n)
{
	uint8_t scratch[4096];

	if (!in->f) {
		if (n > in->len - in->pos) {
			in->pos = in->len;
			return HL_EAGAIN;
		}
		in->pos += (size_t)n;
		return 0;
	}
	if (n <= (uint64_t)INT64_MAX && fseeko(in->f, (off_t)n, SEEK_CUR) == 0)
		return 0;
	/* Not seekable (a pipe): read and discard. */
	while (n > 0) {
		size_t want = n > sizeof(scratch) ? sizeof(scratch) : (size_t)n;
		size_t got = fread(scratch, 1, want, in->f);

		if (got < want)
			return ferror(in->f) ? HL_EIO : HL_EAGAIN;
		n -= got;
	}
	return 0;
}

int hl_media_in_tell(struct hl_media_in *in, uint64_t *off)
{
	off_t o;

	if (!in->f) {
		*off = in->pos;
		return 0;
	}
	o = ftello(in->f);
	if (o < 0)
		return HL_EIO;
	*off = (uint64_t)o;
	return 0;
}

int hl_media_in_seek(struct hl_media_in *in, uint64_t off)
{
	if (!in->f) {
		if (off > in->len)
			return HL_EIO;
		in->pos = (size_t)off;
		return 0;
	}
	if (off > (uint64_t)INT64_MAX || fseeko(in->f, (off_t)off, SEEK_SET))
		return HL_EIO;
	clearerr(in->f);
	return 0;
}

void hl_media_in_close(struct hl_media_in *in)
{
	if (in->f)
		fclose(in->f);
	in->f = NULL;
}

uint16_t hl_media_crc16(const uint8_t *p, size_t len)
{
	uint16_t crc = 0xffff;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)(crc << 1 ^ 0x1021)
					     : (uint16_t)(crc << 1);
	}
	return crc;
}

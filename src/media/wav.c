/*
 * wav.c - WAV (RIFF/WAVE) file source and sink: 16-bit PCM at 48 kHz.
 *
 * Reader: "RIFF" <size> "WAVE", then chunks (id, little-endian 32-bit
 * size, data, a pad byte after odd sizes).  The "fmt " chunk must say PCM
 * (format 1, or WAVE_FORMAT_EXTENSIBLE 0xfffe with the PCM sub-format
 * GUID), 1 or 2 channels, 48000 Hz, 16 bits; other formats are
 * HL_EUNSUPPORTED.  Up to MAX_CHUNKS unknown chunks before "data" are
 * skipped (LIST, fact, ...).  A data size of 0 or 0xffffffff means "until
 * the end of the file" (what a writer that never finished leaves behind,
 * see below); otherwise reading stops at the data size or at end of file,
 * whichever is first.  Each read returns one 20 ms mono frame: stereo is
 * mixed down (average of the channels), a short last frame is padded with
 * zeros.  The reader holds one fixed-size frame buffer; nothing in the
 * file makes it allocate.
 *
 * Writer: 48 kHz mono 16-bit PCM with a 44-byte header.  The header is
 * written first with both sizes set to 0xffffffff ("length unknown, read
 * to the end", which this reader and ffmpeg accept), so a file whose
 * writer died before hl_wav_writer_close() is still playable.  Close
 * seeks back and writes the exact sizes (left at 0xffffffff past 4 GiB,
 * which a 32-bit RIFF size cannot express).
 */
#include <string.h>

#include "media_internal.h"

#define MAX_CHUNKS   64
#define MAX_FMT	     256
#define FRAME_BYTES  (HL_AUDIO_FRAME_SAMPLES * 2 * 2) /* stereo worst case */
#define UNKNOWN_SIZE 0xffffffffu
#define HEADER_BYTES 44

struct hl_wav_reader {
	struct hl_media_in in;
	int channels;
	uint64_t data_start;
	uint64_t data_len; /* UINT64_MAX: until end of file */
	uint64_t data_pos;
	uint8_t buf[FRAME_BYTES];
};

struct hl_wav_writer {
	FILE *f;
	uint64_t data_bytes;
	bool failed;
};

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* KSDATAFORMAT_SUBTYPE_PCM after its first two bytes (0x0001). */
static const uint8_t pcm_guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10,
					  0x00, 0x80, 0x00, 0x00, 0xaa,
					  0x00, 0x38, 0x9b, 0x71};

static int parse_fmt(const uint8_t *f, uint32_t size, int *channels)
{
	uint16_t tag, ch, bits, align;
	uint32_t rate;

	if (size < 16)
		return HL_EPARSE;
	tag = get_le16(f);
	ch = get_le16(f + 2);
	rate = get_le32(f + 4);
	align = get_le16(f + 12);
	bits = get_le16(f + 14);
	if (tag == 0xfffe) {
		/* WAVE_FORMAT_EXTENSIBLE: cbSize >= 22, then valid bits,
		 * channel mask and the sub-format GUID. */
		if (size < 40 || get_le16(f + 16) < 22)
			return HL_EPARSE;
		if (get_le16(f + 24) != 1 ||
		    memcmp(f + 26, pcm_guid_tail, sizeof(pcm_guid_tail)) != 0)
			return HL_EUNSUPPORTED;
	} else if (tag != 1) {
		return HL_EUNSUPPORTED;
	}
	if (ch < 1 || ch > 2 || rate != HL_AUDIO_RATE || bits != 16)
		return HL_EUNSUPPORTED;
	if (align != ch * 2)
		return HL_EPARSE;
	*channels = ch;
	return 0;
}

/* Parse the RIFF header and chunks up to the data; the caller frees r. */
static int reader_start(struct hl_wav_reader *r)
{
	uint8_t hdr[12], fmt[MAX_FMT];
	bool have_fmt = false;
	int err;

	if (hl_media_in_read(&r->in, hdr, 12) != 12 ||
	    memcmp(hdr, "RIFF", 4) != 0 || memcmp(hdr + 8, "WAVE", 4) != 0)
		return HL_EPARSE;
	for (int i = 0; i < MAX_CHUNKS; i++) {
		uint32_t size;

		if (hl_media_in_read(&r->in, hdr, 8) != 8)
			return HL_EPARSE; /* no data chunk */
		size = get_le32(hdr + 4);
		if (memcmp(hdr, "fmt ", 4) == 0) {
			if (have_fmt || size < 16 || size > MAX_FMT)
				return HL_EPARSE;
			if (hl_media_in_read(&r->in, fmt, size) != size)
				return HL_EPARSE;
			err = parse_fmt(fmt, size, &r->channels);
			if (err)
				return err;
			have_fmt = true;
			if ((size & 1) && hl_media_in_skip(&r->in, 1))
				return HL_EPARSE;
		} else if (memcmp(hdr, "data", 4) == 0) {
			if (!have_fmt)
				return HL_EPARSE;
			r->data_len = (size == 0 || size == UNKNOWN_SIZE)
					      ? UINT64_MAX
					      : size;
			r->data_pos = 0;
			return hl_media_in_tell(&r->in, &r->data_start);
		} else {
			err = hl_media_in_skip(&r->in,
					       (uint64_t)size + (size & 1));
			if (err)
				return err == HL_EIO ? HL_EIO : HL_EPARSE;
		}
	}
	return HL_EPARSE; /* too many chunks before the data */
}

int hl_wav_reader_open(struct hl_wav_reader **out, const char *path)
{
	struct hl_wav_reader *r;
	int err;

	if (!out || !path)
		return HL_EINVAL;
	r = hl_calloc(1, sizeof(*r));
	if (!r)
		return HL_ENOMEM;
	r->in.f = fopen(path, "rb");
	if (!r->in.f) {
		hl_free(r);
		return HL_EIO;
	}
	err = reader_start(r);
	if (err) {
		hl_wav_reader_close(r);
		return err;
	}
	*out = r;
	return 0;
}

int hl_wav_reader_open_mem(struct hl_wav_reader **out, const uint8_t *data,
			   size_t len)
{
	struct hl_wav_reader *r;
	int err;

	if (!out || (!data && len))
		return HL_EINVAL;
	r = hl_calloc(1, sizeof(*r));
	if (!r)
		return HL_ENOMEM;
	r->in.mem = data;
	r->in.len = len;
	err = reader_start(r);
	if (err) {
		hl_wav_reader_close(r);
		return err;
	}
	*out = r;
	return 0;
}

int hl_wav_reader_channels(const struct hl_wav_reader *r)
{
	return r->channels;
}

int hl_wav_read(struct hl_wav_reader *r, int16_t pcm[HL_AUDIO_FRAME_SAMPLES])
{
	size_t block, want, got, n;

	if (!r || !pcm)
		return HL_EINVAL;
	block = (size_t)r->channels * 2;
	want = HL_AUDIO_FRAME_SAMPLES * block;
	if (r->data_len != UINT64_MAX && r->data_len - r->data_pos < want)
		want = (size_t)(r->data_len - r->data_pos) / block * block;
	got = want ? hl_media_in_read(&r->in, r->buf, want) : 0;
	if (got < want && r->in.f && ferror(r->in.f))
		return HL_EIO;
	n = got / block;
	if (n == 0)
		return HL_EAGAIN;
	r->data_pos += got;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = r->buf + i * block;
		int s = (int16_t)get_le16(p);

		if (r->channels == 2)
			s = (s + (int16_t)get_le16(p + 2)) >> 1;
		pcm[i] = (int16_t)s;
	}
	for (size_t i = n; i < HL_AUDIO_FRAME_SAMPLES; i++)
		pcm[i] = 0;
	return 0;
}

int hl_wav_rewind(struct hl_wav_reader *r)
{
	if (!r)
		return HL_EINVAL;
	r->data_pos = 0;
	return hl_media_in_seek(&r->in, r->data_start);
}

void hl_wav_reader_close(struct hl_wav_reader *r)
{
	if (!r)
		return;
	hl_media_in_close(&r->in);
	hl_free(r);
}

static void make_header(uint8_t h[HEADER_BYTES], uint32_t riff_size,
			uint32_t data_size)
{
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, riff_size);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16);
	put_le16(h + 20, 1);		     /* PCM */
	put_le16(h + 22, 1);		     /* mono */
	put_le32(h + 24, HL_AUDIO_RATE);     /* rate */
	put_le32(h + 28, HL_AUDIO_RATE * 2); /* bytes/s */
	put_le16(h + 32, 2);		     /* block */
	put_le16(h + 34, 16);		     /* bits */
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, data_size);
}

int hl_wav_writer_open_file(struct hl_wav_writer **out, FILE *f)
{
	struct hl_wav_writer *w;
	uint8_t h[HEADER_BYTES];

	if (!f)
		return HL_EINVAL;
	if (!out) {
		fclose(f);
		return HL_EINVAL;
	}
	w = hl_calloc(1, sizeof(*w));
	if (!w) {
		fclose(f);
		return HL_ENOMEM;
	}
	w->f = f;
	make_header(h, UNKNOWN_SIZE, UNKNOWN_SIZE);
	if (fwrite(h, 1, sizeof(h), f) != sizeof(h)) {
		fclose(f);
		hl_free(w);
		return HL_EIO;
	}
	*out = w;
	return 0;
}

int hl_wav_writer_open(struct hl_wav_writer **out, const char *path)
{
	FILE *f;

	if (!out || !path)
		return HL_EINVAL;
	f = fopen(path, "wb");
	if (!f)
		return HL_EIO;
	return hl_wav_writer_open_file(out, f);
}

int hl_wav_write(struct hl_wav_writer *w, const int16_t *pcm, size_t samples)
{
	uint8_t buf[2048];

	if (!w || (!pcm && samples))
		return HL_EINVAL;
	while (samples > 0) {
		size_t n = HL_MIN(samples, sizeof(buf) / 2);

		for (size_t i = 0; i < n; i++)
			put_le16(buf + 2 * i, (uint16_t)pcm[i]);
		if (fwrite(buf, 2, n, w->f) != n) {
			w->failed = true;
			return HL_EIO;
		}
		w->data_bytes += 2 * n;
		pcm += n;
		samples -= n;
	}
	return 0;
}

int hl_wav_writer_close(struct hl_wav_writer *w)
{
	uint8_t h[HEADER_BYTES];
	int err = 0;

	if (!w)
		return HL_EINVAL;
	if (w->data_bytes <= UINT32_MAX - 36) {
		make_header(h, (uint32_t)(36 + w->data_bytes),
			    (uint32_t)w->data_bytes);
		if (fseeko(w->f, 0, SEEK_SET) != 0 ||
		    fwrite(h, 1, sizeof(h), w->f) != sizeof(h))
			err = HL_EIO;
	}
	if (w->failed || ferror(w->f))
		err = HL_EIO;
	if (fclose(w->f) != 0)
		err = HL_EIO;
	hl_free(w);
	return err;
}

/*
 * vp8.c - the VP8 RTP payload format (RFC 7741): the payload descriptor
 * at the start of every packet (§4.2) and the frame header at the start
 * of every frame (§4.3, RFC 6386 §9.1), which the depacketizer uses to
 * spot key frames and their size.  Packetizing and reassembling frames
 * are the caller's (src/jitter, src/core); opaque VP8 data is never
 * decoded here.
 *
 * Descriptor layout (RFC 7741 §4.2), one byte a row:
 *   X R N S R PID(3)          always
 *   I L T K RSV(4)            if X
 *   M PictureID(7)            if I; M = 1 adds a second byte (15 bits)
 *   TL0PICIDX                 if L
 *   TID(2) Y KEYIDX(5)        if T or K (one byte shared by both)
 * Reserved bits are written as 0 and ignored on input.  TID and Y are
 * read only when T is set, KEYIDX only when K is set.
 */
#include <string.h>

#include "hotline/rtp.h"

#define VP8_X		0x80
#define VP8_N		0x20
#define VP8_S		0x10
#define VP8_I		0x80
#define VP8_L		0x40
#define VP8_T		0x20
#define VP8_K		0x10
#define VP8_M		0x80

#define VP8_TAG_LEN	3
#define VP8_KEY_HDR_LEN 10

/*
 * Parse the descriptor at p (len bytes, borrowed) into *d; d->len is the
 * number of descriptor bytes.  HL_EPARSE when a byte announced by a flag
 * is missing.  The descriptor may take the whole input (an empty VP8
 * payload is left for the depacketizer to judge).
 */
int hl_vp8_desc_parse(const uint8_t *p, size_t len, struct hl_vp8_desc *d)
{
	struct hl_vp8_desc r;
	size_t off = 1;

	if (!d)
		return HL_EINVAL;
	if (!p || len < 1)
		return HL_EPARSE;
	memset(&r, 0, sizeof(r));
	r.n = (p[0] & VP8_N) != 0;
	r.s = (p[0] & VP8_S) != 0;
	r.pid = p[0] & 0x07;
	if (p[0] & VP8_X) {
		uint8_t x;

		if (len < 2)
			return HL_EPARSE;
		x = p[1];
		off = 2;
		if (x & VP8_I) {
			if (off >= len)
				return HL_EPARSE;
			r.has_picture_id = true;
			if (p[off] & VP8_M) {
				if (len - off < 2)
					return HL_EPARSE;
				r.picture_id_15 = true;
				r.picture_id = (uint16_t)((p[off] & 0x7f) << 8 |
							  p[off + 1]);
				off += 2;
			} else {
				r.picture_id = p[off] & 0x7f;
				off += 1;
			}
		}
		if (x & VP8_L) {
			if (off >= len)
				return HL_EPARSE;
			r.has_tl0picidx = true;
			r.tl0picidx = p[off++];
		}
		if (x & (VP8_T | VP8_K)) {
			if (off >= len)
				return HL_EPARSE;
			if (x & VP8_T) {
				r.has_tid = true;
				r.tid = p[off] >> 6;
				r.y = (p[off] & 0x20) != 0;
			}
			if (x & VP8_K) {
				r.has_keyidx = true;
				r.keyidx = p[off] & 0x1f;
			}
			off++;
		}
	}
	r.len = off;
	*d = r;
	return 0;
}

/*
 * Write *d at out (cap bytes) and set *len.  The extension byte is
 * written only when some optional field is present.  HL_EINVAL for
 * pid > 7, a picture id too wide for its 7 or 15 bits, tid > 3,
 * keyidx > 31, or y without has_tid; HL_ETOOBIG if cap is too small.
 * d->len is ignored.
 */
int hl_vp8_desc_write(const struct hl_vp8_desc *d, uint8_t *out, size_t cap,
		      size_t *len)
{
	uint8_t buf[6];
	size_t off = 1;
	bool x;

	if (!d || !out || !len)
		return HL_EINVAL;
	if (d->pid > 7 ||
	    (d->has_picture_id &&
	     d->picture_id > (d->picture_id_15 ? 0x7fff : 0x7f)) ||
	    (d->has_tid && d->tid > 3) || (d->has_keyidx && d->keyidx > 31) ||
	    (d->y && !d->has_tid))
		return HL_EINVAL;
	x = d->has_picture_id || d->has_tl0picidx || d->has_tid ||
	    d->has_keyidx;
	buf[0] = (uint8_t)((x ? VP8_X : 0) | (d->n ? VP8_N : 0) |
			   (d->s ? VP8_S : 0) | d->pid);
	if (x) {
		buf[1] = (uint8_t)((d->has_picture_id ? VP8_I : 0) |
				   (d->has_tl0picidx ? VP8_L : 0) |
				   (d->has_tid ? VP8_T : 0) |
				   (d->has_keyidx ? VP8_K : 0));
		off = 2;
		if (d->has_picture_id) {
			if (d->picture_id_15) {
				buf[off++] =
					(uint8_t)(VP8_M | d->picture_id >> 8);
				buf[off++] = (uint8_t)d->picture_id;
			} else {
				buf[off++] = (uint8_t)d->picture_id;
			}
		}
		if (d->has_tl0picidx)
			buf[off++] = d->tl0picidx;
		if (d->has_tid || d->has_keyidx)
			buf[off++] = (uint8_t)((d->has_tid ? d->tid << 6 : 0) |
					       (d->y ? 0x20 : 0) |
					       (d->has_keyidx ? d->keyidx : 0));
	}
	if (cap < off)
		return HL_ETOOBIG;
	memcpy(out, buf, off);
	*len = off;
	return 0;
}

/*
 * Read the VP8 frame header at the start of a frame (RFC 6386 §9.1;
 * RFC 7741 §4.3): the 3-byte little-endian frame tag (inverted key frame
 * bit, 3-bit version, show_frame, 19-bit first partition size), and for
 * key frames the start code 9d 01 2a and two little-endian 16-bit words
 * holding 14 bits of size and 2 bits of scale.  HL_EPARSE on short input
 * or a wrong start code.  frame is borrowed.
 */
int hl_vp8_frame_info(const uint8_t *frame, size_t len,
		      struct hl_vp8_frame_info *info)
{
	struct hl_vp8_frame_info r;
	uint32_t tag;

	if (!info)
		return HL_EINVAL;
	if (!frame || len < VP8_TAG_LEN)
		return HL_EPARSE;
	memset(&r, 0, sizeof(r));
	tag = (uint32_t)frame[0] | (uint32_t)frame[1] << 8 |
	      (uint32_t)frame[2] << 16;
	r.keyframe = !(tag & 1);
	r.version = (tag >> 1) & 7;
	r.show_frame = (tag >> 4) & 1;
	r.first_part_size = tag >> 5;
	r.header_len = VP8_TAG_LEN;
	if (r.keyframe) {
		uint16_t w, h;

		if (len < VP8_KEY_HDR_LEN || frame[3] != 0x9d ||
		    frame[4] != 0x01 || frame[5] != 0x2a)
			return HL_EPARSE;
		w = (uint16_t)(frame[6] | frame[7] << 8);
		h = (uint16_t)(frame[8] | frame[9] << 8);
		r.width = w & 0x3fff;
		r.hscale = (uint8_t)(w >> 14);
		r.height = h & 0x3fff;
		r.vscale = (uint8_t)(h >> 14);
		r.header_len = VP8_KEY_HDR_LEN;
	}
	*info = r;
	return 0;
}

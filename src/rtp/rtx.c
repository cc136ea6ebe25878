/*
 * rtx.c - the RTX retransmission payload (RFC 4588 §4): the original
 * sequence number (OSN, 2 bytes, network order) followed by the original
 * payload.  The RTX packet's own header (RTX payload type and SSRC, its
 * own sequence number, the original timestamp) is written by the caller
 * with hl_rtp_write_header().
 */
#include <string.h>

#include "hotline/rtp.h"

/*
 * Write osn || payload (len bytes, borrowed) at out (cap bytes) and set
 * *out_len = len + 2.  payload may be NULL when len == 0 (RFC 4588 §4
 * padding-only probes carry no original payload).  HL_ETOOBIG if cap is
 * too small.
 */
int hl_rtx_wrap(uint16_t osn, const uint8_t *payload, size_t len, uint8_t *out,
		size_t cap, size_t *out_len)
{
	if (!out || !out_len || (len && !payload))
		return HL_EINVAL;
	if (cap < 2 || cap - 2 < len)
		return HL_ETOOBIG;
	hl_put_be16(out, osn);
	if (len)
		memmove(out + 2, payload, len);
	*out_len = len + 2;
	return 0;
}

/*
 * Split an RTX payload (borrowed) into the OSN and the original payload
 * (*payload points into rtx_payload).  Fewer than 2 bytes is HL_EPARSE;
 * exactly 2 bytes is a valid RTX packet with an empty original payload.
 */
int hl_rtx_unwrap(const uint8_t *rtx_payload, size_t len, uint16_t *osn,
		  const uint8_t **payload, size_t *payload_len)
{
	if (!osn || !payload || !payload_len)
		return HL_EINVAL;
	if (!rtx_payload || len < 2)
		return HL_EPARSE;
	*osn = hl_get_be16(rtx_payload);
	*payload = rtx_payload + 2;
	*payload_len = len - 2;
	return 0;
}

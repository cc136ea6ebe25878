/*
 * rtcp_priv.h - declarations shared by rtcp.c (compound iteration,
 * RFC 3550 reports) and rtcp_fb.c (RFC 4585 feedback, REMB).  Private to
 * src/rtp.
 */
#ifndef HOTLINE_SRC_RTP_RTCP_PRIV_H
#define HOTLINE_SRC_RTP_RTCP_PRIV_H

#include "hotline/rtp.h"

#define HL_RTCP_HDR_LEN 4

/*
 * Parse the body (after the 4-byte common header, padding removed) of an
 * RTPFB or PSFB packet with format fmt into *out: 0, or HL_EPARSE.  Sets
 * out->type to HL_RTCP_T_OTHER for formats not understood.
 */
int hl_rtcp_parse_rtpfb(uint8_t fmt, const uint8_t *body, size_t len,
			struct hl_rtcp_packet *out);
int hl_rtcp_parse_psfb(uint8_t fmt, const uint8_t *body, size_t len,
		       struct hl_rtcp_packet *out);

/*
 * Write the common header (V = 2, P = 0, count, type, length from total
 * bytes, a multiple of 4 and at most 262144).
 */
void hl_rtcp_put_header(uint8_t *out, uint8_t count, uint8_t type,
			size_t total);

#endif

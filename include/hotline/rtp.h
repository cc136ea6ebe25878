/*
 * hotline/rtp.h - RTP and RTCP wire formats and payload formats.
 *
 * Parsers and writers only; no state machines except the RFC 3550 receive
 * statistics.  Wire-compatible with WebRTC so that a browser can be a peer:
 *  - RTP fixed header, CSRCs, header extensions, padding (RFC 3550 §5.1);
 *  - RTP/RTCP multiplexing on one flow (RFC 5761 §4) and first-byte
 *    demultiplexing of STUN/DTLS/RTP (RFC 7983);
 *  - RTCP SR, RR, SDES (CNAME), BYE (RFC 3550 §6), compound packets;
 *  - generic NACK and PLI (RFC 4585 §6.2.1, §6.3.1), REMB
 *    (draft-alvestrand-rmcat-remb);
 *  - RTX retransmission payload (RFC 4588 §4);
 *  - VP8 payload descriptor and frame header (RFC 7741 §4.2, §4.3);
 *  - Opus payload: one Opus packet per RTP packet (RFC 7587), optionally
 *    wrapped with earlier frames in RFC 2198 redundancy (RED).
 *
 * Every parser takes untrusted bytes, never reads past len, never
 * allocates, and returns HL_EPARSE on anything malformed.
 */
#ifndef HOTLINE_RTP_H
#define HOTLINE_RTP_H

#include "hotline/base.h"

#define HL_RTP_HEADER_MIN 12
#define HL_RTP_MAX_PACKET 1500

/* Payload types hotline offers (WebRTC's customary dynamic values). */
enum {
	HL_PT_RED = 63, /* RFC 2198 audio redundancy (red/48000/2, 111/111) */
	HL_PT_VP8 = 96,
	HL_PT_RTX = 97, /* apt=96 */
	HL_PT_OPUS = 111,
};

/* Clock rates (RFC 7587 §4.1, RFC 7741 §6.1). */
#define HL_OPUS_CLOCK 48000
#define HL_VP8_CLOCK  90000

struct hl_rtp_header {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t csrc_count;
	uint32_t csrc[15];
	/* Header extension (RFC 3550 §5.3.1); ext points into the packet. */
	bool has_ext;
	uint16_t ext_profile;
	const uint8_t *ext; /* ext_len bytes (a multiple of 4) */
	size_t ext_len;
	/* Filled by the parser: */
	size_t header_len;  /* offset of the payload */
	size_t padding_len; /* trailing padding, including its count byte */
};

/*
 * Parse an RTP packet.  On success *payload / *payload_len describe the
 * payload (without padding) inside pkt.
 */
int hl_rtp_parse(const uint8_t *pkt, size_t len, struct hl_rtp_header *h,
		 const uint8_t **payload, size_t *payload_len) HL_MUST_CHECK;

/*
 * Write the header h (version 2, no padding) to out; *len = bytes written.
 * A header extension is written when h->has_ext.
 */
int hl_rtp_write_header(const struct hl_rtp_header *h, uint8_t *out, size_t cap,
			size_t *len) HL_MUST_CHECK;

/* RFC 7983 first-byte demultiplexing. */
enum hl_demux {
	HL_DEMUX_UNKNOWN = 0,
	HL_DEMUX_STUN,
	HL_DEMUX_DTLS,
	HL_DEMUX_RTP,
	HL_DEMUX_RTCP,
};
enum hl_demux hl_demux_classify(const uint8_t *pkt, size_t len);

/* ---- RTCP ------------------------------------------------------------ */

enum {
	HL_RTCP_SR = 200,
	HL_RTCP_RR = 201,
	HL_RTCP_SDES = 202,
	HL_RTCP_BYE = 203,
	HL_RTCP_RTPFB = 205, /* FMT 1: generic NACK */
	HL_RTCP_PSFB = 206,  /* FMT 1: PLI, FMT 15: REMB */
};

#define HL_RTCP_MAX_BLOCKS     31
#define HL_RTCP_MAX_NACK_FCI   64
#define HL_RTCP_MAX_REMB_SSRCS 8
#define HL_RTCP_CNAME_MAX      255

struct hl_rtcp_report_block {
	uint32_t ssrc;
	uint8_t fraction_lost;	 /* fixed point /256 */
	int32_t cumulative_lost; /* 24-bit signed on the wire */
	uint32_t ext_highest_seq;
	uint32_t jitter; /* RTP timestamp units */
	uint32_t lsr;	 /* middle 32 bits of the last SR's NTP time */
	uint32_t dlsr;	 /* 1/65536 s */
};

struct hl_rtcp_sr {
	uint32_t ssrc;
	uint64_t ntp; /* NTP 32.32 fixed point */
	uint32_t rtp_ts;
	uint32_t packet_count;
	uint32_t octet_count;
	uint8_t n_blocks;
	struct hl_rtcp_report_block blocks[HL_RTCP_MAX_BLOCKS];
};

struct hl_rtcp_rr {
	uint32_t ssrc;
	uint8_t n_blocks;
	struct hl_rtcp_report_block blocks[HL_RTCP_MAX_BLOCKS];
};

struct hl_rtcp_sdes {
	uint32_t ssrc;	   /* first chunk only */
	uint8_t cname_len; /* 0 if the first chunk has no CNAME */
	char cname[HL_RTCP_CNAME_MAX + 1];
};

struct hl_rtcp_bye {
	uint8_t n_ssrcs;
	uint32_t ssrcs[31];
};

/* Generic NACK (RFC 4585 §6.2.1): each FCI is a PID and a bitmask BLP. */
struct hl_rtcp_nack {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	uint8_t n_fci;
	bool truncated; /* more FCIs than HL_RTCP_MAX_NACK_FCI were present */
	uint16_t pid[HL_RTCP_MAX_NACK_FCI];
	uint16_t blp[HL_RTCP_MAX_NACK_FCI];
};

struct hl_rtcp_pli {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
};

struct hl_rtcp_remb {
	uint32_t sender_ssrc;
	uint64_t bitrate_bps;
	uint8_t n_ssrcs;
	uint32_t ssrcs[HL_RTCP_MAX_REMB_SSRCS];
};

enum hl_rtcp_type {
	HL_RTCP_T_SR = 1,
	HL_RTCP_T_RR,
	HL_RTCP_T_SDES,
	HL_RTCP_T_BYE,
	HL_RTCP_T_NACK,
	HL_RTCP_T_PLI,
	HL_RTCP_T_REMB,
	HL_RTCP_T_OTHER, /* well-formed but not understood: skip */
};

struct hl_rtcp_packet {
	enum hl_rtcp_type type;
	union {
		struct hl_rtcp_sr sr;
		struct hl_rtcp_rr rr;
		struct hl_rtcp_sdes sdes;
		struct hl_rtcp_bye bye;
		struct hl_rtcp_nack nack;
		struct hl_rtcp_pli pli;
		struct hl_rtcp_remb remb;
	} u;
};

/* Iterator over the packets of a compound RTCP datagram. */
struct hl_rtcp_iter {
	const uint8_t *p;
	size_t left;
};

void hl_rtcp_iter_init(struct hl_rtcp_iter *it, const uint8_t *pkt, size_t len);
/*
 * Next packet of the compound: 0 and *out filled; HL_EAGAIN at the end;
 * HL_EPARSE if the rest is malformed (the iterator then stays at the end).
 */
int hl_rtcp_next(struct hl_rtcp_iter *it,
		 struct hl_rtcp_packet *out) HL_MUST_CHECK;

/*
 * Writers append one RTCP packet at out (cap bytes) and set *len.  Build a
 * compound by writing several back to back.
 */
int hl_rtcp_write_sr(const struct hl_rtcp_sr *sr, uint8_t *out, size_t cap,
		     size_t *len) HL_MUST_CHECK;
int hl_rtcp_write_rr(const struct hl_rtcp_rr *rr, uint8_t *out, size_t cap,
		     size_t *len) HL_MUST_CHECK;
int hl_rtcp_write_sdes_cname(uint32_t ssrc, const char *cname, uint8_t *out,
			     size_t cap, size_t *len) HL_MUST_CHECK;
int hl_rtcp_write_bye(uint32_t ssrc, uint8_t *out, size_t cap,
		      size_t *len) HL_MUST_CHECK;
/*
 * Generic NACK for the given lost sequence numbers (any order, duplicates
 * allowed); packs them into as few FCIs as possible.  HL_ETOOBIG if they
 * do not fit in cap.
 */
int hl_rtcp_write_nack(uint32_t sender_ssrc, uint32_t media_ssrc,
		       const uint16_t *seqs, size_t n, uint8_t *out, size_t cap,
		       size_t *len) HL_MUST_CHECK;
int hl_rtcp_write_pli(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *out,
		      size_t cap, size_t *len) HL_MUST_CHECK;
int hl_rtcp_write_remb(uint32_t sender_ssrc, uint64_t bitrate_bps,
		       const uint32_t *ssrcs, size_t n, uint8_t *out,
		       size_t cap, size_t *len) HL_MUST_CHECK;

/*
 * Expand a NACK into sequence numbers; writes at most cap, returns the
 * number written.
 */
size_t hl_rtcp_nack_seqs(const struct hl_rtcp_nack *n, uint16_t *seqs,
			 size_t cap);

/* NTP 32.32 time from microseconds, and the "middle 32 bits" of it. */
uint64_t hl_ntp_from_us(uint64_t us);
uint64_t hl_ntp_to_us(uint64_t ntp);
static inline uint32_t hl_ntp_mid32(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

/* ---- RFC 3550 receive statistics (Appendix A.1, A.3, A.8) ----------- */

struct hl_rtp_rx_stats {
	bool started;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles; /* shifted count of sequence number cycles */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t probation;
	uint64_t received;
	uint64_t expected_prior;
	uint64_t received_prior;
	uint32_t clock_rate;
	int64_t last_transit;
	bool has_transit;
	double jitter; /* RTP timestamp units */
	/* Last sender report, for LSR/DLSR. */
	uint32_t last_sr_mid32;
	uint64_t last_sr_arrival_us;
	bool has_sr;
};

void hl_rtp_rx_stats_init(struct hl_rtp_rx_stats *s, uint32_t ssrc,
			  uint32_t clock_rate);
/*
 * Account one received packet (before any deduplication).  arrival_us is
 * the receive time; rtp_ts the packet's timestamp.
 */
void hl_rtp_rx_stats_update(struct hl_rtp_rx_stats *s, uint16_t seq,
			    uint32_t rtp_ts, uint64_t arrival_us);
void hl_rtp_rx_stats_on_sr(struct hl_rtp_rx_stats *s, uint64_t ntp,
			   uint64_t now_us);
/* Fill a report block for now (updates the interval counters). */
void hl_rtp_rx_stats_block(struct hl_rtp_rx_stats *s, uint64_t now_us,
			   struct hl_rtcp_report_block *b);
/*
 * Round-trip time from a report block about our stream, received at
 * now_us (RFC 3550 §6.4.1).  HL_EAGAIN if the block holds no LSR.
 */
int hl_rtcp_rtt_us(const struct hl_rtcp_report_block *b, uint64_t now_us,
		   uint64_t *rtt_us) HL_MUST_CHECK;

/* ---- RTX (RFC 4588 §4) ---------------------------------------------- */

/* RTX payload = original sequence number (2 bytes) || original payload. */
int hl_rtx_wrap(uint16_t osn, const uint8_t *payload, size_t len, uint8_t *out,
		size_t cap, size_t *out_len) HL_MUST_CHECK;
int hl_rtx_unwrap(const uint8_t *rtx_payload, size_t len, uint16_t *osn,
		  const uint8_t **payload, size_t *payload_len) HL_MUST_CHECK;

/* ---- RED (RFC 2198) ---------------------------------------------------- */

#define HL_RED_MAX_BLOCKS 8
#define HL_RED_MAX_OFFSET 0x3fff /* 14-bit timestamp offset */
#define HL_RED_MAX_LEN	  0x3ff	 /* 10-bit block length */

struct hl_red_block {
	uint8_t pt;
	uint16_t ts_offset; /* primary timestamp minus this block's */
	const uint8_t *data;
	size_t len;
};

/*
 * RFC 2198 §3: split a RED payload into its blocks, redundant ones first
 * (oldest first) and the primary last (ts_offset 0).  At most cap blocks;
 * HL_EPARSE on anything malformed or more blocks than cap.
 */
int hl_red_parse(const uint8_t *p, size_t len, struct hl_red_block *blocks,
		 size_t cap, size_t *n) HL_MUST_CHECK;
/*
 * Write blocks[0..n-1] (the last one is the primary; its ts_offset is
 * ignored) as a RED payload.  HL_EINVAL if an offset or length does not
 * fit its field.
 */
int hl_red_write(const struct hl_red_block *blocks, size_t n, uint8_t *out,
		 size_t cap, size_t *len) HL_MUST_CHECK;

/* ---- VP8 (RFC 7741) --------------------------------------------------- */

struct hl_vp8_desc {
	bool n;	     /* non-reference frame */
	bool s;	     /* start of a VP8 partition */
	uint8_t pid; /* partition index 0..7 */
	bool has_picture_id;
	uint16_t picture_id; /* 7 or 15 bits */
	bool picture_id_15;  /* M bit: 15-bit picture id */
	bool has_tl0picidx;
	uint8_t tl0picidx;
	bool has_tid;
	uint8_t tid;
	bool y;
	bool has_keyidx;
	uint8_t keyidx;
	size_t len; /* bytes of the descriptor (parse output) */
};

/* RFC 7741 §4.2 payload descriptor. */
int hl_vp8_desc_parse(const uint8_t *p, size_t len,
		      struct hl_vp8_desc *d) HL_MUST_CHECK;
int hl_vp8_desc_write(const struct hl_vp8_desc *d, uint8_t *out, size_t cap,
		      size_t *len) HL_MUST_CHECK;

/* RFC 7741 §4.3 / RFC 6386 §9.1 frame header at the start of a frame. */
#define HL_VP8_KEY_HEADER   10 /* frame tag, start code, sizes */
#define HL_VP8_DELTA_HEADER 3  /* frame tag */

struct hl_vp8_frame_info {
	bool keyframe;
	uint8_t version;
	bool show_frame;
	uint32_t first_part_size;
	uint16_t width, height; /* key frames only */
	uint8_t hscale, vscale;
	size_t header_len; /* 10 for key frames, 3 for delta frames */
};

int hl_vp8_frame_info(const uint8_t *frame, size_t len,
		      struct hl_vp8_frame_info *info) HL_MUST_CHECK;

/*
 * Balanced split of len bytes into packets carrying at most max bytes:
 * returns the number of packets; hl_rtp_split_size() gives the size of
 * packet i (sizes differ by at most one byte, larger ones first).
 */
size_t hl_rtp_split_count(size_t len, size_t max);
size_t hl_rtp_split_size(size_t len, size_t count, size_t i);

#endif /* HOTLINE_RTP_H */

/*
 * test_sdp.c - the SDP writer, parser and answer check
 * (include/hotline/sdp.h, src/sdp/sdp.c).
 *
 * Round trips write → parse on seeded random descriptions; the writer's
 * validation and size limits; hand-written Chrome- and Firefox-style
 * offers (several extmaps, H264/VP9/AV1 with RTX, ssrc lines, msid,
 * trickle); every required element removed in turn, each with its own
 * reason; then hostile text: every truncation and a few thousand random
 * mutations, each parsed from a heap block of exactly its length so that
 * the ASan build catches any read past the end.
 *
 * With HL_SDP_CORPUS=DIR, test_write_corpus writes the samples there
 * (this is how fuzz/corpus/sdp/ was made).
 */
#include <stdlib.h>

#include "harness.h"
#include "hotline/sdp.h"

/* ---- samples ------------------------------------------------------------ */

#define FP_CHROME                                                      \
	"D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:" \
	"3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F"

/*
 * Chrome (M120-ish) after ICE gathering, with candidates in both sections
 * (the video one lacks the TCP candidate).  A real one is often larger
 * than HL_SDP_MAX (more extmaps, codecs and candidates); this one is cut
 * to fit.
 */
static const char chrome_offer[] =
	"v=0\r\n"
	"o=- 4215775240449105457 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0 1\r\n"
	"a=extmap-allow-mixed\r\n"
	"a=msid-semantic: WMS 5d1f8d9a-0c3c-4f3e-9b6d-8a8f1f0b2e11\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=candidate:2365417262 1 udp 2122260223 "
	"1d3bb84d-5a41-4c3b-93c6-5a67e8a29c7f.local 54360 typ host "
	"generation 0 network-id 1 network-cost 10\r\n"
	"a=candidate:3518299330 1 tcp 1518280447 "
	"1d3bb84d-5a41-4c3b-93c6-5a67e8a29c7f.local 9 typ host tcptype "
	"active generation 0 network-id 1 network-cost 10\r\n"
	"a=candidate:842163049 1 udp 1686052607 203.0.113.7 54360 typ "
	"srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1 "
	"network-cost 10\r\n"
	"a=ice-ufrag:EsAw\r\n"
	"a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 " FP_CHROME "\r\n"
	"a=setup:actpass\r\n"
	"a=mid:0\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/"
	"abs-send-time\r\n"
	"a=extmap:3 http://www.ietf.org/id/"
	"draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
	"a=sendrecv\r\n"
	"a=msid:5d1f8d9a-0c3c-4f3e-9b6d-8a8f1f0b2e11 "
	"9a5e3b0c-7f7e-4c56-a3c1-1bd2e4e5f6a7\r\n"
	"a=rtcp-mux\r\n"
	"a=rtcp-rsize\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=rtcp-fb:111 transport-cc\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	"a=rtpmap:63 red/48000/2\r\n"
	"a=fmtp:63 111/111\r\n"
	"a=rtpmap:9 G722/8000\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:13 CN/8000\r\n"
	"a=rtpmap:110 telephone-event/48000\r\n"
	"a=rtpmap:126 telephone-event/8000\r\n"
	"a=ssrc:3907024162 cname:k3c9bGvWEdQ0Cs4q\r\n"
	"a=ssrc:3907024162 msid:5d1f8d9a-0c3c-4f3e-9b6d-8a8f1f0b2e11 "
	"9a5e3b0c-7f7e-4c56-a3c1-1bd2e4e5f6a7\r\n"
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 98 99 45 46 116 117 "
	"118\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=candidate:2365417262 1 udp 2122260223 "
	"1d3bb84d-5a41-4c3b-93c6-5a67e8a29c7f.local 54360 typ host "
	"generation 0 network-id 1 network-cost 10\r\n"
	"a=candidate:842163049 1 udp 1686052607 203.0.113.7 54360 typ "
	"srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1 "
	"network-cost 10\r\n"
	"a=ice-ufrag:EsAw\r\n"
	"a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 " FP_CHROME "\r\n"
	"a=setup:actpass\r\n"
	"a=mid:1\r\n"
	"a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
	"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/"
	"abs-send-time\r\n"
	"a=extmap:3 http://www.ietf.org/id/"
	"draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
	"a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/"
	"playout-delay\r\n"
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
	"a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
	"a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:"
	"repaired-rtp-stream-id\r\n"
	"a=sendrecv\r\n"
	"a=msid:5d1f8d9a-0c3c-4f3e-9b6d-8a8f1f0b2e11 "
	"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b\r\n"
	"a=rtcp-mux\r\n"
	"a=rtcp-rsize\r\n"
	"a=rtpmap:96 VP8/90000\r\n"
	"a=rtcp-fb:96 goog-remb\r\n"
	"a=rtcp-fb:96 transport-cc\r\n"
	"a=rtcp-fb:96 ccm fir\r\n"
	"a=rtcp-fb:96 nack\r\n"
	"a=rtcp-fb:96 nack pli\r\n"
	"a=rtpmap:97 rtx/90000\r\n"
	"a=fmtp:97 apt=96\r\n"
	"a=rtpmap:102 H264/90000\r\n"
	"a=rtcp-fb:102 goog-remb\r\n"
	"a=rtcp-fb:102 transport-cc\r\n"
	"a=rtcp-fb:102 ccm fir\r\n"
	"a=rtcp-fb:102 nack\r\n"
	"a=rtcp-fb:102 nack pli\r\n"
	"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;"
	"profile-level-id=42001f\r\n"
	"a=rtpmap:103 rtx/90000\r\n"
	"a=fmtp:103 apt=102\r\n"
	"a=rtpmap:98 VP9/90000\r\n"
	"a=rtcp-fb:98 goog-remb\r\n"
	"a=rtcp-fb:98 transport-cc\r\n"
	"a=rtcp-fb:98 ccm fir\r\n"
	"a=rtcp-fb:98 nack\r\n"
	"a=rtcp-fb:98 nack pli\r\n"
	"a=fmtp:98 profile-id=0\r\n"
	"a=rtpmap:99 rtx/90000\r\n"
	"a=fmtp:99 apt=98\r\n"
	"a=rtpmap:45 AV1/90000\r\n"
	"a=rtcp-fb:45 goog-remb\r\n"
	"a=rtcp-fb:45 transport-cc\r\n"
	"a=rtcp-fb:45 ccm fir\r\n"
	"a=rtcp-fb:45 nack\r\n"
	"a=rtcp-fb:45 nack pli\r\n"
	"a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
	"a=rtpmap:46 rtx/90000\r\n"
	"a=fmtp:46 apt=45\r\n"
	"a=rtpmap:116 red/90000\r\n"
	"a=rtpmap:117 rtx/90000\r\n"
	"a=fmtp:117 apt=116\r\n"
	"a=rtpmap:118 ulpfec/90000\r\n"
	"a=ssrc-group:FID 2331101568 1434395126\r\n"
	"a=ssrc:2331101568 cname:k3c9bGvWEdQ0Cs4q\r\n"
	"a=ssrc:1434395126 cname:k3c9bGvWEdQ0Cs4q\r\n";

#define FP_FIREFOX                                                     \
	"8B:1C:2E:F5:0A:7D:93:64:AE:0B:4C:51:D2:E8:37:9F:16:C0:5A:8D:" \
	"EE:21:B7:44:09:F3:6A:D5:72:1B:C8:3E"

/*
 * Firefox (115-ish) after gathering: the fingerprint at session level,
 * credentials per section, Opus 109, VP8 120 + RTX 124, H264 126/97.
 * FIREFOX(...) fills in the payload type numbers so that the same text
 * can be tried with the engine's numbers.
 */
#define FIREFOX(OPUS, VP8, RTX, H264B, H264B_RTX)                            \
	"v=0\r\n"                                                            \
	"o=mozilla...THIS_IS_SDPARTA-115.0 7051356282937370129 0 IN IP4 "    \
	"0.0.0.0\r\n"                                                        \
	"s=-\r\n"                                                            \
	"t=0 0\r\n"                                                          \
	"a=fingerprint:sha-256 " FP_FIREFOX "\r\n"                           \
	"a=group:BUNDLE 0 1\r\n"                                             \
	"a=ice-options:trickle\r\n"                                          \
	"a=msid-semantic:WMS *\r\n"                                          \
	"m=audio 9 UDP/TLS/RTP/SAVPF " OPUS " 9 0 8 101\r\n"                 \
	"c=IN IP4 0.0.0.0\r\n"                                               \
	"a=candidate:0 1 UDP 2122252543 192.168.1.30 53012 typ host\r\n"     \
	"a=candidate:1 1 TCP 2105524479 192.168.1.30 9 typ host tcptype "    \
	"active\r\n"                                                         \
	"a=candidate:2 1 UDP 1686052863 198.51.100.9 53012 typ srflx "       \
	"raddr 192.168.1.30 rport 53012\r\n"                                 \
	"a=sendrecv\r\n"                                                     \
	"a=end-of-candidates\r\n"                                            \
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"         \
	"a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:"                    \
	"csrc-audio-level\r\n"                                               \
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                 \
	"a=fmtp:" OPUS " maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n"  \
	"a=fmtp:101 0-15\r\n"                                                \
	"a=ice-pwd:4e8a7c2b1d0f9e3a6b5c4d2e1f0a9b8c\r\n"                     \
	"a=ice-ufrag:6f1b2c3d\r\n"                                           \
	"a=mid:0\r\n"                                                        \
	"a=msid:{7c1d5e2f-3a4b-4c5d-8e9f-0a1b2c3d4e5f} "                     \
	"{1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d}\r\n"                         \
	"a=rtcp-mux\r\n"                                                     \
	"a=rtpmap:" OPUS " opus/48000/2\r\n"                                 \
	"a=rtpmap:9 G722/8000/1\r\n"                                         \
	"a=rtpmap:0 PCMU/8000\r\n"                                           \
	"a=rtpmap:8 PCMA/8000\r\n"                                           \
	"a=rtpmap:101 telephone-event/8000/1\r\n"                            \
	"a=setup:actpass\r\n"                                                \
	"a=ssrc:2542849164 cname:{8d3a1f3e-5b6c-4d7e-9f0a-1b2c3d4e5f6a}\r\n" \
	"m=video 9 UDP/TLS/RTP/SAVPF " VP8 " " RTX " 121 125 " H264B         \
	" " H264B_RTX " 123 122 119\r\n"                                     \
	"c=IN IP4 0.0.0.0\r\n"                                               \
	"a=sendrecv\r\n"                                                     \
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                 \
	"a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/"           \
	"abs-send-time\r\n"                                                  \
	"a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n"                  \
	"a=extmap:6/recvonly http://www.webrtc.org/experiments/"             \
	"rtp-hdrext/playout-delay\r\n"                                       \
	"a=extmap:7 http://www.ietf.org/id/"                                 \
	"draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"             \
	"a=fmtp:" H264B " profile-level-id=42e01f;"                          \
	"level-asymmetry-allowed=1;packetization-mode=1\r\n"                 \
	"a=fmtp:" VP8 " max-fs=12288;max-fr=60\r\n"                          \
	"a=fmtp:" RTX " apt=" VP8 "\r\n"                                     \
	"a=fmtp:121 max-fs=12288;max-fr=60\r\n"                              \
	"a=fmtp:125 apt=121\r\n"                                             \
	"a=fmtp:" H264B_RTX " apt=" H264B "\r\n"                             \
	"a=fmtp:119 apt=122\r\n"                                             \
	"a=ice-pwd:4e8a7c2b1d0f9e3a6b5c4d2e1f0a9b8c\r\n"                     \
	"a=ice-ufrag:6f1b2c3d\r\n"                                           \
	"a=mid:1\r\n"                                                        \
	"a=msid:{7c1d5e2f-3a4b-4c5d-8e9f-0a1b2c3d4e5f} "                     \
	"{2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e}\r\n"                         \
	"a=rtcp-fb:" VP8 " nack\r\n"                                         \
	"a=rtcp-fb:" VP8 " nack pli\r\n"                                     \
	"a=rtcp-fb:" VP8 " ccm fir\r\n"                                      \
	"a=rtcp-fb:" VP8 " goog-remb\r\n"                                    \
	"a=rtcp-fb:" VP8 " transport-cc\r\n"                                 \
	"a=rtcp-fb:121 nack\r\n"                                             \
	"a=rtcp-fb:121 nack pli\r\n"                                         \
	"a=rtcp-fb:121 ccm fir\r\n"                                          \
	"a=rtcp-fb:121 goog-remb\r\n"                                        \
	"a=rtcp-fb:121 transport-cc\r\n"                                     \
	"a=rtcp-fb:" H264B " nack\r\n"                                       \
	"a=rtcp-fb:" H264B " nack pli\r\n"                                   \
	"a=rtcp-fb:" H264B " ccm fir\r\n"                                    \
	"a=rtcp-fb:" H264B " goog-remb\r\n"                                  \
	"a=rtcp-fb:" H264B " transport-cc\r\n"                               \
	"a=rtcp-fb:123 nack\r\n"                                             \
	"a=rtcp-fb:123 nack pli\r\n"                                         \
	"a=rtcp-mux\r\n"                                                     \
	"a=rtcp-rsize\r\n"                                                   \
	"a=rtpmap:" VP8 " VP8/90000\r\n"                                     \
	"a=rtpmap:" RTX " rtx/90000\r\n"                                     \
	"a=rtpmap:121 VP9/90000\r\n"                                         \
	"a=rtpmap:125 rtx/90000\r\n"                                         \
	"a=rtpmap:" H264B " H264/90000\r\n"                                  \
	"a=rtpmap:" H264B_RTX " rtx/90000\r\n"                               \
	"a=rtpmap:123 ulpfec/90000\r\n"                                      \
	"a=rtpmap:122 red/90000\r\n"                                         \
	"a=rtpmap:119 rtx/90000\r\n"                                         \
	"a=setup:actpass\r\n"                                                \
	"a=ssrc:1434395126 cname:{8d3a1f3e-5b6c-4d7e-9f0a-1b2c3d4e5f6a}\r\n" \
	"a=ssrc:2331101568 cname:{8d3a1f3e-5b6c-4d7e-9f0a-1b2c3d4e5f6a}\r\n" \
	"a=ssrc-group:FID 1434395126 2331101568\r\n"

static const char firefox_offer[] = FIREFOX("109", "120", "124", "126", "127");
/* The same with the numbers hotline's engine uses. */
static const char firefox_ours[] = FIREFOX("111", "96", "97", "100", "101");

/* ---- helpers -------------------------------------------------------------- */

/* A heap copy of exactly len bytes (ASan flags any read past it). */
static char *exact(const char *p, size_t len)
{
	char *c = hl_malloc(len ? len : 1);

	if (c && len)
		memcpy(c, p, len);
	return c;
}

/* Parse from an exact heap copy. */
static int parse_exact(const char *p, size_t len, struct hl_sdp *out,
		       const char **why)
{
	char *c = exact(p, len);
	int err;

	if (!c)
		return HL_ENOMEM;
	err = hl_sdp_parse(c, len, out, why);
	hl_free(c);
	return err;
}

static void fill_candidate(char *c, size_t i)
{
	const size_t cap = HL_ICE_CANDIDATE_MAX + 1, f = i + 1, a = i + 10,
		     p = i * 7;

	switch (i % 4) {
	case 0:
		snprintf(c, cap,
			 "candidate:%zu 1 UDP 2015363327 192.168.100.%zu "
			 "5%04zu typ host",
			 f, a, p);
		break;
	case 1:
		snprintf(c, cap,
			 "candidate:%zu 1 UDP 1679819263 203.0.113.%zu 6%04zu "
			 "typ srflx raddr 192.168.100.200 rport 50123",
			 f, a, p);
		break;
	case 2:
		snprintf(c, cap,
			 "candidate:%zu 1 UDP 16777215 198.51.100.%zu 4%04zu "
			 "typ relay raddr 203.0.113.77 rport 61234",
			 f, a, p);
		break;
	default:
		snprintf(c, cap,
			 "candidate:%zu 1 UDP 2015363071 2001:db8:1234:5678:"
			 "9abc:def0:12%02zu:5678 5%04zu typ host",
			 f, a, p);
		break;
	}
}

/* Our kind of description, with n candidates. */
static void make_sdp(struct hl_sdp *s, bool answer, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->session_id = 0x5a5a5a5a12345678ull;
	memcpy(s->cname, "alice", 6);
	memcpy(s->tp.ufrag, "Zx9+", 5);
	memcpy(s->tp.pwd, "p4ssw0rd/p4ssw0rd+abcd", 23);
	for (size_t i = 0; i < HL_DTLS_FP_LEN; i++)
		s->tp.fingerprint[i] = (uint8_t)(0xa0 + 7 * i);
	s->tp.setup = answer ? HL_SETUP_ACTIVE : HL_SETUP_ACTPASS;
	s->tp.n_candidates = n;
	for (size_t i = 0; i < n; i++)
		fill_candidate(s->tp.candidates[i], i);
	s->audio.present = true;
	memcpy(s->audio.mid, "0", 2);
	s->audio.ssrc = 0x11111111;
	s->audio.red = true;
	s->video.present = true;
	memcpy(s->video.mid, "1", 2);
	s->video.ssrc = 0x22222222;
	s->video.rtx_ssrc = 0x33333333;
}

static bool media_eq(const struct hl_sdp_media *a, const struct hl_sdp_media *b)
{
	if (a->present != b->present || strcmp(a->mid, b->mid) != 0)
		return false;
	if (!a->present)
		return true;
	return a->dir == b->dir && a->ssrc == b->ssrc &&
	       a->rtx_ssrc == b->rtx_ssrc && a->red == b->red;
}

static bool sdp_eq(const struct hl_sdp *a, const struct hl_sdp *b)
{
	if (a->session_id != b->session_id || strcmp(a->cname, b->cname) ||
	    strcmp(a->tp.ufrag, b->tp.ufrag) || strcmp(a->tp.pwd, b->tp.pwd) ||
	    memcmp(a->tp.fingerprint, b->tp.fingerprint, HL_DTLS_FP_LEN) ||
	    a->tp.setup != b->tp.setup ||
	    a->tp.n_candidates != b->tp.n_candidates)
		return false;
	for (size_t i = 0; i < a->tp.n_candidates; i++)
		if (strcmp(a->tp.candidates[i], b->tp.candidates[i]))
			return false;
	return media_eq(&a->audio, &b->audio) && media_eq(&a->video, &b->video);
}

static bool why_is(const char *why, const char *want)
{
	if (why && strcmp(why, want) == 0)
		return true;
	fprintf(stderr, "  why: \"%s\", want \"%s\"\n", why ? why : "(null)",
		want);
	return false;
}

/* Copy text without the lines that start with prefix. */
static size_t drop_lines(const char *text, const char *prefix, char *out,
			 size_t cap)
{
	size_t n = 0, plen = strlen(prefix);
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (strncmp(p, prefix, plen) != 0 && n + l < cap) {
			memcpy(out + n, p, l);
			n += l;
		}
		p += l;
	}
	out[n] = '\0';
	return n;
}

/* Copy text with the first occurrence of from replaced by to. */
static size_t replace(const char *text, const char *from, const char *to,
		      char *out, size_t cap)
{
	const char *hit = strstr(text, from);
	int n;

	if (!hit)
		return 0;
	n = snprintf(out, cap, "%.*s%s%s", (int)(hit - text), text, to,
		     hit + strlen(from));
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* ---- writer ---------------------------------------------------------------- */

static int test_write_offer_text(void)
{
	static const char head[] = "v=0\r\no=- 6510615554216449656 2 IN IP4 "
				   "127.0.0.1\r\ns=-\r\nt=0 0\r\n"
				   "a=group:BUNDLE 0 1\r\n"
				   "a=msid-semantic: WMS\r\n"
				   "m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\n";
	struct hl_sdp s;
	char buf[HL_SDP_MAX];
	size_t len = 0;

	make_sdp(&s, false, 1);
	HT_OK(hl_sdp_write(&s, false, buf, sizeof(buf), &len));
	HT_EQ_INT(len, strlen(buf));
	HT_ASSERT(strncmp(buf, head, strlen(head)) == 0);
	HT_ASSERT(strstr(buf, "a=fingerprint:sha-256 A0:A7:AE:B5:"));
	HT_ASSERT(strstr(buf, "a=setup:actpass\r\n"));
	HT_ASSERT(strstr(buf, "a=rtpmap:111 opus/48000/2\r\n"
			      "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
			      "a=rtpmap:63 red/48000/2\r\n"
			      "a=fmtp:63 111/111\r\n"
			      "a=ssrc:286331153 cname:alice\r\n"
			      "a=candidate:1 1 UDP 2015363327 192.168.100.10 "
			      "50000 typ host\r\n"
			      "a=end-of-candidates\r\n"
			      "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"));
	HT_ASSERT(strstr(buf, "a=mid:1\r\na=sendrecv\r\na=rtcp-mux\r\n"
			      "a=rtcp-rsize\r\n"
			      "a=rtpmap:96 VP8/90000\r\n"
			      "a=rtcp-fb:96 goog-remb\r\n"
			      "a=rtcp-fb:96 nack\r\n"
			      "a=rtcp-fb:96 nack pli\r\n"
			      "a=rtcp-fb:96 ccm fir\r\n"
			      "a=rtpmap:97 rtx/90000\r\n"
			      "a=fmtp:97 apt=96\r\n"
			      "a=ssrc-group:FID 572662306 858993459\r\n"
			      "a=ssrc:572662306 cname:alice\r\n"
			      "a=ssrc:858993459 cname:alice\r\n"
			      "a=end-of-candidates\r\n"));
	/* The candidate appears once; every line ends in CRLF. */
	HT_ASSERT(strstr(strstr(buf, "a=candidate:") + 1, "a=candidate:") ==
		  NULL);
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			HT_ASSERT(i > 0 && buf[i - 1] == '\r');
	HT_ASSERT(len >= 2 && buf[len - 1] == '\n');

	/* Without RED, the audio m-line has Opus only. */
	s.audio.red = false;
	HT_OK(hl_sdp_write(&s, false, buf, sizeof(buf), &len));
	HT_ASSERT(strstr(buf, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));
	HT_ASSERT(!strstr(buf, "red/48000"));
	return 0;
}

static int roundtrip(const struct hl_sdp *s, bool answer)
{
	char buf[HL_SDP_MAX];
	size_t len;
	struct hl_sdp back;
	const char *why = NULL;

	HT_OK(hl_sdp_write(s, answer, buf, sizeof(buf), &len));
	HT_OK(parse_exact(buf, len, &back, &why));
	/* The cname travels only on a=ssrc lines. */
	if (!(s->audio.present && s->audio.ssrc) &&
	    !(s->video.present && s->video.ssrc))
		HT_EQ_INT(back.cname[0], '\0');
	else
		HT_ASSERT(strcmp(s->cname, back.cname) == 0);
	memcpy(back.cname, s->cname, sizeof(back.cname));
	HT_ASSERT(sdp_eq(s, &back));
	return 0;
}

static int test_roundtrip(void)
{
	static const size_t counts[] = {0, 1, 16};
	struct hl_prng rng;
	struct hl_sdp s;

	hl_prng_seed(&rng, 11);
	for (size_t k = 0; k < HL_ARRAY_SIZE(counts); k++) {
		for (int answer = 0; answer < 2; answer++) {
			make_sdp(&s, answer, counts[k]);
			HT_ASSERT(roundtrip(&s, answer) == 0);
		}
	}
	/* Random variations: directions, roles, RED, SSRCs, mids, sizes. */
	for (int i = 0; i < 500; i++) {
		bool answer = hl_prng_below(&rng, 2);
		static const char ice[] = "abcXYZ019+/";
		size_t ul = 4 + hl_prng_below(&rng, HL_ICE_UFRAG_MAX - 3);
		size_t pl = 22 + hl_prng_below(&rng, 40);

		make_sdp(&s, answer, hl_prng_below(&rng, 17));
		s.session_id = hl_prng_next(&rng);
		for (size_t j = 0; j < ul; j++)
			s.tp.ufrag[j] = ice[hl_prng_below(&rng, 11)];
		s.tp.ufrag[ul] = '\0';
		for (size_t j = 0; j < pl; j++)
			s.tp.pwd[j] = ice[hl_prng_below(&rng, 11)];
		s.tp.pwd[pl] = '\0';
		for (size_t j = 0; j < HL_DTLS_FP_LEN; j++)
			s.tp.fingerprint[j] = (uint8_t)hl_prng_next(&rng);
		s.tp.setup =
			answer ? (enum hl_dtls_setup)(1 +
						      hl_prng_below(&rng, 2))
			       : (enum hl_dtls_setup)hl_prng_below(&rng, 3);
		s.audio.dir = (enum hl_sdp_dir)hl_prng_below(&rng, 4);
		s.video.dir = (enum hl_sdp_dir)hl_prng_below(&rng, 4);
		s.audio.red = hl_prng_below(&rng, 2);
		s.audio.ssrc = (uint32_t)hl_prng_next(&rng) | 1;
		s.video.ssrc = hl_prng_below(&rng, 4)
				       ? ((uint32_t)hl_prng_next(&rng) | 2)
				       : 0;
		s.video.rtx_ssrc =
			s.video.ssrc ? (uint32_t)hl_prng_next(&rng) & ~3u : 0;
		if (s.video.rtx_ssrc == 0 || s.video.rtx_ssrc == s.video.ssrc)
			s.video.rtx_ssrc = 0;
		if (s.audio.ssrc == s.video.ssrc)
			s.video.ssrc = s.video.rtx_ssrc = 0;
		if (hl_prng_below(&rng, 4) == 0) {
			memcpy(s.audio.mid, "audio-main.x", 13);
			memcpy(s.video.mid, "0123456789abcdef", 17);
		}
		/* One section only (an answer keeps the other as port 0). */
		if (hl_prng_below(&rng, 5) == 0) {
			struct hl_sdp_media *m =
				hl_prng_below(&rng, 2) ? &s.audio : &s.video;

			m->present = false;
			m->ssrc = m->rtx_ssrc = 0;
			m->red = false;
			m->dir = HL_DIR_SENDRECV;
			if (!answer)
				m->mid[0] = '\0';
		}
		HT_ASSERT(roundtrip(&s, answer) == 0);
	}
	return 0;
}

static int test_write_invalid(void)
{
	struct hl_sdp s;
	char buf[HL_SDP_MAX];
	size_t len;

	make_sdp(&s, true, 2);
	s.tp.setup = HL_SETUP_ACTPASS; /* an answer must choose */
	HT_EQ_INT(hl_sdp_write(&s, true, buf, sizeof(buf), &len), HL_EINVAL);
	HT_OK(hl_sdp_write(&s, false, buf, sizeof(buf), &len));

#define BAD(stmt)                                                          \
	do {                                                               \
		make_sdp(&s, false, 2);                                    \
		stmt;                                                      \
		HT_EQ_INT(hl_sdp_write(&s, false, buf, sizeof(buf), &len), \
			  HL_EINVAL);                                      \
	} while (0)
	BAD(s.tp.n_candidates = HL_ICE_MAX_CANDIDATES + 1);
	BAD(memcpy(s.tp.candidates[1],
		   "candidate:1 1 UDP 1 1.2.3.4 5 typ "
		   "host\r\na=setup:passive",
		   54));
	BAD(memcpy(s.tp.candidates[0], "1 1 UDP 1 1.2.3.4 5 typ host", 29));
	BAD(memcpy(s.tp.candidates[0], "candidate:", 11));
	BAD(memset(s.tp.candidates[0], 'c', sizeof(s.tp.candidates[0])));
	BAD(memcpy(s.tp.ufrag, "abc", 4));
	BAD(memcpy(s.tp.ufrag, "ab c", 5));
	BAD(memcpy(s.tp.ufrag, "ab=c", 5));
	BAD(memset(s.tp.ufrag, 'u', sizeof(s.tp.ufrag)));
	BAD(memcpy(s.tp.pwd, "short", 6));
	BAD(memcpy(s.tp.pwd, "0123456789012345678901\n", 24));
	BAD(memset(s.tp.pwd, 'p', sizeof(s.tp.pwd)));
	BAD(s.tp.setup = (enum hl_dtls_setup)3);
	BAD(memcpy(s.cname, "al ice", 7));
	BAD(memcpy(s.cname, "al\tice", 7));
	BAD(s.cname[0] = '\0');
	BAD(memset(s.cname, 'c', sizeof(s.cname)));
	BAD(s.audio.mid[0] = '\0');
	BAD(memcpy(s.video.mid, "0", 2));
	BAD(memcpy(s.video.mid, "a b", 4));
	BAD(memset(s.video.mid, 'm', sizeof(s.video.mid)));
	BAD(s.audio.dir = (enum hl_sdp_dir)4);
	BAD(s.audio.present = s.video.present = false);
	BAD(s.video.ssrc = 0);
	BAD(s.video.rtx_ssrc = s.video.ssrc);
#undef BAD
	/* No SSRCs at all: no cname needed. */
	make_sdp(&s, false, 0);
	s.audio.ssrc = s.video.ssrc = s.video.rtx_ssrc = 0;
	s.cname[0] = '\0';
	HT_OK(hl_sdp_write(&s, false, buf, sizeof(buf), &len));
	HT_ASSERT(!strstr(buf, "a=ssrc"));
	HT_EQ_INT(hl_sdp_write(NULL, false, buf, sizeof(buf), &len), HL_EINVAL);
	HT_EQ_INT(hl_sdp_write(&s, false, NULL, 0, &len), HL_EINVAL);
	return 0;
}

static int test_write_size(void)
{
	struct hl_sdp s;
	static char big[2 * HL_SDP_MAX];
	char buf[HL_SDP_MAX];
	size_t len, need;

	/* The largest credentials and cname, 16 typical candidates: fits. */
	make_sdp(&s, false, HL_ICE_MAX_CANDIDATES);
	memset(s.tp.ufrag, 'U', HL_ICE_UFRAG_MAX);
	memset(s.tp.pwd, 'P', HL_ICE_PWD_MAX);
	memset(s.cname, 'c', sizeof(s.cname) - 1);
	memcpy(s.audio.mid, "0123456789abcdef", 17);
	memcpy(s.video.mid, "fedcba9876543210", 17);
	s.session_id = UINT64_MAX;
	s.audio.ssrc = s.video.ssrc = 4000000000u;
	s.audio.ssrc--;
	s.video.rtx_ssrc = 4000000001u;
	HT_OK(hl_sdp_write(&s, false, buf, sizeof(buf), &len));
	need = len;
	fprintf(stderr, "  largest typical offer: %zu bytes\n", need);
	HT_ASSERT(need < HL_SDP_MAX - 600); /* room for longer candidates */

	/* Every cap below need + 1 is too small; need + 1 is enough. */
	for (size_t cap = 0; cap <= need; cap++)
		HT_EQ_INT(hl_sdp_write(&s, false, buf, cap, &len), HL_ETOOBIG);
	HT_OK(hl_sdp_write(&s, false, buf, need + 1, &len));
	HT_EQ_INT(len, need);

	/* 16 candidates of the largest size: more than HL_SDP_MAX, even in
	 * a bigger buffer. */
	for (size_t i = 0; i < HL_ICE_MAX_CANDIDATES; i++) {
		char *c = s.tp.candidates[i];

		memset(c, 'x', HL_ICE_CANDIDATE_MAX);
		memcpy(c, "candidate:", 10);
		c[HL_ICE_CANDIDATE_MAX] = '\0';
	}
	HT_EQ_INT(hl_sdp_write(&s, false, big, sizeof(big), &len), HL_ETOOBIG);
	/* ... and what is written at HL_SDP_MAX - 1 is still parseable. */
	s.tp.n_candidates = 9;
	HT_OK(hl_sdp_write(&s, false, big, sizeof(big), &len));
	HT_ASSERT(len < HL_SDP_MAX);
	return 0;
}

/* ---- parser: browsers -------------------------------------------------- */

static int test_parse_chrome(void)
{
	struct hl_sdp s;
	const char *why = NULL;
	uint8_t fp[HL_DTLS_FP_LEN];

	HT_OK(parse_exact(chrome_offer, strlen(chrome_offer), &s, &why));
	HT_ASSERT(why == NULL);
	HT_EQ_INT(s.session_id, 4215775240449105457ull);
	HT_ASSERT(strcmp(s.cname, "k3c9bGvWEdQ0Cs4q") == 0);
	HT_ASSERT(strcmp(s.tp.ufrag, "EsAw") == 0);
	HT_ASSERT(strcmp(s.tp.pwd, "bP+XJMM09aR8AiX1jdukzR6Y") == 0);
	HT_EQ_INT(hl_test_unhex("D2FA0EC322595E149569923D13B484242CC2A2C03EFD34"
				"8E5EEA6FAF52CEE60F",
				fp, sizeof(fp)),
		  HL_DTLS_FP_LEN);
	HT_EQ_MEM(s.tp.fingerprint, fp, HL_DTLS_FP_LEN);
	HT_EQ_INT(s.tp.setup, HL_SETUP_ACTPASS);
	/* Same three candidates in both sections: kept once each. */
	HT_EQ_INT(s.tp.n_candidates, 3);
	HT_ASSERT(strncmp(s.tp.candidates[0], "candidate:2365417262 1 udp ",
			  27) == 0);
	HT_ASSERT(strstr(s.tp.candidates[1], "tcptype active generation 0"));
	HT_ASSERT(strcmp(s.tp.candidates[2],
			 "candidate:842163049 1 udp 1686052607 203.0.113.7 "
			 "54360 typ srflx raddr 0.0.0.0 rport 0 generation 0 "
			 "network-id 1 network-cost 10") == 0);
	HT_ASSERT(s.audio.present && strcmp(s.audio.mid, "0") == 0);
	HT_EQ_INT(s.audio.dir, HL_DIR_SENDRECV);
	HT_EQ_INT(s.audio.ssrc, 3907024162u);
	HT_ASSERT(s.audio.red);
	HT_ASSERT(s.video.present && strcmp(s.video.mid, "1") == 0);
	HT_EQ_INT(s.video.ssrc, 2331101568u);
	HT_EQ_INT(s.video.rtx_ssrc, 1434395126u);

	/* LF only, no final newline. */
	{
		static char lf[sizeof(chrome_offer)];
		size_t n = 0;
		struct hl_sdp t;

		for (const char *p = chrome_offer; *p; p++)
			if (*p != '\r')
				lf[n++] = *p;
		HT_OK(parse_exact(lf, n - 1, &t, &why));
		HT_ASSERT(sdp_eq(&s, &t) && strcmp(s.cname, t.cname) == 0);
	}
	return 0;
}

static int test_parse_firefox(void)
{
	struct hl_sdp s;
	const char *why = NULL;

	/* Opus on 109: valid, but not what the engine sends. */
	memset(&s, 0x5c, sizeof(s));
	HT_EQ_INT(parse_exact(firefox_offer, strlen(firefox_offer), &s, &why),
		  HL_EUNSUPPORTED);
	HT_ASSERT(why && strstr(why, "Opus is not on payload type 111"));
	HT_EQ_INT(((uint8_t *)&s)[0], 0x5c); /* untouched */

	HT_OK(parse_exact(firefox_ours, strlen(firefox_ours), &s, &why));
	HT_EQ_INT(s.session_id, 7051356282937370129ull);
	/* Its cname ({uuid}, 38 characters) does not fit: left empty. */
	HT_EQ_INT(s.cname[0], '\0');
	HT_ASSERT(strcmp(s.tp.ufrag, "6f1b2c3d") == 0);
	HT_ASSERT(strcmp(s.tp.pwd, "4e8a7c2b1d0f9e3a6b5c4d2e1f0a9b8c") == 0);
	HT_EQ_INT(s.tp.fingerprint[0], 0x8b); /* from the session level */
	HT_EQ_INT(s.tp.fingerprint[31], 0x3e);
	HT_EQ_INT(s.tp.setup, HL_SETUP_ACTPASS);
	HT_EQ_INT(s.tp.n_candidates, 3);
	HT_ASSERT(strcmp(s.tp.candidates[2],
			 "candidate:2 1 UDP 1686052863 198.51.100.9 53012 typ "
			 "srflx raddr 192.168.1.30 rport 53012") == 0);
	HT_EQ_INT(s.audio.ssrc, 2542849164u);
	HT_ASSERT(!s.audio.red);
	/* The FID group, not the first a=ssrc, gives the video SSRCs. */
	HT_EQ_INT(s.video.ssrc, 1434395126u);
	HT_EQ_INT(s.video.rtx_ssrc, 2331101568u);

	/* VP8 and RTX elsewhere than 96/97. */
	{
		static const char vp8[] =
			FIREFOX("111", "120", "97", "100", "101");
		static const char rtx[] =
			FIREFOX("111", "96", "124", "100", "101");

		HT_EQ_INT(parse_exact(vp8, strlen(vp8), &s, &why),
			  HL_EUNSUPPORTED);
		HT_ASSERT(why && strstr(why, "VP8 is not on payload type 96"));
		HT_EQ_INT(parse_exact(rtx, strlen(rtx), &s, &why),
			  HL_EUNSUPPORTED);
		HT_ASSERT(why && strstr(why, "RTX for VP8 is not on payload "
					     "type 97"));
	}
	return 0;
}

/* ---- parser: what is required ------------------------------------------ */

static int test_parse_missing(void)
{
	static const struct {
		const char *drop; /* lines starting with this are removed */
		const char *why;
	} cases[] = {
		{"v=0", "the description does not start with v=0"},
		{"o=", "no o= line"},
		{"a=group:", "no BUNDLE group holds both the audio and the "
			     "video mid"},
		{"a=fingerprint:", "no DTLS fingerprint"},
		{"a=ice-ufrag:", "no ICE ufrag"},
		{"a=ice-pwd:", "no ICE password"},
		{"a=setup:", "no DTLS setup attribute"},
		{"a=rtcp-mux", "no rtcp-mux in the audio section"},
		{"a=mid:", "the audio section has no mid"},
		{"a=rtpmap:111", "no Opus in the audio section"},
		{"a=rtpmap:96", "no VP8 in the video section"},
		{"a=rtcp-fb:96 nack\r",
		 "the video section has no nack for VP8"},
		{"a=rtcp-fb:96 nack pli",
		 "the video section has no nack pli for VP8"},
		{"a=fmtp:97", "no RTX for VP8 in the video section"},
		{"a=rtpmap:97", "no RTX for VP8 in the video section"},
		{"m=", "no accepted audio or video section"},
	};
	struct hl_sdp s, out;
	char text[HL_SDP_MAX], cut[HL_SDP_MAX];
	size_t len, n;
	const char *why;

	make_sdp(&s, false, 3);
	HT_OK(hl_sdp_write(&s, false, text, sizeof(text), &len));
	for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
		n = drop_lines(text, cases[i].drop, cut, sizeof(cut));
		HT_ASSERT(n < len);
		why = NULL;
		HT_EQ_INT(parse_exact(cut, n, &out, &why), HL_EPARSE);
		if (!why_is(why, cases[i].why)) {
			fprintf(stderr, "  (dropping \"%s\")\n", cases[i].drop);
			return -1;
		}
	}
	/* Same on Chrome's offer, where each element is in both sections. */
	n = drop_lines(chrome_offer, "a=fingerprint:", cut, sizeof(cut));
	HT_EQ_INT(parse_exact(cut, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "no DTLS fingerprint"));
	n = drop_lines(chrome_offer, "a=rtcp-fb:96 nack pli", cut, sizeof(cut));
	HT_EQ_INT(parse_exact(cut, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the video section has no nack pli for VP8"));
	/* "a=rtcp-fb:* nack pli" covers every payload type. */
	n = replace(chrome_offer, "a=rtcp-fb:96 nack pli",
		    "a=rtcp-fb:* nack pli", cut, sizeof(cut));
	HT_ASSERT(n);
	HT_OK(parse_exact(cut, n, &out, &why));
	/* Only a video section (no BUNDLE needed with one section). */
	n = drop_lines(strstr(text, "m=video"), "a=candidate", cut,
		       sizeof(cut));
	{
		char one[HL_SDP_MAX];
		int k = snprintf(one, sizeof(one),
				 "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n%s", cut);

		HT_OK(parse_exact(one, (size_t)k, &out, &why));
		HT_ASSERT(!out.audio.present && out.video.present);
		HT_EQ_INT(out.session_id, 1);
	}
	return 0;
}

static int test_parse_fingerprint(void)
{
	static const struct {
		const char *from, *to;
		int err;
		const char *why;
	} cases[] = {
		/* case-insensitive hex and hash name */
		{"sha-256 A0:A7", "SHA-256 a0:a7", 0, NULL},
		{"sha-256 A0:A7", "sha-256 G0:A7", HL_EPARSE,
		 "the DTLS fingerprint is not 32 colon-separated hex pairs"},
		{"sha-256 A0:A7", "sha-256 A0-A7", HL_EPARSE,
		 "the DTLS fingerprint is not 32 colon-separated hex pairs"},
		{"sha-256 A0:A7", "sha-256 A0A7:", HL_EPARSE,
		 "the DTLS fingerprint is not 32 colon-separated hex pairs"},
		{"sha-256 A0:A7:", "sha-256 A7:", HL_EPARSE,
		 "the DTLS fingerprint is not 32 colon-separated hex pairs"},
		{"sha-256 A0:A7", "sha-256 A0:A7:00", HL_EPARSE,
		 "the DTLS fingerprint is not 32 colon-separated hex pairs"},
		{"sha-256 A0:A7", "sha-256 +0:A7", HL_EPARSE,
		 "the DTLS fingerprint is not 32 colon-separated hex pairs"},
		{"a=fingerprint:sha-256 ", "a=fingerprint:sha-256", HL_EPARSE,
		 "the fingerprint is not sha-256"},
		{"a=fingerprint:sha-256 ", "a=fingerprint:sha-256  ", 0, NULL},
		{"a=fingerprint:sha-256 ", "a=fingerprint:sha-1 ", HL_EPARSE,
		 "the fingerprint is not sha-256"},
		{"a=fingerprint:sha-256 ", "a=fingerprint: \r\nx=", HL_EPARSE,
		 "an empty DTLS fingerprint"},
		/* a sha-1 fingerprint next to the sha-256 one is ignored */
		{"a=setup:", "a=fingerprint:sha-1 00:11\r\na=setup:", 0, NULL},
	};
	struct hl_sdp s, out;
	char text[HL_SDP_MAX], mod[HL_SDP_MAX];
	size_t len, n;
	const char *why;

	make_sdp(&s, false, 1);
	s.video.present = false; /* one section: one fingerprint line */
	s.video.mid[0] = '\0';
	s.video.ssrc = s.video.rtx_ssrc = 0;
	HT_OK(hl_sdp_write(&s, false, text, sizeof(text), &len));
	for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
		n = replace(text, cases[i].from, cases[i].to, mod, sizeof(mod));
		HT_ASSERT(n);
		why = NULL;
		HT_EQ_INT(parse_exact(mod, n, &out, &why), cases[i].err);
		if (cases[i].err)
			HT_ASSERT(why_is(why, cases[i].why));
		else
			HT_EQ_MEM(out.tp.fingerprint, s.tp.fingerprint,
				  HL_DTLS_FP_LEN);
	}
	return 0;
}

static int test_parse_variants(void)
{
	struct hl_sdp s, out;
	static char text[HL_SDP_MAX + 64], mod[2 * HL_SDP_MAX];
	size_t len, n;
	const char *why;

	make_sdp(&s, false, 2);
	HT_OK(hl_sdp_write(&s, false, text, sizeof(text), &len));

	/* Session-level credentials, fingerprint and setup. */
	n = drop_lines(text, "a=ice-", mod, sizeof(mod));
	n = replace(mod, "a=group:",
		    "a=ice-ufrag:Zx9+\r\na=ice-pwd:p4ssw0rd/p4ssw0rd+abcd\r\n"
		    "a=group:",
		    text, sizeof(text));
	HT_ASSERT(n);
	HT_OK(parse_exact(text, n, &out, &why));
	HT_ASSERT(sdp_eq(&s, &out));

	/* The bundled sections must describe one transport. */
	HT_OK(hl_sdp_write(&s, false, text, sizeof(text), &len));
	{
		char *v = strstr(text, "m=video");
		char tail[HL_SDP_MAX];

		n = replace(v, "a=ice-ufrag:Zx9+", "a=ice-ufrag:Zx9/", tail,
			    sizeof(tail));
		HT_ASSERT(n);
		n = (size_t)snprintf(mod, sizeof(mod), "%.*s%s",
				     (int)(v - text), text, tail);
		HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
		HT_ASSERT(why_is(why, "the bundled sections disagree on the "
				      "ICE credentials"));
		n = replace(v, "a=setup:actpass", "a=setup:active", tail,
			    sizeof(tail));
		n = (size_t)snprintf(mod, sizeof(mod), "%.*s%s",
				     (int)(v - text), text, tail);
		HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
		HT_ASSERT(why_is(why, "the bundled sections disagree on the "
				      "DTLS setup"));
	}
	n = replace(text, "a=ice-ufrag:Zx9+", "a=ice-ufrag:Zx9-", mod,
		    sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the ICE ufrag is not 4 to 64 ICE characters"));
	n = replace(text, "a=ice-pwd:p4ssw0rd/", "a=ice-pwd:", mod,
		    sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the ICE password is not 22 to 128 ICE "
			      "characters"));
	n = replace(text, "a=setup:actpass", "a=setup:holdconn", mod,
		    sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the DTLS setup is not actpass, active or "
			      "passive"));

	/* Port 0: a rejected section; with bundle-only: accepted. */
	n = replace(text, "m=video 9 ", "m=video 0 ", mod, sizeof(mod));
	HT_OK(parse_exact(mod, n, &out, &why));
	HT_ASSERT(out.audio.present && !out.video.present);
	HT_ASSERT(strcmp(out.video.mid, "1") == 0 && out.video.ssrc == 0);
	n = replace(text, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n",
		    "m=video 0 UDP/TLS/RTP/SAVPF 96 97\r\na=bundle-only\r\n",
		    mod, sizeof(mod));
	HT_OK(parse_exact(mod, n, &out, &why));
	HT_ASSERT(sdp_eq(&s, &out));
	/* A rejected section needs nothing else. */
	{
		char *v = strstr(text, "m=video");
		int k = snprintf(mod, sizeof(mod),
				 "%.*sm=video 0 UDP/TLS/RTP/SAVPF 96\r\n",
				 (int)(v - text), text);

		HT_OK(parse_exact(mod, (size_t)k, &out, &why));
		HT_ASSERT(!out.video.present && out.video.mid[0] == '\0');
	}

	/* A direction at session level applies to sections without one. */
	n = drop_lines(text, "a=sendrecv", mod, sizeof(mod));
	n = replace(mod, "a=group:", "a=recvonly\r\na=group:", text,
		    sizeof(text));
	HT_OK(parse_exact(text, n, &out, &why));
	HT_EQ_INT(out.audio.dir, HL_DIR_RECVONLY);
	HT_EQ_INT(out.video.dir, HL_DIR_RECVONLY);

	/* RED on another payload type, or with other blocks: not used. */
	HT_OK(hl_sdp_write(&s, false, text, sizeof(text), &len));
	n = replace(text, "a=fmtp:63 111/111", "a=fmtp:63 111/0", mod,
		    sizeof(mod));
	HT_OK(parse_exact(mod, n, &out, &why));
	HT_ASSERT(!out.audio.red);
	n = replace(text, "a=fmtp:63 111/111", "a=fmtp:63 111/111/111", mod,
		    sizeof(mod));
	HT_OK(parse_exact(mod, n, &out, &why));
	HT_ASSERT(out.audio.red);
	n = replace(text, "111 63\r\n", "111 64\r\n", mod, sizeof(mod));
	HT_OK(parse_exact(mod, n, &out, &why));
	HT_ASSERT(!out.audio.red);

	/* Unknown lines and attributes are skipped; a non-RTP section too. */
	n = replace(text, "m=video",
		    "a=x-unknown\r\nb=AS:30\r\na=extmap:9 urn:x\r\n"
		    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
		    "a=mid:2\r\na=ice-ufrag:nope-nope\r\na=setup:bogus\r\n"
		    "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:3\r\n"
		    "m=video",
		    mod, sizeof(mod));
	HT_OK(parse_exact(mod, n, &out, &why));
	HT_ASSERT(sdp_eq(&s, &out));

	/* Not SAVPF; a malformed line; a bad m= line. */
	n = replace(text, "9 UDP/TLS/RTP/SAVPF 111", "9 RTP/AVP 111", mod,
		    sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the audio section is not UDP/TLS/RTP/SAVPF"));
	n = replace(text, "s=-", "s -", mod, sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "a line is not of the form x=value"));
	n = replace(text, "m=audio 9 ", "m=audio 70000 ", mod, sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "an m= line has a bad port"));
	n = replace(text, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "m=audio 9",
		    mod, sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "an m= line is malformed"));
	n = replace(text, "v=0", "v=1", mod, sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the SDP version is not 0"));
	n = replace(text, "o=- 6510615554216449656", "o=- 99999999999999999999",
		    mod, sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the o= line has no numeric session id"));
	n = replace(text, "a=ssrc:286331153", "a=ssrc:4294967296", mod,
		    sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "an a=ssrc line has no 32-bit SSRC"));
	n = replace(text, "a=ssrc:286331153", "a=ssrc:572662306", mod,
		    sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "two streams share one SSRC"));
	n = replace(text, "a=mid:1", "a=mid:0", mod, sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "audio and video have the same mid"));
	n = replace(text, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0", mod,
		    sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	n = replace(text, "a=group:BUNDLE 0 1",
		    "a=group:LS 0 1\r\na=group:BUNDLE 1 0", mod, sizeof(mod));
	HT_OK(parse_exact(mod, n, &out, &why));
	n = replace(text, "a=mid:1", "a=mid:12345678901234567", mod,
		    sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "a mid is not 1 to 16 token characters"));
	n = replace(text, "t=0 0", "t=0 0\r\nv=0", mod, sizeof(mod));
	HT_EQ_INT(parse_exact(mod, n, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "a second v= line"));
	memcpy(mod, text, len);
	mod[40] = '\0';
	HT_EQ_INT(parse_exact(mod, len, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the description contains a NUL byte"));
	HT_EQ_INT(parse_exact("", 0, &out, &why), HL_EPARSE);
	HT_ASSERT(why_is(why, "the description is empty"));
	HT_EQ_INT(parse_exact("\r\n\n", 3, &out, &why), HL_EPARSE);

	/* Too long as a whole. */
	memset(mod, '\n', sizeof(mod));
	memcpy(mod, text, len);
	HT_OK(parse_exact(mod, HL_SDP_MAX, &out, &why));
	HT_EQ_INT(parse_exact(mod, HL_SDP_MAX + 1, &out, &why), HL_ETOOBIG);
	HT_EQ_INT(hl_sdp_parse(NULL, 0, &out, &why), HL_EINVAL);
	HT_EQ_INT(hl_sdp_parse(text, len, NULL, &why), HL_EINVAL);
	HT_OK(hl_sdp_parse(text, len, &out, NULL));
	return 0;
}

static int test_parse_candidates(void)
{
	struct hl_sdp s, out;
	static char text[2 * HL_SDP_MAX], mod[2 * HL_SDP_MAX];
	char line[300];
	size_t len, n;
	int k;
	const char *why;

	make_sdp(&s, false, 4);
	HT_OK(hl_sdp_write(&s, false, text, sizeof(text), &len));

	/* In both sections (and repeated): deduplicated, order kept. */
	n = replace(text, "a=end-of-candidates\r\nm=video",
		    "a=end-of-candidates\r\nm=video", mod, sizeof(mod));
	{
		char *v = strstr(text, "a=rtpmap:96");
		char cands[1024];
		size_t cl = 0;

		for (size_t i = 0; i < 4; i++)
			cl += (size_t)snprintf(cands + cl, sizeof(cands) - cl,
					       "a=%s\r\n",
					       s.tp.candidates[3 - i]);
		k = snprintf(mod, sizeof(mod), "%.*s%s%s", (int)(v - text),
			     text, cands, v);
		HT_OK(parse_exact(mod, (size_t)k, &out, &why));
		HT_ASSERT(sdp_eq(&s, &out));
	}
	/* Component 2, too long, control characters, no value: ignored. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "candidate:1 1 UDP 1 1.2.3.4 5 typ host ", 39);
	line[HL_ICE_CANDIDATE_MAX + 1] = '\0';
	k = snprintf(mod, sizeof(mod),
		     "%.*sa=candidate:9 2 UDP 1 1.2.3.4 5 typ host\r\n"
		     "a=%s\r\na=candidate:9 1 UDP 1 1.2.3.4\t5 typ host\r\n"
		     "a=candidate\r\na=candidate:\r\n%s",
		     (int)(strstr(text, "a=end-of") - text), text, line,
		     strstr(text, "a=end-of"));
	HT_OK(parse_exact(mod, (size_t)k, &out, &why));
	HT_ASSERT(sdp_eq(&s, &out));
	/* Exactly the longest length is kept. */
	line[HL_ICE_CANDIDATE_MAX] = '\0';
	k = snprintf(mod, sizeof(mod), "%.*sa=%s\r\n%s",
		     (int)(strstr(text, "a=end-of") - text), text, line,
		     strstr(text, "a=end-of"));
	HT_OK(parse_exact(mod, (size_t)k, &out, &why));
	HT_EQ_INT(out.tp.n_candidates, 5);
	HT_ASSERT(strcmp(out.tp.candidates[4], line) == 0);

	/* 16 in the audio section, 16 others in video: the first 16. */
	make_sdp(&s, false, 16);
	HT_OK(hl_sdp_write(&s, false, text, sizeof(text), &len));
	{
		char *v = strstr(text, "a=rtpmap:96");
		char more[3000], c[HL_ICE_CANDIDATE_MAX + 1];
		size_t ml = 0;

		for (size_t i = 16; i < 32; i++) {
			fill_candidate(c, i);
			ml += (size_t)snprintf(more + ml, sizeof(more) - ml,
					       "a=%s\r\n", c);
		}
		k = snprintf(mod, sizeof(mod), "%.*s%s%s", (int)(v - text),
			     text, more, v);
		if (k > HL_SDP_MAX)
			HT_EQ_INT(parse_exact(mod, (size_t)k, &out, &why),
				  HL_ETOOBIG);
		/* Drop what we do not need to fit. */
		n = drop_lines(mod, "a=ssrc", text, sizeof(text));
		n = drop_lines(text, "a=rtcp-fb:96 goog", mod, sizeof(mod));
		n = drop_lines(mod, "a=rtcp-fb:96 ccm", text, sizeof(text));
		n = drop_lines(text, "a=fmtp:111", mod, sizeof(mod));
		n = drop_lines(mod, "a=rtcp:", text, sizeof(text));
		n = drop_lines(text, "a=rtcp-rsize", mod, sizeof(mod));
		n = drop_lines(mod, "c=", text, sizeof(text));
		n = drop_lines(text, "a=msid", mod, sizeof(mod));
		n = drop_lines(mod, "a=end-of", text, sizeof(text));
		if (n > HL_SDP_MAX) {
			fprintf(stderr, "  still %zu bytes\n", n);
			return -1;
		}
		HT_OK(parse_exact(text, n, &out, &why));
		HT_EQ_INT(out.tp.n_candidates, 16);
		for (size_t i = 0; i < 16; i++)
			HT_ASSERT(strcmp(out.tp.candidates[i],
					 s.tp.candidates[i]) == 0);
	}
	return 0;
}

/* ---- hostile text ------------------------------------------------------ */

static int test_truncations(void)
{
	const char *texts[3];
	size_t lens[3];
	char ours[HL_SDP_MAX];
	struct hl_sdp s, out;
	const char *why;
	size_t ok = 0, total = 0;

	make_sdp(&s, false, 3);
	HT_OK(hl_sdp_write(&s, false, ours, sizeof(ours), &lens[0]));
	texts[0] = ours;
	texts[1] = chrome_offer;
	lens[1] = strlen(chrome_offer);
	texts[2] = firefox_ours;
	lens[2] = strlen(firefox_ours);
	for (size_t t = 0; t < 3; t++) {
		for (size_t n = 0; n < lens[t]; n++) {
			int err = parse_exact(texts[t], n, &out, &why);

			total++;
			if (err == 0) {
				ok++;
				continue;
			}
			HT_ASSERT(err == HL_EPARSE || err == HL_EUNSUPPORTED);
			HT_ASSERT(why && why[0]);
		}
	}
	/* Cut after the last required line, a description still parses. */
	fprintf(stderr, "  %zu of %zu truncations parse\n", ok, total);
	HT_ASSERT(ok < total / 4);
	return 0;
}

static int test_mutations(void)
{
	static const char *const pieces[] = {
		"\r\n",
		"\n",
		":",
		" ",
		"a=",
		"m=video 0 X 96\r\n",
		"\0",
		"a=ssrc:1 cname:x\r\n",
		"a=candidate:1 1 UDP 1 a 1 typ host\r\n",
		"a=fmtp:97 apt=",
		"a=group:BUNDLE ",
		"*",
		"\xff",
		"4294967295",
		"18446744073709551616",
	};
	char base[HL_SDP_MAX];
	static char buf[HL_SDP_MAX + 64];
	struct hl_prng rng;
	struct hl_sdp s, out;
	const char *why;
	size_t base_len, ok = 0;
	const int rounds = 6000;

	make_sdp(&s, false, 4);
	HT_OK(hl_sdp_write(&s, false, base, sizeof(base), &base_len));
	hl_prng_seed(&rng, 42);
	for (int r = 0; r < rounds; r++) {
		const char *src = r % 3 == 0   ? base
				  : r % 3 == 1 ? chrome_offer
					       : firefox_ours;
		size_t n = r % 3 == 0 ? base_len : strlen(src);
		int edits = 1 + (int)hl_prng_below(&rng, 8), err;

		if (n > HL_SDP_MAX)
			n = HL_SDP_MAX;
		memcpy(buf, src, n);
		for (int e = 0; e < edits; e++) {
			size_t at = hl_prng_below(&rng, n ? n : 1);

			switch (hl_prng_below(&rng, 4)) {
			case 0: /* flip a byte */
				buf[at] = (char)hl_prng_next(&rng);
				break;
			case 1: /* delete a run */
			{
				size_t k = 1 + hl_prng_below(&rng, 80);

				k = HL_MIN(n - at, k);

				memmove(buf + at, buf + at + k, n - at - k);
				n -= k;
				break;
			}
			case 2: /* insert a piece */
			{
				const char *p = pieces[hl_prng_below(
					&rng, HL_ARRAY_SIZE(pieces))];
				size_t k = p[0] ? strlen(p) : 1;

				if (n + k > HL_SDP_MAX)
					break;
				memmove(buf + at + k, buf + at, n - at);
				memcpy(buf + at, p, k);
				n += k;
				break;
			}
			default: /* duplicate a run */
			{
				size_t k = 1 + hl_prng_below(&rng, 200);

				k = HL_MIN(n - at, k);

				if (n + k > HL_SDP_MAX)
					break;
				memmove(buf + at + k, buf + at, n - at);
				n += k;
				break;
			}
			}
		}
		err = parse_exact(buf, n, &out, &why);
		if (err == 0) {
			ok++;
			/* What parses is usable: write it back as an offer
			 * unless the peer's cname or values do not fit ours. */
			HT_ASSERT(out.audio.present || out.video.present);
			HT_ASSERT(out.tp.n_candidates <= HL_ICE_MAX_CANDIDATES);
			HT_ASSERT(strlen(out.tp.ufrag) >= 4 &&
				  strlen(out.tp.pwd) >= 22);
		} else {
			HT_ASSERT(err == HL_EPARSE || err == HL_EUNSUPPORTED);
			HT_ASSERT(why && why[0]);
		}
	}
	fprintf(stderr, "  %zu of %d mutations still parse\n", ok, rounds);
	return 0;
}

/* ---- answer check ------------------------------------------------------- */

static int test_check_answer(void)
{
	struct hl_sdp offer, ans, o, a;
	char buf[HL_SDP_MAX];
	size_t len;
	const char *why;

	make_sdp(&offer, false, 2);
	make_sdp(&ans, true, 3);
	ans.audio.ssrc = 0x44444444;
	memcpy(ans.tp.ufrag, "an5w", 5);
	/* Both through text, as hotline join does. */
	HT_OK(hl_sdp_write(&offer, false, buf, sizeof(buf), &len));
	HT_OK(hl_sdp_parse(buf, len, &o, &why));
	HT_OK(hl_sdp_write(&ans, true, buf, sizeof(buf), &len));
	HT_OK(hl_sdp_parse(buf, len, &a, &why));
	HT_OK(hl_sdp_check_answer(&o, &a, &why));
	HT_ASSERT(why == NULL);

#define ANS_BAD(stmt, want)                                                \
	do {                                                               \
		struct hl_sdp ob = o, ab = a;                              \
		(void)ob;                                                  \
		stmt;                                                      \
		why = NULL;                                                \
		HT_EQ_INT(hl_sdp_check_answer(&ob, &ab, &why), HL_EPARSE); \
		HT_ASSERT(why_is(why, want));                              \
	} while (0)
#define ANS_OK(stmt)                                        \
	do {                                                \
		struct hl_sdp ob = o, ab = a;               \
		(void)ob;                                   \
		stmt;                                       \
		HT_OK(hl_sdp_check_answer(&ob, &ab, &why)); \
	} while (0)

	ANS_BAD(ab.tp.setup = HL_SETUP_ACTPASS,
		"the answer's DTLS setup is not active or passive");
	ANS_BAD(ab.tp.setup = (enum hl_dtls_setup)7,
		"the answer's DTLS setup is not active or passive");
	ANS_OK(ab.tp.setup = HL_SETUP_PASSIVE);
	ANS_BAD((ob.tp.setup = HL_SETUP_ACTIVE, ab.tp.setup = HL_SETUP_ACTIVE),
		"the answer takes the same DTLS role as the offer");
	ANS_OK((ob.tp.setup = HL_SETUP_ACTIVE, ab.tp.setup = HL_SETUP_PASSIVE));
	ANS_BAD(memcpy(ab.video.mid, "v", 2),
		"the answer's video mid differs from the offer's");
	ANS_BAD(memcpy(ab.audio.mid, "a", 2),
		"the answer's audio mid differs from the offer's");
	ANS_BAD(ab.video.present = false,
		"the answer rejects the video section");
	ANS_BAD(ob.audio.present = false,
		"the answer has an audio section we did not offer");
	ANS_BAD((ob.audio.red = false, ab.audio.red = true),
		"the answer uses RED, which the offer did not");
	ANS_OK(ab.audio.red = false);
	ANS_BAD(memset(ab.tp.fingerprint, 0, HL_DTLS_FP_LEN),
		"the answer has no DTLS fingerprint");
	ANS_BAD(ab.tp.ufrag[0] = '\0', "the answer has no valid ICE ufrag");
	ANS_BAD(ab.tp.pwd[3] = '\0', "the answer has no valid ICE password");
	ANS_BAD((ob.audio.present = ob.video.present = false,
		 ab.audio.present = ab.video.present = false),
		"the offer has no media");
	/* Only audio offered and answered. */
	ANS_OK((ob.video.present = false, ab.video.present = false));

	/* Directions (RFC 3264 §6.1). */
	{
		static const bool fits[4][4] = {
			/* answer: sendrecv sendonly recvonly inactive */
			{true, true, true, true},     /* offer sendrecv */
			{false, false, true, true},   /* offer sendonly */
			{false, true, false, true},   /* offer recvonly */
			{false, false, false, true}}; /* offer inactive */

		for (int od = 0; od < 4; od++)
			for (int ad = 0; ad < 4; ad++) {
				struct hl_sdp ob = o, ab = a;
				int err;

				ob.video.dir = (enum hl_sdp_dir)od;
				ab.video.dir = (enum hl_sdp_dir)ad;
				err = hl_sdp_check_answer(&ob, &ab, &why);
				HT_EQ_INT(err, fits[od][ad] ? 0 : HL_EPARSE);
				if (err)
					HT_ASSERT(why_is(
						why, "the answer's video "
						     "direction does not fit "
						     "the offer"));
				ob = o;
				ab = a;
				ob.audio.dir = (enum hl_sdp_dir)od;
				ab.audio.dir = (enum hl_sdp_dir)ad;
				err = hl_sdp_check_answer(&ob, &ab, &why);
				HT_EQ_INT(err, fits[od][ad] ? 0 : HL_EPARSE);
			}
	}
#undef ANS_BAD
#undef ANS_OK
	HT_EQ_INT(hl_sdp_check_answer(NULL, &a, &why), HL_EINVAL);
	HT_EQ_INT(hl_sdp_check_answer(&o, NULL, &why), HL_EINVAL);
	return 0;
}

/* ---- corpus ----------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const char *p,
		      size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

static int test_write_corpus(void)
{
	const char *dir = getenv("HL_SDP_CORPUS");
	struct hl_sdp s;
	char buf[HL_SDP_MAX];
	size_t len;

	if (!dir)
		return 0;
	make_sdp(&s, false, 3);
	HT_OK(hl_sdp_write(&s, false, buf, sizeof(buf), &len));
	HT_ASSERT(write_file(dir, "ours_offer", buf, len) == 0);
	make_sdp(&s, true, 2);
	s.tp.setup = HL_SETUP_PASSIVE;
	s.audio.red = false;
	s.video.dir = HL_DIR_RECVONLY;
	HT_OK(hl_sdp_write(&s, true, buf, sizeof(buf), &len));
	HT_ASSERT(write_file(dir, "ours_answer", buf, len) == 0);
	make_sdp(&s, true, 16);
	s.video.present = false;
	s.video.ssrc = s.video.rtx_ssrc = 0;
	HT_OK(hl_sdp_write(&s, true, buf, sizeof(buf), &len));
	HT_ASSERT(write_file(dir, "ours_answer_audio_only", buf, len) == 0);
	HT_ASSERT(write_file(dir, "chrome_offer", chrome_offer,
			     strlen(chrome_offer)) == 0);
	HT_ASSERT(write_file(dir, "firefox_offer", firefox_offer,
			     strlen(firefox_offer)) == 0);
	HT_ASSERT(write_file(dir, "firefox_offer_our_pts", firefox_ours,
			     strlen(firefox_ours)) == 0);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_write_offer_text), HT_TEST(test_roundtrip),
	HT_TEST(test_write_invalid),	HT_TEST(test_write_size),
	HT_TEST(test_parse_chrome),	HT_TEST(test_parse_firefox),
	HT_TEST(test_parse_missing),	HT_TEST(test_parse_fingerprint),
	HT_TEST(test_parse_variants),	HT_TEST(test_parse_candidates),
	HT_TEST(test_truncations),	HT_TEST(test_mutations),
	HT_TEST(test_check_answer),	HT_TEST(test_write_corpus),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}

/*
 * fuzz_sdp.c - libFuzzer target for the SDP parser, writer and answer
 * check (src/sdp/sdp.c).
 *
 * Invariants beyond "no crash, no leak, no allocation": a failure names
 * its reason; a parsed description holds only what the writer accepts
 * (valid credentials, at most HL_ICE_MAX_CANDIDATES printable
 * "candidate:" values, token mids, one sha-256 fingerprint, distinct
 * SSRCs); written back (as an answer when it has a concrete setup role,
 * else as an offer) it is refused only for size, and parses again to
 * the same description.  The answer check runs against itself and a
 * fixed offer, never crashing.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/sdp.h"

static bool ice_ok(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ"
			    "0123456789+/",
			    s[i]))
			return false;
	return true;
}

static void check_media(const struct hl_sdp_media *m, bool video)
{
	if (!m->present)
		return;
	if (!m->mid[0] || (unsigned)m->dir > HL_DIR_INACTIVE)
		abort();
	if (!video && m->rtx_ssrc)
		abort();
	if (video && m->red)
		abort();
	if (m->rtx_ssrc && (!m->ssrc || m->rtx_ssrc == m->ssrc))
		abort();
}

static void check_parsed(const struct hl_sdp *s)
{
	const struct hl_transport_params *tp = &s->tp;

	if (!s->audio.present && !s->video.present)
		abort();
	check_media(&s->audio, false);
	check_media(&s->video, true);
	if (!ice_ok(tp->ufrag, 4, HL_ICE_UFRAG_MAX) ||
	    !ice_ok(tp->pwd, 22, HL_ICE_PWD_MAX) ||
	    (unsigned)tp->setup > HL_SETUP_PASSIVE ||
	    tp->n_candidates > HL_ICE_MAX_CANDIDATES)
		abort();
	for (size_t i = 0; i < tp->n_candidates; i++) {
		const char *c = tp->candidates[i];
		size_t n = strlen(c);

		if (n > HL_ICE_CANDIDATE_MAX || strncmp(c, "candidate:", 10))
			abort();
		for (size_t k = 0; k < n; k++)
			if (c[k] < ' ' || c[k] >= 0x7f)
				abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(c, tp->candidates[j]) == 0)
				abort(); /* deduplicated */
	}
	if (s->audio.present && s->video.present &&
	    strcmp(s->audio.mid, s->video.mid) == 0)
		abort();
	if (s->audio.ssrc && (s->audio.ssrc == s->video.ssrc ||
			      s->audio.ssrc == s->video.rtx_ssrc))
		abort();
}

static bool media_same(const struct hl_sdp_media *a,
		       const struct hl_sdp_media *b, bool mids)
{
	if (a->present != b->present)
		return false;
	if (!a->present)
		return !mids || strcmp(a->mid, b->mid) == 0;
	return strcmp(a->mid, b->mid) == 0 && a->dir == b->dir &&
	       a->ssrc == b->ssrc && a->rtx_ssrc == b->rtx_ssrc &&
	       a->red == b->red;
}

static void check_rewrite(struct hl_sdp *s)
{
	static char text[HL_SDP_MAX];
	static struct hl_sdp back;
	bool answer = s->tp.setup != HL_SETUP_ACTPASS;
	bool ssrcs = (s->audio.present && s->audio.ssrc) ||
		     (s->video.present && s->video.ssrc);
	const char *why = NULL;
	size_t len;
	int err;

	/* Our writer needs a cname when it announces SSRCs, and writes
	 * SSRCs of present sections only. */
	if (ssrcs && !s->cname[0])
		memcpy(s->cname, "fuzz", 5);
	err = hl_sdp_write(s, answer, text, sizeof(text), &len);
	if (err == HL_ETOOBIG)
		return;
	if (err != 0 || len >= HL_SDP_MAX || strlen(text) != len)
		abort();
	if (hl_sdp_parse(text, len, &back, &why) != 0)
		abort();
	if (back.session_id != s->session_id ||
	    strcmp(back.tp.ufrag, s->tp.ufrag) ||
	    strcmp(back.tp.pwd, s->tp.pwd) ||
	    memcmp(back.tp.fingerprint, s->tp.fingerprint, HL_DTLS_FP_LEN) ||
	    back.tp.setup != s->tp.setup ||
	    back.tp.n_candidates != s->tp.n_candidates)
		abort();
	for (size_t i = 0; i < s->tp.n_candidates; i++)
		if (strcmp(back.tp.candidates[i], s->tp.candidates[i]))
			abort();
	if (ssrcs && strcmp(back.cname, s->cname))
		abort();
	/* An offer omits a section it does not use (its mid is lost). */
	if (!media_same(&back.audio, &s->audio, answer) ||
	    !media_same(&back.video, &s->video, answer))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hl_sdp s, offer;
	static bool have_offer;
	long mem0 = hl_mem_outstanding();
	const char *why = (const char *)1;
	int err;

	if (!have_offer) {
		static const char o[] =
			"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
			"a=group:BUNDLE 0 1\r\n"
			"a=ice-ufrag:abcd\r\na=ice-pwd:"
			"0123456789012345678901\r\n"
			"a=fingerprint:sha-256 "
			"00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
			"10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n"
			"a=setup:actpass\r\n"
			"m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\na=mid:0\r\n"
			"a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
			"a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"
			"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\n"
			"a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
			"a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
			"a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";

		if (hl_sdp_parse(o, sizeof(o) - 1, &offer, &why) != 0)
			abort();
		have_offer = true;
	}
	err = hl_sdp_parse((const char *)data, size, &s, &why);
	if (err) {
		if (err != HL_EPARSE && err != HL_EUNSUPPORTED &&
		    err != HL_ETOOBIG)
			abort();
		if (!why || !why[0])
			abort();
	} else {
		if (why != NULL)
			abort();
		check_parsed(&s);
		err = hl_sdp_check_answer(&offer, &s, &why);
		if (err && (err != HL_EPARSE || !why))
			abort();
		err = hl_sdp_check_answer(&s, &s, &why);
		if (err && (err != HL_EPARSE || !why))
			abort();
		check_rewrite(&s);
	}
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}

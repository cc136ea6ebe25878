/*
 * sdp.c - the SDP offer/answer hotline writes and reads (RFC 8866 syntax,
 * RFC 8829 JSEP conventions, RFC 8843 BUNDLE, RFC 8839 ICE attributes,
 * RFC 8122 / RFC 8842 DTLS fingerprint and setup).
 *
 * Writer: one fixed profile (src/sdp/README.md): audio Opus 111 (+ RED 63)
 * and video VP8 96 + RTX 97, both BUNDLEd over one ICE/DTLS transport with
 * rtcp-mux; every candidate in the first section (no trickle), each
 * section closed by a=end-of-candidates.  Everything written is validated
 * first (HL_EINVAL) and must fit HL_SDP_MAX (HL_ETOOBIG).
 *
 * Parser: the text is untrusted.  It is read once, line by line, through
 * (pointer, length) spans into the input; nothing is allocated and nothing
 * is copied out until the whole description has been checked, so the
 * output is written only on success.  Lines and attributes we do not use
 * are skipped, as are media sections other than the first audio and the
 * first video one.  Every refusal names its reason in a static sentence.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hotline/sdp.h"

/* The payload types the call engine puts on the wire (src/core). */
#define PT_OPUS	  111
#define PT_RED	  63
#define PT_VP8	  96
#define PT_RTX	  97

#define MID_MAX	  (sizeof(((struct hl_sdp_media *)0)->mid) - 1)
#define CNAME_MAX (sizeof(((struct hl_sdp *)0)->cname) - 1)

/* ---- small text helpers ----------------------------------------------- */

/* A borrowed slice of the input. */
struct span {
	const char *p;
	size_t n;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/". */
static bool is_ice_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '+' || c == '/';
}

/* RFC 8866 §9 token-char (visible ASCII minus a few separators). */
static bool is_token_char(char c)
{
	return c == '!' || (c >= '#' && c <= '\'') || c == '*' || c == '+' ||
	       c == '-' || c == '.' || is_digit(c) || is_alpha(c) ||
	       (c >= '^' && c <= '~');
}

/* Visible ASCII, no space (cname, candidate tokens). */
static bool is_visible(char c)
{
	return c > ' ' && c < 0x7f;
}

static struct span span_of(const char *s)
{
	struct span r = {s, strlen(s)};

	return r;
}

static bool span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* ASCII case-insensitive equality (codec names, hash names). */
static bool span_ieq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	if (s.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower(lit[i]))
			return false;
	return true;
}

/* If s starts with lit, set *rest to what follows and return true. */
static bool span_prefix(struct span s, const char *lit, struct span *rest)
{
	size_t n = strlen(lit);

	if (s.n < n || memcmp(s.p, lit, n) != 0)
		return false;
	rest->p = s.p + n;
	rest->n = s.n - n;
	return true;
}

static bool all_chars(struct span s, bool (*ok)(char))
{
	for (size_t i = 0; i < s.n; i++)
		if (!ok(s.p[i]))
			return false;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Split off the next blank-separated token of *s; false at the end. */
static bool next_token(struct span *s, struct span *tok)
{
	size_t i = 0, start;

	while (i < s->n && is_blank(s->p[i]))
		i++;
	if (i == s->n) {
		s->p += s->n;
		s->n = 0;
		return false;
	}
	start = i;
	while (i < s->n && !is_blank(s->p[i]))
		i++;
	tok->p = s->p + start;
	tok->n = i - start;
	s->p += i;
	s->n -= i;
	return true;
}

static struct span trim(struct span s)
{
	while (s.n && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* A decimal number without sign or leading junk, at most max. */
static bool parse_uint(struct span s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s.n == 0 || s.n > 20)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d;

		if (!is_digit(s.p[i]))
			return false;
		d = (unsigned)(s.p[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int hex_val(char c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 8122 §5: 32 hex pairs separated by colons, either case. */
static bool parse_fingerprint(struct span s, uint8_t fp[HL_DTLS_FP_LEN])
{
	if (s.n != HL_DTLS_FP_LEN * 3 - 1)
		return false;
	for (size_t i = 0; i < HL_DTLS_FP_LEN; i++) {
		int hi = hex_val(s.p[3 * i]), lo = hex_val(s.p[3 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		if (i + 1 < HL_DTLS_FP_LEN && s.p[3 * i + 2] != ':')
			return false;
		fp[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* ---- writer ------------------------------------------------------------- */

/* An output buffer that remembers whether anything did not fit. */
struct out {
	char *p;
	size_t cap; /* usable bytes including the final NUL */
	size_t len;
	bool over;
};

static void put(struct out *o, const char *fmt, ...) HL_PRINTF(2, 3);

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->over = true;
		return;
	}
	o->len += (size_t)n;
}

static bool str_ok(const char *s, size_t cap, size_t min, size_t max,
		   bool (*ok)(char))
{
	size_t n = strnlen(s, cap);

	return n < cap && n >= min && n <= max && all_chars(span_of(s), ok);
}

static bool candidate_ok(const char *c)
{
	size_t n = strnlen(c, HL_ICE_CANDIDATE_MAX + 1);
	struct span rest;

	if (n > HL_ICE_CANDIDATE_MAX ||
	    !span_prefix(span_of(c), "candidate:", &rest) || rest.n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (c[i] < ' ' || c[i] >= 0x7f) /* no CR, LF, NUL, controls */
			return false;
	return true;
}

static bool media_ok(const struct hl_sdp_media *m, bool video)
{
	if (!m->present)
		return str_ok(m->mid, sizeof(m->mid), 0, MID_MAX,
			      is_token_char);
	if (!str_ok(m->mid, sizeof(m->mid), 1, MID_MAX, is_token_char))
		return false;
	if ((unsigned)m->dir > HL_DIR_INACTIVE)
		return false;
	if (video && m->rtx_ssrc && !m->ssrc)
		return false;
	if (video && m->rtx_ssrc && m->rtx_ssrc == m->ssrc)
		return false;
	return true;
}

static bool params_ok(const struct hl_sdp *s, bool answer)
{
	const struct hl_transport_params *tp = &s->tp;
	bool ssrcs = s->audio.ssrc || s->video.ssrc;

	if (!s->audio.present && !s->video.present)
		return false;
	if (!media_ok(&s->audio, false) || !media_ok(&s->video, true))
		return false;
	if (s->audio.present && s->video.present &&
	    strcmp(s->audio.mid, s->video.mid) == 0)
		return false;
	if (!str_ok(tp->ufrag, sizeof(tp->ufrag), 4, HL_ICE_UFRAG_MAX,
		    is_ice_char) ||
	    !str_ok(tp->pwd, sizeof(tp->pwd), 22, HL_ICE_PWD_MAX, is_ice_char))
		return false;
	if ((unsigned)tp->setup > HL_SETUP_PASSIVE ||
	    (answer && tp->setup == HL_SETUP_ACTPASS))
		return false;
	if (tp->n_candidates > HL_ICE_MAX_CANDIDATES)
		return false;
	for (size_t i = 0; i < tp->n_candidates; i++)
		if (!candidate_ok(tp->candidates[i]))
			return false;
	if (!str_ok(s->cname, sizeof(s->cname), ssrcs ? 1 : 0, CNAME_MAX,
		    is_visible))
		return false;
	return true;
}

static const char *const setup_names[] = {"actpass", "active", "passive"};
static const char *const dir_names[] = {"sendrecv", "sendonly", "recvonly",
					"inactive"};

/* The lines every present section carries: transport, mid, direction. */
static void put_transport(struct out *o, const struct hl_sdp *s,
			  const struct hl_sdp_media *m)
{
	const struct hl_transport_params *tp = &s->tp;

	put(o, "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n");
	put(o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", tp->ufrag, tp->pwd);
	put(o, "a=fingerprint:sha-256 ");
	for (size_t i = 0; i < HL_DTLS_FP_LEN; i++)
		put(o, "%02X%s", tp->fingerprint[i],
		    i + 1 < HL_DTLS_FP_LEN ? ":" : "\r\n");
	put(o, "a=setup:%s\r\na=mid:%s\r\na=%s\r\na=rtcp-mux\r\n",
	    setup_names[tp->setup], m->mid, dir_names[m->dir]);
}

static void put_candidates(struct out *o, const struct hl_sdp *s, bool all)
{
	if (all)
		for (size_t i = 0; i < s->tp.n_candidates; i++)
			put(o, "a=%s\r\n", s->tp.candidates[i]);
	put(o, "a=end-of-candidates\r\n");
}

/* A section we do not use (answers only): port 0 keeps the m-line count. */
static void put_rejected(struct out *o, const char *kind, int pt,
			 const struct hl_sdp_media *m)
{
	put(o, "m=%s 0 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n", kind, pt);
	if (m->mid[0])
		put(o, "a=mid:%s\r\n", m->mid);
}

static void put_audio(struct out *o, const struct hl_sdp *s, bool first)
{
	const struct hl_sdp_media *m = &s->audio;

	if (m->red)
		put(o, "m=audio 9 UDP/TLS/RTP/SAVPF %d %d\r\n", PT_OPUS,
		    PT_RED);
	else
		put(o, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n", PT_OPUS);
	put_transport(o, s, m);
	put(o, "a=rtpmap:%d opus/48000/2\r\n", PT_OPUS);
	put(o, "a=fmtp:%d minptime=10;useinbandfec=1\r\n", PT_OPUS);
	if (m->red)
		put(o, "a=rtpmap:%d red/48000/2\r\na=fmtp:%d %d/%d\r\n", PT_RED,
		    PT_RED, PT_OPUS, PT_OPUS);
	if (m->ssrc)
		put(o, "a=ssrc:%lu cname:%s\r\n", (unsigned long)m->ssrc,
		    s->cname);
	put_candidates(o, s, first);
}

static void put_video(struct out *o, const struct hl_sdp *s, bool first)
{
	const struct hl_sdp_media *m = &s->video;

	put(o, "m=video 9 UDP/TLS/RTP/SAVPF %d %d\r\n", PT_VP8, PT_RTX);
	put_transport(o, s, m);
	put(o, "a=rtcp-rsize\r\n");
	put(o, "a=rtpmap:%d VP8/90000\r\n", PT_VP8);
	put(o, "a=rtcp-fb:%d goog-remb\r\na=rtcp-fb:%d nack\r\n", PT_VP8,
	    PT_VP8);
	put(o, "a=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\n", PT_VP8,
	    PT_VP8);
	put(o, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", PT_RTX, PT_RTX,
	    PT_VP8);
	if (m->ssrc && m->rtx_ssrc)
		put(o, "a=ssrc-group:FID %lu %lu\r\n", (unsigned long)m->ssrc,
		    (unsigned long)m->rtx_ssrc);
	if (m->ssrc)
		put(o, "a=ssrc:%lu cname:%s\r\n", (unsigned long)m->ssrc,
		    s->cname);
	if (m->rtx_ssrc)
		put(o, "a=ssrc:%lu cname:%s\r\n", (unsigned long)m->rtx_ssrc,
		    s->cname);
	put_candidates(o, s, first);
}

/*
 * Write s as an offer or an answer into out (cap bytes, NUL-terminated on
 * success); *len gets the length without the NUL.  HL_EINVAL for values
 * that would make an invalid or unparseable SDP; HL_ETOOBIG if the text
 * does not fit cap or HL_SDP_MAX (including its NUL).
 */
int hl_sdp_write(const struct hl_sdp *s, bool answer, char *out, size_t cap,
		 size_t *len)
{
	struct out o;
	bool audio_first;

	if (!s || !out || !len || !params_ok(s, answer))
		return HL_EINVAL;
	o.p = out;
	o.cap = HL_MIN(cap, (size_t)HL_SDP_MAX);
	o.len = 0;
	o.over = o.cap == 0;

	put(&o, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
	    (unsigned long long)s->session_id);
	put(&o, "a=group:BUNDLE");
	if (s->audio.present)
		put(&o, " %s", s->audio.mid);
	if (s->video.present)
		put(&o, " %s", s->video.mid);
	put(&o, "\r\na=msid-semantic: WMS\r\n");

	/* Candidates go once, into the first (BUNDLE-tagged) section. */
	audio_first = s->audio.present;
	if (s->audio.present)
		put_audio(&o, s, true);
	else if (answer)
		put_rejected(&o, "audio", PT_OPUS, &s->audio);
	if (s->video.present)
		put_video(&o, s, !audio_first);
	else if (answer)
		put_rejected(&o, "video", PT_VP8, &s->video);

	if (o.over) {
		if (cap)
			out[0] = '\0';
		return HL_ETOOBIG;
	}
	*len = o.len;
	return 0;
}

/* ---- parser -------------------------------------------------------------- */

/* Transport attributes, at session level or in one section. */
struct tattr {
	struct span ufrag, pwd;
	bool has_ufrag, has_pwd;
	bool has_fp;   /* a sha-256 fingerprint */
	bool other_fp; /* fingerprints with other hash functions only */
	int setup;     /* -1: none */
	uint8_t fp[HL_DTLS_FP_LEN];
};

enum codec { C_NONE = 0, C_OPUS, C_RED, C_VP8, C_RTX, C_OTHER };

struct pt_info {
	uint8_t codec;
	bool in_mline;
	bool nack, pli;
	int16_t apt; /* rtx: the associated payload type; -1 none */
};

#define SECT_CANDIDATES 32

enum kind { K_IGNORED = 0, K_AUDIO, K_VIDEO };

/* One media section being read. */
struct sect {
	enum kind kind;
	bool port_zero, bundle_only, savpf;
	bool has_mid, rtcp_mux, has_red_fmtp, has_fid, nack_all, pli_all;
	int dir; /* -1: none */
	struct span mid, red_fmtp, cname;
	uint32_t first_ssrc, fid[2];
	struct tattr t;
	struct pt_info pt[128];
	size_t n_cand;
	struct span cand[SECT_CANDIDATES];
};

#define MAX_GROUPS 4

struct parser {
	struct hl_sdp out;
	bool have_o, have_tp, seen_audio, seen_video, in_media;
	int dir; /* session level; -1: none */
	struct tattr session;
	size_t n_groups;
	struct span groups[MAX_GROUPS]; /* values of a=group:BUNDLE */
	struct sect s;			/* the current section */
	const char *why;
	int err;
};

static int fail(struct parser *p, int err, const char *why)
{
	if (!p->err) {
		p->err = err;
		p->why = why;
	}
	return err;
}

static void tattr_init(struct tattr *t)
{
	memset(t, 0, sizeof(*t));
	t->setup = -1;
}

static void sect_init(struct sect *s, enum kind k)
{
	memset(s, 0, sizeof(*s));
	s->kind = k;
	s->dir = -1;
	tattr_init(&s->t);
	for (size_t i = 0; i < HL_ARRAY_SIZE(s->pt); i++)
		s->pt[i].apt = -1;
}

/* Attributes of the transport, valid at both levels (RFC 8839, 8122). */
static int transport_attr(struct parser *p, struct tattr *t, struct span name,
			  struct span v)
{
	struct span tok;

	if (span_eq(name, "ice-ufrag")) {
		if (v.n < 4 || v.n > HL_ICE_UFRAG_MAX ||
		    !all_chars(v, is_ice_char))
			return fail(p, HL_EPARSE,
				    "the ICE ufrag is not 4 to 64 ICE "
				    "characters");
		if (!t->has_ufrag) {
			t->ufrag = v;
			t->has_ufrag = true;
		}
	} else if (span_eq(name, "ice-pwd")) {
		if (v.n < 22 || v.n > HL_ICE_PWD_MAX ||
		    !all_chars(v, is_ice_char))
			return fail(p, HL_EPARSE,
				    "the ICE password is not 22 to 128 ICE "
				    "characters");
		if (!t->has_pwd) {
			t->pwd = v;
			t->has_pwd = true;
		}
	} else if (span_eq(name, "fingerprint")) {
		if (!next_token(&v, &tok))
			return fail(p, HL_EPARSE, "an empty DTLS fingerprint");
		if (!span_ieq(tok, "sha-256")) {
			t->other_fp = true;
			return 0;
		}
		if (t->has_fp)
			return 0; /* the first sha-256 one counts */
		if (!parse_fingerprint(trim(v), t->fp))
			return fail(p, HL_EPARSE,
				    "the DTLS fingerprint is not 32 "
				    "colon-separated hex pairs");
		t->has_fp = true;
	} else if (span_eq(name, "setup")) {
		int found = -1;

		v = trim(v);
		for (size_t i = 0; i < HL_ARRAY_SIZE(setup_names); i++)
			if (span_eq(v, setup_names[i]))
				found = (int)i;
		if (found < 0)
			return fail(p, HL_EPARSE,
				    "the DTLS setup is not actpass, active or "
				    "passive");
		if (t->setup < 0)
			t->setup = found; /* the first one counts */
	}
	return 0;
}

static int direction(struct span name)
{
	for (size_t i = 0; i < HL_ARRAY_SIZE(dir_names); i++)
		if (span_eq(name, dir_names[i]))
			return (int)i;
	return -1;
}

/* "<pt> rest": the payload type (0..127) of rtpmap/fmtp/rtcp-fb. */
static bool pt_prefix(struct span *v, int *pt)
{
	struct span tok;
	uint64_t n;

	if (!next_token(v, &tok))
		return false;
	if (span_eq(tok, "*")) {
		*pt = -1;
		return true;
	}
	if (!parse_uint(tok, 127, &n))
		return false;
	*pt = (int)n;
	return true;
}

static bool parse_ssrc(struct span s, uint32_t *out)
{
	uint64_t v;

	if (!parse_uint(s, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/* rtx fmtp: "apt=96;rtx-time=3000" (RFC 4588 §8.6). */
static int16_t find_apt(struct span v)
{
	while (v.n) {
		size_t i = 0;
		struct span item, rest;
		uint64_t n;

		while (i < v.n && v.p[i] != ';')
			i++;
		item.p = v.p;
		item.n = i;
		item = trim(item);
		if (span_prefix(item, "apt=", &rest) &&
		    parse_uint(rest, 127, &n))
			return (int16_t)n;
		v.p += i < v.n ? i + 1 : i;
		v.n -= i < v.n ? i + 1 : i;
	}
	return -1;
}

static int media_attr(struct parser *p, struct span name, struct span v)
{
	struct sect *s = &p->s;
	struct span tok;
	int pt, d;

	if (span_eq(name, "mid")) {
		if (v.n == 0 || v.n > MID_MAX || !all_chars(v, is_token_char))
			return fail(p, HL_EPARSE,
				    "a mid is not 1 to 16 token characters");
		if (!s->has_mid) {
			s->mid = v;
			s->has_mid = true;
		}
	} else if (span_eq(name, "rtcp-mux")) {
		s->rtcp_mux = true;
	} else if (span_eq(name, "bundle-only")) {
		s->bundle_only = true;
	} else if ((d = direction(name)) >= 0) {
		s->dir = d;
	} else if (span_eq(name, "candidate")) {
		/* Kept as a span of "candidate:..." (the value after "a="). */
		struct span c = {name.p, (size_t)(v.p + v.n - name.p)};
		struct span w = v, comp;

		if (c.n > HL_ICE_CANDIDATE_MAX || v.n == 0)
			return 0;
		for (size_t i = 0; i < c.n; i++)
			if (c.p[i] < ' ' || c.p[i] >= 0x7f)
				return 0;
		/* With rtcp-mux only component 1 is used (RFC 5761 §5.1.3). */
		if (!next_token(&w, &tok) || !next_token(&w, &comp) ||
		    !span_eq(comp, "1"))
			return 0;
		if (s->n_cand < SECT_CANDIDATES)
			s->cand[s->n_cand++] = c;
	} else if (span_eq(name, "rtpmap")) {
		if (!pt_prefix(&v, &pt) || pt < 0 || !next_token(&v, &tok))
			return 0;
		if (s->pt[pt].codec != C_NONE)
			return 0;
		if (span_ieq(tok, "opus/48000/2"))
			s->pt[pt].codec = C_OPUS;
		else if (span_ieq(tok, "red/48000/2"))
			s->pt[pt].codec = C_RED;
		else if (span_ieq(tok, "VP8/90000"))
			s->pt[pt].codec = C_VP8;
		else if (span_ieq(tok, "rtx/90000"))
			s->pt[pt].codec = C_RTX;
		else
			s->pt[pt].codec = C_OTHER;
	} else if (span_eq(name, "fmtp")) {
		if (!pt_prefix(&v, &pt) || pt < 0)
			return 0;
		v = trim(v);
		if (s->pt[pt].apt < 0)
			s->pt[pt].apt = find_apt(v);
		if (pt == PT_RED && !s->has_red_fmtp) {
			s->red_fmtp = v;
			s->has_red_fmtp = true;
		}
	} else if (span_eq(name, "rtcp-fb")) {
		struct span sub;
		bool nack, pli;

		if (!pt_prefix(&v, &pt) || !next_token(&v, &tok) ||
		    !span_eq(tok, "nack"))
			return 0;
		nack = !next_token(&v, &sub);
		pli = !nack && span_eq(sub, "pli");
		if (pt < 0) {
			s->nack_all |= nack;
			s->pli_all |= pli;
		} else {
			s->pt[pt].nack |= nack;
			s->pt[pt].pli |= pli;
		}
	} else if (span_eq(name, "ssrc")) {
		uint32_t ssrc;
		struct span cn;

		if (!next_token(&v, &tok) || !parse_ssrc(tok, &ssrc))
			return fail(p, HL_EPARSE,
				    "an a=ssrc line has no 32-bit SSRC");
		if (!s->first_ssrc)
			s->first_ssrc = ssrc;
		v = trim(v);
		if (!s->cname.n && span_prefix(v, "cname:", &cn) && cn.n >= 1 &&
		    cn.n <= CNAME_MAX && all_chars(cn, is_visible))
			s->cname = cn;
	} else if (span_eq(name, "ssrc-group")) {
		struct span a, b;

		if (!next_token(&v, &tok) || !span_eq(tok, "FID") || s->has_fid)
			return 0;
		if (!next_token(&v, &a) || !next_token(&v, &b) ||
		    !parse_ssrc(a, &s->fid[0]) || !parse_ssrc(b, &s->fid[1]))
			return fail(p, HL_EPARSE,
				    "an a=ssrc-group:FID line does not hold "
				    "two SSRCs");
		s->has_fid = true;
	} else {
		return transport_attr(p, &s->t, name, v);
	}
	return 0;
}

static int session_attr(struct parser *p, struct span name, struct span v)
{
	struct span tok;
	int d;

	if (span_eq(name, "group")) {
		if (next_token(&v, &tok) && span_eq(tok, "BUNDLE") &&
		    p->n_groups < MAX_GROUPS)
			p->groups[p->n_groups++] = v;
	} else if ((d = direction(name)) >= 0) {
		p->dir = d;
	} else {
		return transport_attr(p, &p->session, name, v);
	}
	return 0;
}

static void copy_span(char *dst, size_t cap, struct span s)
{
	size_t n = HL_MIN(s.n, cap - 1);

	memcpy(dst, s.p, n);
	dst[n] = '\0';
}

/* The section's transport, falling back on the session's (RFC 8839). */
static int sect_transport(struct parser *p, const char **what)
{
	const struct tattr *l = &p->s.t, *g = &p->session;
	struct hl_transport_params tp;
	const struct span *u = l->has_ufrag   ? &l->ufrag
			       : g->has_ufrag ? &g->ufrag
					      : NULL;
	const struct span *w = l->has_pwd   ? &l->pwd
			       : g->has_pwd ? &g->pwd
					    : NULL;
	const uint8_t *fp = l->has_fp ? l->fp : g->has_fp ? g->fp : NULL;
	int setup = l->setup >= 0 ? l->setup : g->setup;

	if (!u)
		return fail(p, HL_EPARSE, "no ICE ufrag");
	if (!w)
		return fail(p, HL_EPARSE, "no ICE password");
	if (!fp)
		return fail(p, HL_EPARSE,
			    l->other_fp || g->other_fp
				    ? "the fingerprint is not sha-256"
				    : "no DTLS fingerprint");
	if (setup < 0)
		return fail(p, HL_EPARSE, "no DTLS setup attribute");
	memset(&tp, 0, sizeof(tp));
	copy_span(tp.ufrag, sizeof(tp.ufrag), *u);
	copy_span(tp.pwd, sizeof(tp.pwd), *w);
	memcpy(tp.fingerprint, fp, HL_DTLS_FP_LEN);
	tp.setup = (enum hl_dtls_setup)setup;
	if (!p->have_tp) {
		p->out.tp.setup = tp.setup;
		memcpy(p->out.tp.ufrag, tp.ufrag, sizeof(tp.ufrag));
		memcpy(p->out.tp.pwd, tp.pwd, sizeof(tp.pwd));
		memcpy(p->out.tp.fingerprint, tp.fingerprint, HL_DTLS_FP_LEN);
		p->have_tp = true;
		return 0;
	}
	/* BUNDLE: one transport, so every section must describe the same. */
	*what = NULL;
	if (strcmp(tp.ufrag, p->out.tp.ufrag) || strcmp(tp.pwd, p->out.tp.pwd))
		*what = "the bundled sections disagree on the ICE credentials";
	else if (memcmp(tp.fingerprint, p->out.tp.fingerprint, HL_DTLS_FP_LEN))
		*what = "the bundled sections disagree on the DTLS fingerprint";
	else if (tp.setup != p->out.tp.setup)
		*what = "the bundled sections disagree on the DTLS setup";
	return *what ? fail(p, HL_EPARSE, *what) : 0;
}

static bool in_mline(const struct sect *s, int pt, enum codec c)
{
	return s->pt[pt].in_mline && s->pt[pt].codec == c;
}

/* The payload type of codec c: `want` if it is there, else any; -1 none. */
static int find_codec(const struct sect *s, enum codec c, int want)
{
	if (in_mline(s, want, c))
		return want;
	for (int i = 0; i < 128; i++)
		if (in_mline(s, i, c))
			return i;
	return -1;
}

/* RED is used only on PT 63 carrying Opus 111 redundancy ("111/111"). */
static bool red_usable(const struct sect *s)
{
	struct span v = s->red_fmtp, rest;
	size_t blocks = 0;

	if (!in_mline(s, PT_RED, C_RED) || !s->has_red_fmtp)
		return false;
	while (v.n) {
		if (!span_prefix(v, "111", &rest))
			return false;
		blocks++;
		if (rest.n == 0)
			break;
		if (rest.p[0] != '/')
			return false;
		v.p = rest.p + 1;
		v.n = rest.n - 1;
		if (v.n == 0)
			return false;
	}
	return blocks > 0;
}

static int audio_codecs(struct parser *p)
{
	const struct sect *s = &p->s;
	int opus = find_codec(s, C_OPUS, PT_OPUS);

	if (opus < 0)
		return fail(p, HL_EPARSE, "no Opus in the audio section");
	if (opus != PT_OPUS)
		return fail(p, HL_EUNSUPPORTED,
			    "Opus is not on payload type 111, the only one "
			    "hotline sends and receives");
	p->out.audio.red = red_usable(s);
	p->out.audio.ssrc = s->first_ssrc;
	return 0;
}

static int video_codecs(struct parser *p)
{
	const struct sect *s = &p->s;
	int vp8 = find_codec(s, C_VP8, PT_VP8), rtx = -1;

	if (vp8 < 0)
		return fail(p, HL_EPARSE, "no VP8 in the video section");
	if (vp8 != PT_VP8)
		return fail(p, HL_EUNSUPPORTED,
			    "VP8 is not on payload type 96, the only one "
			    "hotline sends and receives");
	if (!s->pt[vp8].nack && !s->nack_all)
		return fail(p, HL_EPARSE,
			    "the video section has no nack for "
			    "VP8");
	if (!s->pt[vp8].pli && !s->pli_all)
		return fail(p, HL_EPARSE,
			    "the video section has no nack pli "
			    "for VP8");
	if (in_mline(s, PT_RTX, C_RTX) && s->pt[PT_RTX].apt == vp8)
		rtx = PT_RTX;
	for (int i = 0; i < 128 && rtx < 0; i++)
		if (in_mline(s, i, C_RTX) && s->pt[i].apt == vp8)
			return fail(p, HL_EUNSUPPORTED,
				    "RTX for VP8 is not on payload type 97, "
				    "the only one hotline sends and receives");
	if (rtx < 0)
		return fail(p, HL_EPARSE,
			    "no RTX for VP8 in the video section");
	/* RFC 5576 §4: FID lists the primary SSRC, then the RTX one.  Our
	 * SSRC 0 means "none", so a group naming 0 is not used. */
	if (s->has_fid && s->fid[0] && s->fid[1]) {
		p->out.video.ssrc = s->fid[0];
		p->out.video.rtx_ssrc = s->fid[1];
	} else {
		p->out.video.ssrc = s->first_ssrc;
	}
	return 0;
}

static void add_candidates(struct parser *p)
{
	struct hl_transport_params *tp = &p->out.tp;

	for (size_t i = 0; i < p->s.n_cand; i++) {
		struct span c = p->s.cand[i];
		bool dup = false;

		for (size_t j = 0; j < tp->n_candidates && !dup; j++)
			dup = span_eq(c, tp->candidates[j]);
		if (dup || tp->n_candidates == HL_ICE_MAX_CANDIDATES)
			continue;
		copy_span(tp->candidates[tp->n_candidates++],
			  sizeof(tp->candidates[0]), c);
	}
}

/* The current section is complete: check it and fill its output. */
static int end_section(struct parser *p)
{
	struct sect *s = &p->s;
	struct hl_sdp_media *m;
	bool video = s->kind == K_VIDEO;
	const char *what = NULL;
	int err;

	if (s->kind == K_IGNORED)
		return 0;
	m = video ? &p->out.video : &p->out.audio;
	if (s->has_mid)
		copy_span(m->mid, sizeof(m->mid), s->mid);
	/* RFC 8843 §6: port 0 with bundle-only is accepted, not rejected. */
	m->present = !s->port_zero || s->bundle_only;
	if (!m->present)
		return 0;
	if (!s->savpf)
		return fail(p, HL_EPARSE,
			    video ? "the video section is not "
				    "UDP/TLS/RTP/SAVPF"
				  : "the audio section is not "
				    "UDP/TLS/RTP/SAVPF");
	if (!s->has_mid)
		return fail(p, HL_EPARSE,
			    video ? "the video section has no mid"
				  : "the audio section has no "
				    "mid");
	if (!s->rtcp_mux)
		return fail(p, HL_EPARSE,
			    video ? "no rtcp-mux in the video "
				    "section"
				  : "no rtcp-mux in the audio "
				    "section");
	err = sect_transport(p, &what);
	if (err)
		return err;
	m->dir = (enum hl_sdp_dir)(s->dir >= 0	 ? s->dir
				   : p->dir >= 0 ? p->dir
						 : HL_DIR_SENDRECV);
	err = video ? video_codecs(p) : audio_codecs(p);
	if (err)
		return err;
	if (!p->out.cname[0] && s->cname.n)
		copy_span(p->out.cname, sizeof(p->out.cname), s->cname);
	add_candidates(p);
	return 0;
}

/* "m=<media> <port>[/<n>] <proto> <fmt> ..." (RFC 8866 §5.14). */
static int media_line(struct parser *p, struct span v)
{
	struct span media, port, proto, tok;
	enum kind k = K_IGNORED;
	uint64_t n;
	size_t i;

	if (!next_token(&v, &media) || !next_token(&v, &port) ||
	    !next_token(&v, &proto))
		return fail(p, HL_EPARSE, "an m= line is malformed");
	for (i = 0; i < port.n && port.p[i] != '/'; i++)
		;
	port.n = i;
	if (!parse_uint(port, 65535, &n))
		return fail(p, HL_EPARSE, "an m= line has a bad port");
	if (span_eq(media, "audio") && !p->seen_audio) {
		k = K_AUDIO;
		p->seen_audio = true;
	} else if (span_eq(media, "video") && !p->seen_video) {
		k = K_VIDEO;
		p->seen_video = true;
	}
	sect_init(&p->s, k);
	p->in_media = true;
	p->s.port_zero = n == 0;
	p->s.savpf = span_eq(proto, "UDP/TLS/RTP/SAVPF");
	while (next_token(&v, &tok))
		if (parse_uint(tok, 127, &n))
			p->s.pt[n].in_mline = true;
	return 0;
}

static int parse_line(struct parser *p, struct span line, bool first)
{
	struct span v, name;
	char type;
	size_t i;

	if (line.n < 2 || line.p[1] != '=' || line.p[0] < 'a' ||
	    line.p[0] > 'z')
		return fail(p, HL_EPARSE, "a line is not of the form x=value");
	v.p = line.p + 2;
	v.n = line.n - 2;
	type = line.p[0];
	if (first != (type == 'v'))
		return fail(p, HL_EPARSE,
			    first ? "the description does not "
				    "start with v=0"
				  : "a second v= line");
	if (type == 'v')
		return span_eq(v, "0")
			       ? 0
			       : fail(p, HL_EPARSE, "the SDP version is not 0");
	if (type == 'o') {
		struct span user, id;
		uint64_t sid;

		if (p->have_o || p->in_media)
			return fail(p, HL_EPARSE, "a misplaced o= line");
		if (!next_token(&v, &user) || !next_token(&v, &id) ||
		    !parse_uint(id, UINT64_MAX, &sid))
			return fail(p, HL_EPARSE,
				    "the o= line has no numeric session id");
		p->out.session_id = sid;
		p->have_o = true;
		return 0;
	}
	if (type == 'm') {
		int err = end_section(p);

		return err ? err : media_line(p, v);
	}
	if (type != 'a')
		return 0;
	for (i = 0; i < v.n && v.p[i] != ':'; i++)
		;
	name.p = v.p;
	name.n = i;
	v.p += i < v.n ? i + 1 : i;
	v.n -= i < v.n ? i + 1 : i;
	if (!p->in_media)
		return session_attr(p, name, v);
	return p->s.kind == K_IGNORED ? 0 : media_attr(p, name, v);
}

static bool group_has(struct span g, const char *mid)
{
	struct span tok;

	while (next_token(&g, &tok))
		if (span_eq(tok, mid))
			return true;
	return false;
}

static int end_description(struct parser *p)
{
	const struct hl_sdp_media *a = &p->out.audio, *v = &p->out.video;
	bool bundled = false;

	if (!p->have_o)
		return fail(p, HL_EPARSE, "no o= line");
	if (!a->present && !v->present)
		return fail(p, HL_EPARSE, "no accepted audio or video section");
	if (a->present && v->present) {
		if (strcmp(a->mid, v->mid) == 0)
			return fail(p, HL_EPARSE,
				    "audio and video have the same mid");
		for (size_t i = 0; i < p->n_groups && !bundled; i++)
			bundled = group_has(p->groups[i], a->mid) &&
				  group_has(p->groups[i], v->mid);
		if (!bundled)
			return fail(p, HL_EPARSE,
				    "no BUNDLE group holds both the audio and "
				    "the video mid");
	}
	if ((a->ssrc && (a->ssrc == v->ssrc || a->ssrc == v->rtx_ssrc)) ||
	    (v->ssrc && v->ssrc == v->rtx_ssrc))
		return fail(p, HL_EPARSE, "two streams share one SSRC");
	return 0;
}

/*
 * Parse text (len bytes, not necessarily NUL-terminated, borrowed).  On
 * success fill *out; otherwise leave it alone and set *why (if not NULL)
 * to a static sentence.  HL_EPARSE for anything malformed or missing,
 * HL_EUNSUPPORTED for payload type numbers the engine does not use,
 * HL_ETOOBIG beyond HL_SDP_MAX bytes.
 */
int hl_sdp_parse(const char *text, size_t len, struct hl_sdp *out,
		 const char **why)
{
	struct parser *p, pbuf;
	size_t pos = 0;
	bool first = true;
	int err = 0;

	if (why)
		*why = NULL;
	if (!text || !out)
		return HL_EINVAL;
	if (len > HL_SDP_MAX) {
		if (why)
			*why = "the description is longer than 4096 bytes";
		return HL_ETOOBIG;
	}
	p = &pbuf;
	memset(p, 0, sizeof(*p));
	p->dir = -1;
	tattr_init(&p->session);
	sect_init(&p->s, K_IGNORED);
	if (memchr(text, '\0', len))
		err = fail(p, HL_EPARSE, "the description contains a NUL byte");
	while (!err && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct span line = {text + pos, end - pos};

		pos = nl ? end + 1 : len;
		if (line.n && line.p[line.n - 1] == '\r')
			line.n--;
		if (line.n == 0)
			continue;
		err = parse_line(p, line, first);
		first = false;
	}
	if (!err && first)
		err = fail(p, HL_EPARSE, "the description is empty");
	if (!err)
		err = end_section(p);
	if (!err)
		err = end_description(p);
	if (err) {
		if (why)
			*why = p->why;
		return err;
	}
	*out = p->out;
	return 0;
}

/* ---- answer check -------------------------------------------------------- */

static bool dir_compatible(enum hl_sdp_dir offer, enum hl_sdp_dir ans)
{
	/* RFC 3264 §6.1 */
	switch (offer) {
	case HL_DIR_SENDRECV:
		return ans <= HL_DIR_INACTIVE;
	case HL_DIR_SENDONLY:
		return ans == HL_DIR_RECVONLY || ans == HL_DIR_INACTIVE;
	case HL_DIR_RECVONLY:
		return ans == HL_DIR_SENDONLY || ans == HL_DIR_INACTIVE;
	case HL_DIR_INACTIVE:
		return ans == HL_DIR_INACTIVE;
	}
	return false;
}

static const char *check_media(const struct hl_sdp_media *o,
			       const struct hl_sdp_media *a, bool video)
{
	if (!o->present && a->present)
		return video ? "the answer has a video section we did not offer"
			     : "the answer has an audio section we did not "
			       "offer";
	if (!o->present)
		return NULL;
	if (!a->present)
		return video ? "the answer rejects the video section"
			     : "the answer rejects the audio section";
	if (strncmp(o->mid, a->mid, sizeof(o->mid)) != 0)
		return video ? "the answer's video mid differs from the offer's"
			     : "the answer's audio mid differs from the "
			       "offer's";
	if (!dir_compatible(o->dir, a->dir))
		return video ? "the answer's video direction does not fit the "
			       "offer"
			     : "the answer's audio direction does not fit the "
			       "offer";
	if (!video && a->red && !o->red)
		return "the answer uses RED, which the offer did not";
	return NULL;
}

/*
 * Check ans against offer (both as parsed, borrowed).  0 if it fits;
 * HL_EPARSE with *why otherwise; HL_EINVAL for NULL arguments.
 */
int hl_sdp_check_answer(const struct hl_sdp *offer, const struct hl_sdp *ans,
			const char **why)
{
	static const uint8_t zero[HL_DTLS_FP_LEN];
	const struct hl_transport_params *tp;
	const char *w;

	if (why)
		*why = NULL;
	if (!offer || !ans)
		return HL_EINVAL;
	tp = &ans->tp;
	w = check_media(&offer->audio, &ans->audio, false);
	if (!w)
		w = check_media(&offer->video, &ans->video, true);
	if (!w && !offer->audio.present && !offer->video.present)
		w = "the offer has no media";
	if (!w && tp->setup != HL_SETUP_ACTIVE && tp->setup != HL_SETUP_PASSIVE)
		w = "the answer's DTLS setup is not active or passive";
	if (!w && offer->tp.setup != HL_SETUP_ACTPASS &&
	    offer->tp.setup == tp->setup)
		w = "the answer takes the same DTLS role as the offer";
	if (!w && !str_ok(tp->ufrag, sizeof(tp->ufrag), 4, HL_ICE_UFRAG_MAX,
			  is_ice_char))
		w = "the answer has no valid ICE ufrag";
	if (!w &&
	    !str_ok(tp->pwd, sizeof(tp->pwd), 22, HL_ICE_PWD_MAX, is_ice_char))
		w = "the answer has no valid ICE password";
	if (!w && hl_ct_equal(tp->fingerprint, zero, sizeof(zero)))
		w = "the answer has no DTLS fingerprint";
	if (w) {
		if (why)
			*why = w;
		return HL_EPARSE;
	}
	return 0;
}

/*
 * test_html.c - the call time series and the self-contained HTML report
 * (include/hotline/report.h, src/report/timeseries.c and html.c).
 *
 * Reports are built the way `hotline join` and `hotline demo` build them
 * (hl_json writer, hl_report_side_json, hl_timeseries_json) from a
 * synthetic call, then rendered; checks look for the plots, the escaping
 * of user-given names, the "—" of missing fields, and the limits.  Set
 * HL_HTML_SAMPLE=path to keep the rendered sample page.
 */
#include <strings.h>
#include <math.h>
#include <stdlib.h>

#include <jansson.h>

#include "harness.h"
#include "hotline/report.h"

#define EVIL_NAME "<script>alert(1)</script>"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Case-insensitive "<script" anywhere. */
static bool has_script_tag(const char *s)
{
	for (; *s; s++) {
		if (*s != '<')
			continue;
		if (strncasecmp(s + 1, "script", 6) == 0)
			return true;
	}
	return false;
}

/* ---- time series ----------------------------------------------------- */

static void sample_at(int i, struct hl_ts_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->t_s = i + 1;
	s->kbps_sent = 300 + 12 * i - (i >= 20 && i < 24 ? 500 : 0);
	if (s->kbps_sent < 100)
		s->kbps_sent = 100;
	s->kbps_received = s->kbps_sent * 0.97 + (i % 7);
	s->rtt_ms = 40 + 8 * sin(i / 3.0) + (i >= 20 && i < 24 ? 120 : 0);
	s->loss = i >= 20 && i < 24 ? 0.08 + 0.01 * (i - 20) : 0.001 * (i % 3);
	s->video_latency_ms = 95 + 10 * sin(i / 5.0);
	s->audio_latency_ms = 70 + 4 * cos(i / 4.0);
	s->fps = i >= 21 && i < 23 ? 4 : 30 - (i % 4 == 0);
	s->frames_rendered = (uint64_t)(29.5 * (i + 1));
}

static int test_timeseries_roundtrip(void)
{
	struct hl_timeseries ts = {0};
	struct hl_ts_sample s;
	struct hl_json j;
	json_error_t jerr;
	json_t *root, *arr;
	int err = 0;

	for (int i = 0; i < 300 && !err; i++) {
		sample_at(i, &s);
		err = hl_timeseries_add(&ts, &s);
	}
	if (err) {
		hl_timeseries_free(&ts);
		if (err == HL_ENOMEM && hl_mem_failed())
			return HT_OOM_OK;
		HT_EQ_INT(err, 0);
	}
	HT_EQ_INT(ts.n, 300);
	hl_json_init(&j);
	hl_json_obj_begin(&j, NULL);
	hl_timeseries_json(&j, "timeseries", &ts);
	hl_json_obj_end(&j);
	hl_timeseries_free(&ts);
	HT_ASSERT(ts.s == NULL && ts.n == 0);
	if (j.err) {
		err = j.err;
		hl_json_free(&j);
		if (err == HL_ENOMEM && hl_mem_failed())
			return HT_OOM_OK;
		HT_EQ_INT(err, 0);
	}
	root = json_loads(j.buf, 0, &jerr);
	hl_json_free(&j);
	HT_ASSERT(root);
	arr = json_object_get(root, "timeseries");
	HT_ASSERT(json_is_array(arr));
	HT_EQ_INT(json_array_size(arr), 300);
	for (int i = 0; i < 300; i++) {
		json_t *o = json_array_get(arr, (size_t)i);

		sample_at(i, &s);
		HT_EQ_INT(json_object_size(o), 9);
#define NEAR(key, v, tol)                                                   \
	HT_ASSERT(fabs(json_number_value(json_object_get(o, key)) - (v)) <= \
		  (tol))
		NEAR("t_s", s.t_s, 0.0005);
		NEAR("kbps_sent", s.kbps_sent, 0.05);
		NEAR("kbps_received", s.kbps_received, 0.05);
		NEAR("rtt_ms", s.rtt_ms, 0.05);
		NEAR("loss", s.loss, 0.00005);
		NEAR("video_latency_ms", s.video_latency_ms, 0.05);
		NEAR("audio_latency_ms", s.audio_latency_ms, 0.05);
		NEAR("fps", s.fps, 0.05);
#undef NEAR
		HT_ASSERT(
			json_is_integer(json_object_get(o, "frames_rendered")));
		HT_EQ_INT(json_integer_value(
				  json_object_get(o, "frames_rendered")),
			  s.frames_rendered);
	}
	json_decref(root);
	return 0;
}

static int test_timeseries_limit(void)
{
	struct hl_timeseries ts = {0};
	struct hl_ts_sample s = {0};

	for (int i = 0; i < 100000; i++) {
		s.t_s = i;
		HT_EQ_INT(hl_timeseries_add(&ts, &s), 0);
	}
	HT_EQ_INT(hl_timeseries_add(&ts, &s), HL_ETOOBIG);
	HT_EQ_INT(ts.n, 100000);
	HT_EQ_INT(ts.s[99999].t_s, 99999);
	hl_timeseries_free(&ts);
	hl_timeseries_free(&ts); /* twice is fine */
	return 0;
}

/* ---- building reports ------------------------------------------------ */

static void side_json(struct hl_json *j, const char *key, const char *name,
		      const char *peer, const char *sas, int nsamples)
{
	struct hl_side_report r;
	struct hl_timeseries ts = {0};
	struct hl_ts_sample s;

	memset(&r, 0, sizeof(r));
	r.seconds = nsamples;
	r.sas = sas;
	r.call.suite = HL_SFRAME_AES_128_GCM_SHA256_128;
	r.call.frames_authenticated = 1234;
	r.call.video_frames_sent = 1800;
	r.call.video_bytes_sent = 9000000;
	r.call.video_bytes_received = 8700000;
	r.call.audio_frames_sent = 3000;
	r.call.bytes_sent = 9500000;
	r.call.rtt_ms = 41.7;
	r.call.loss_in = 0.0123;
	r.call.nacks_sent = 17;
	r.call.retransmissions = 15;
	r.video.frames = 1771;
	r.video.freezes = 1;
	r.video.max_freeze_ms = 380;
	r.video.psnr_db = 41.25;
	r.video.latency_p50_ms = 96.4;
	r.video.latency_p95_ms = 131.9;
	r.video.width = 1280;
	r.video.height = 720;
	r.audio.frames_played = 2990;
	r.audio.concealed_ms = 120;
	r.audio.latency_p50_ms = 71.2;
	r.audio.latency_p95_ms = 88.0;

	hl_json_obj_begin(j, key);
	hl_json_str(j, "name", name);
	hl_json_str(j, "peer", peer);
	hl_json_str(j, "call_id", "0123456789abcdef0123456789abcdef");
	hl_json_str(j, "path", "direct");
	hl_json_str(j, "srtp", "SRTP_AEAD_AES_128_GCM");
	hl_json_u64(j, "srtp_failures", 0);
	hl_json_bool(j, "clean_exit", true);
	hl_report_side_fields(j, &r);
	for (int i = 0; i < nsamples; i++) {
		sample_at(i, &s);
		if (key[0] == 'b') {
			s.kbps_sent *= 0.9;
			s.rtt_ms += 2;
			s.video_latency_ms += 12;
		}
		if (hl_timeseries_add(&ts, &s))
			j->err = HL_ENOMEM;
	}
	hl_timeseries_json(j, "timeseries", &ts);
	hl_timeseries_free(&ts);
	hl_json_obj_end(j);
}

/* A two-sided demo report; hl_json_free() it. */
static int demo_report(struct hl_json *j, const char *alice_name,
		       const char *bob_sas, int nsamples)
{
	const char *sas = "orbit velvet canyon maple";

	hl_json_init(j);
	hl_json_obj_begin(j, NULL);
	side_json(j, "alice", alice_name, "bob", sas, nsamples);
	side_json(j, "bob", "bob", alice_name, bob_sas ? bob_sas : sas,
		  nsamples);
	hl_json_obj_end(j);
	return j->err;
}

static int render(const char *json, char **html)
{
	return hl_report_html(json, strlen(json), html);
}

/* ---- the HTML -------------------------------------------------------- */

static int test_html_full(void)
{
	struct hl_json j;
	char *html = NULL;
	const char *sample = getenv("HL_HTML_SAMPLE");

	HT_OK(demo_report(&j, "alice", NULL, 60));
	HT_EQ_INT(render(j.buf, &html), 0);
	hl_json_free(&j);
	HT_ASSERT(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	HT_ASSERT(strstr(html, "</html>"));
	HT_ASSERT(strstr(html, "<title>hotline call "
			       "0123456789abcdef0123456789abcdef</title>"));
	HT_EQ_INT(count(html, "orbit velvet canyon maple"), 2);
	HT_ASSERT(strstr(html, "The safety codes match"));
	/* Seven plots, two sides each; bitrate has sent and received. */
	HT_EQ_INT(count(html, "<figure>"), 7);
	HT_EQ_INT(count(html, "<polyline"), 16);
	HT_ASSERT(strstr(html, ">Round-trip time<"));
	HT_ASSERT(strstr(html, ">time (s)<"));
	HT_ASSERT(strstr(html, "no data") == NULL);
	/* Summary values. */
	HT_ASSERT(strstr(html, "<td>1771 / 1800</td>"));
	HT_ASSERT(strstr(html, "<td>41.25</td>"));
	HT_ASSERT(strstr(html, "<td>96.4 / 131.9</td>"));
	HT_ASSERT(strstr(html, "<td>1.23 %</td>"));
	HT_ASSERT(strstr(html, "<td>SRTP_AEAD_AES_128_GCM</td>"));
	/* Self-contained. */
	HT_ASSERT(!has_script_tag(html));
	HT_ASSERT(strstr(html, "http://") == NULL ||
		  count(html, "http://") ==
			  count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
	HT_ASSERT(strstr(html, "https://") == NULL);
	HT_ASSERT(strstr(html, "<link") == NULL);
	HT_ASSERT(strstr(html, "<img") == NULL);
	if (sample) {
		FILE *f = fopen(sample, "w");

		HT_ASSERT(f);
		fputs(html, f);
		fclose(f);
	}
	hl_free(html);
	return 0;
}

static int test_html_escapes_names(void)
{
	struct hl_json j;
	char *html = NULL;

	HT_OK(demo_report(&j, EVIL_NAME, NULL, 5));
	HT_EQ_INT(render(j.buf, &html), 0);
	hl_json_free(&j);
	HT_ASSERT(strstr(html, EVIL_NAME) == NULL);
	HT_ASSERT(!has_script_tag(html));
	HT_ASSERT(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	hl_free(html);

	/* Keys, SAS, call id, quotes and control characters too. */
	HT_EQ_INT(render("{\"<b>\\\"x'\": {\"call_id\": \"<i>&\", "
			 "\"sas\": \"<svg onload=1>\", "
			 "\"srtp\": \"a\\u0001b\"}}",
			 &html),
		  0);
	HT_ASSERT(strstr(html, "<b>") == NULL);
	HT_ASSERT(strstr(html, "<i>") == NULL);
	HT_ASSERT(strstr(html, "<svg onload") == NULL);
	HT_ASSERT(strstr(html, "&lt;b&gt;&quot;x&#39;"));
	HT_ASSERT(strstr(html, "&lt;i&gt;&amp;"));
	HT_ASSERT(strstr(html, "<td>a b</td>"));
	hl_free(html);
	return 0;
}

static int test_html_sas_differ(void)
{
	struct hl_json j;
	char *html = NULL;

	HT_OK(demo_report(&j, "alice", "orbit velvet canyon mango", 3));
	HT_EQ_INT(render(j.buf, &html), 0);
	hl_json_free(&j);
	HT_ASSERT(strstr(html, "The safety codes differ"));
	HT_ASSERT(strstr(html, "The safety codes match") == NULL);
	hl_free(html);
	return 0;
}

static int test_html_missing_fields(void)
{
	static const char *const inputs[] = {
		"{\"alice\": {}}",
		"{\"alice\": {}, \"bob\": {\"video\": 7, \"timeseries\": 3}}",
		"{\"alice\": {\"name\": 5, \"video\": 5, \"x\": {\"video\": 5, "
		"\"audio\": {\"latency_ms\": [1]}, \"sas\": 9}, "
		"\"timeseries\": [1, null, {\"t_s\": \"x\"}, {\"t_s\": 1, "
		"\"rtt_ms\": 3}, {\"rtt_ms\": 4}]}, \"note\": \"x\"}",
		"{\"alice\": {\"timeseries\": [{\"t_s\": 1, \"fps\": 1e300}, "
		"{\"t_s\": -1e300, \"fps\": 2}, {\"t_s\": 2, \"fps\": -5}, "
		"{\"t_s\": 3, \"fps\": 1e-300}, {\"t_s\": 4}]}}",
		"{\"a\": {\"timeseries\": [{\"t_s\": 1e11, \"loss\": 0.5}, "
		"{\"t_s\": 1e11, \"loss\": 0.5000000001}]}}",
	};
	char *html = NULL;

	for (size_t i = 0; i < HL_ARRAY_SIZE(inputs); i++) {
		HT_EQ_INT(render(inputs[i], &html), 0);
		HT_ASSERT(strstr(html, "</html>"));
		HT_ASSERT(strstr(html, "\xe2\x80\x94")); /* — */
		HT_ASSERT(strstr(html, "nan") == NULL);
		HT_ASSERT(strstr(html, "inf") == NULL);
		if (i == 2) {
			/* Only the RTT plot, one point: a dot. */
			HT_EQ_INT(count(html, "<figure>"), 1);
			HT_EQ_INT(count(html, "<circle"), 1);
			HT_EQ_INT(count(html, "no data"), 6);
		}
		hl_free(html);
	}
	return 0;
}

static int test_html_rejects_garbage(void)
{
	static const char *const bad[] = {
		"",	      "{",
		"[]",	      "42",
		"null",	      "{}",
		"{\"a\": 1}", "{\"a\": []}",
		"\"str\"",    "{\"a\":{}} x",
		"\xff{}",
	};
	char *html = (char *)"untouched";

	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++)
		HT_EQ_INT(render(bad[i], &html), HL_EPARSE);
	HT_ASSERT(strcmp(html, "untouched") == 0);
	/* Invalid UTF-8 inside a string. */
	HT_EQ_INT(render("{\"a\": {\"name\": \"\xc3\x28\"}}", &html),
		  HL_EPARSE);
	HT_EQ_INT(hl_report_html(NULL, 0, &html), HL_EINVAL);
	HT_EQ_INT(hl_report_html("{}", 2, NULL), HL_EINVAL);
	return 0;
}

static int test_html_limits(void)
{
	size_t n = 100001, cap = n * 3 + 64, len = 0;
	char *big = hl_malloc(cap);
	char *html = NULL;

	HT_ASSERT(big);
	/* One sample too many. */
	len += (size_t)snprintf(big, cap, "{\"a\": {\"timeseries\": [");
	for (size_t i = 0; i < n; i++) {
		memcpy(big + len, i ? ",{}" : "{}", i ? 3 : 2);
		len += i ? 3 : 2;
	}
	len += (size_t)snprintf(big + len, cap - len, "]}}");
	HT_EQ_INT(hl_report_html(big, len, &html), HL_ETOOBIG);
	hl_free(big);

	/* Nine sides. */
	HT_EQ_INT(render("{\"1\":{},\"2\":{},\"3\":{},\"4\":{},\"5\":{},"
			 "\"6\":{},\"7\":{},\"8\":{},\"9\":{}}",
			 &html),
		  HL_ETOOBIG);
	HT_EQ_INT(render("{\"1\":{},\"2\":{},\"3\":{},\"4\":{},\"5\":{},"
			 "\"6\":{},\"7\":{},\"8\":{}}",
			 &html),
		  0);
	hl_free(html);
	return 0;
}

/* A day-long call: the page stays small (a few points per pixel). */
static int test_html_long_call(void)
{
	struct hl_json j;
	char *html = NULL;

	HT_OK(demo_report(&j, "alice", NULL, 86400));
	HT_EQ_INT(render(j.buf, &html), 0);
	hl_json_free(&j);
	HT_ASSERT(strlen(html) < 1000000);
	HT_EQ_INT(count(html, "<polyline"), 16);
	hl_free(html);
	return 0;
}

static int test_html_deterministic(void)
{
	struct hl_json j;
	char *a = NULL, *b = NULL;

	HT_OK(demo_report(&j, "alice", NULL, 30));
	HT_EQ_INT(render(j.buf, &a), 0);
	HT_EQ_INT(render(j.buf, &b), 0);
	hl_json_free(&j);
	HT_ASSERT(strcmp(a, b) == 0);
	hl_free(a);
	hl_free(b);
	return 0;
}

/* Every allocation of the page failing in turn: HL_ENOMEM, no leak. */
static int test_html_oom(void)
{
	static const char json[] =
		"{\"alice\": {\"name\": \"alice\", \"report\": {\"sas\": \"a "
		"b\"}, \"timeseries\": [{\"t_s\": 1, \"rtt_ms\": 30}, "
		"{\"t_s\": 2, \"rtt_ms\": 35}]}}";
	char *html = NULL;

	HT_OK(hl_report_html(json, sizeof(json) - 1, &html));
	HT_ASSERT(strstr(html, "</html>"));
	hl_free(html);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST_OOM(test_timeseries_roundtrip),
	HT_TEST(test_timeseries_limit),
	HT_TEST(test_html_full),
	HT_TEST(test_html_escapes_names),
	HT_TEST(test_html_sas_differ),
	HT_TEST(test_html_missing_fields),
	HT_TEST(test_html_rejects_garbage),
	HT_TEST(test_html_limits),
	HT_TEST(test_html_long_call),
	HT_TEST(test_html_deterministic),
	HT_TEST_OOM(test_html_oom),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}

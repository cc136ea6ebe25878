/*
 * gst_call.c - the GStreamer comparison of a one-way call: alice sends,
 * bob receives, VP8 720p30 + Opus, on 127.0.0.1, each side its own
 * process, over plain RTP/UDP or over webrtcbin (ICE, DTLS-SRTP).
 *
 * The sending process feeds hotline's own test pattern and test tone into
 * appsrc elements in real time, each picture stamped with the capture time
 * (CLOCK_MONOTONIC microseconds), and encodes them with vp8enc and opusenc
 * at hotline's settings (see VENC/AENC below: real-time deadline, fixed
 * speed 6, one thread, CBR 1500 kb/s, the same rate-control buffer,
 * quantizer range, key-frame cap and error resilience as src/media/vp8.c;
 * Opus voice, 32 kb/s VBR, complexity 9, in-band FEC, 10 % loss).  The
 * receiving process depayloads and decodes them (vp8dec one thread,
 * opusdec with FEC) into appsinks; the video appsink reads the stamp of
 * every decoded picture (hl_pattern_read) and so measures glass-to-glass
 * latency exactly, both processes sharing CLOCK_MONOTONIC.
 *
 *   --transport rtp     udpsink -> udpsrc ! rtpjitterbuffer, video and audio
 *                       on two ports (no RTCP, no encryption);
 *   --transport webrtc  two webrtcbin peers, offer/answer and ICE candidates
 *                       exchanged over a Unix socket pair; ICE restricted to
 *                       127.0.0.1 (the libnice agent is given that one local
 *                       address; no STUN/TURN), DTLS-SRTP, bundled.
 *
 * The decoded picture counts as rendered when it reaches the appsink (like
 * hotline, which shows a picture as soon as it is decoded); --sync makes
 * the sinks wait for their clock time instead (GStreamer's playback
 * behaviour: the jitter-buffer latency is added).
 *
 * This parent process forks the receiver, waits until it listens, forks
 * the sender, and collects their CPU time (wait4: user+sys of all threads
 * of each process, start-up included) and results into one JSON line:
 * send_cpu_s, recv_cpu_s, frames, g2g_p50_ms, g2g_p95_ms, setup_ms (from
 * the start of both processes to the first decoded picture).
 *
 * usage: gst_call --transport rtp|webrtc [--seconds N] [--latency-ms N]
 *                 [--sync] [--port N]
 */
#define GST_USE_UNSTABLE_API 1

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/nice/nice.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include "pace.h"
#include "hotline/net.h"
#include "hotline/media.h"

#define WIDTH	    1280
#define HEIGHT	    720
#define FPS	    30
#define VIDEO_BPS   1500000
#define AUDIO_FRAME 20000 /* µs */
#define MTU	    1200  /* HL_CALL_DEFAULT_MTU */

/* src/media/vp8.c's settings, element by element. */
#define VENC                                                                 \
	"vp8enc deadline=1 cpu-used=-6 threads=1 target-bitrate=1500000 "    \
	"end-usage=cbr error-resilient=default static-threshold=1 "          \
	"noise-sensitivity=0 token-partitions=1 max-intra-bitrate=900 "      \
	"min-quantizer=2 max-quantizer=63 undershoot=100 overshoot=15 "      \
	"buffer-initial-size=1000 buffer-optimal-size=600 buffer-size=1000 " \
	"keyframe-mode=auto keyframe-max-dist=3000 dropframe-threshold=0 "   \
	"lag-in-frames=0 resize-allowed=false"
/* src/media/opus.c's (OPUS_APPLICATION_VOIP, libopus' default VBR). */
#define AENC                                                       \
	"opusenc bitrate=32000 audio-type=voice bitrate-type=vbr " \
	"complexity=9 frame-size=20 inband-fec=true "              \
	"packet-loss-percentage=10"
#define VSRC                                                           \
	"appsrc name=vsrc is-live=true format=time do-timestamp=true " \
	"block=false max-bytes=0 max-buffers=5 leaky-type=upstream "   \
	"caps=video/x-raw,format=I420,width=1280,height=720,framerate=30/1 "
#define ASRC                                                           \
	"appsrc name=asrc is-live=true format=time do-timestamp=true " \
	"block=false max-bytes=0 max-buffers=10 leaky-type=upstream "  \
	"caps=audio/x-raw,format=S16LE,rate=48000,channels=1,"         \
	"layout=interleaved "
#define VRTP_CAPS                                                     \
	"application/x-rtp,media=video,encoding-name=VP8,payload=96," \
	"clock-rate=90000"
#define ARTP_CAPS                                                       \
	"application/x-rtp,media=audio,encoding-name=OPUS,payload=111," \
	"clock-rate=48000"
#define VDEC                                                          \
	"rtpvp8depay request-keyframe=true wait-for-keyframe=true ! " \
	"vp8dec threads=1 ! appsink name=vsink sync=%s"
#define ADEC                                                               \
	"rtpopusdepay ! opusdec use-inband-fec=true ! appsink name=asink " \
	"sync=%s"

struct options {
	bool webrtc;
	bool sync;
	double seconds;
	unsigned latency_ms;
	int port;
};

/* What each child reports to the parent through a pipe. */
struct recv_result {
	uint64_t first_frame_us; /* CLOCK_MONOTONIC of the first picture */
	uint32_t frames, unreadable, audio_frames;
	double p50_ms, p95_ms, max_ms;
};

struct send_result {
	uint32_t vframes, aframes;
	uint64_t connected_us; /* webrtc: connection-state "connected" */
};

/* One process's GStreamer state. */
struct peer {
	const struct options *o;
	bool sender;
	GMainLoop *loop;
	GstElement *pipe, *webrtc;
	int sigfd; /* the signalling socket (webrtc) or its sender-gone cue */
	GMutex lock;
	GCond cond;
	bool started, stop, failed;
	struct send_result sres;
	/* receiver */
	GstVideoInfo vinfo;
	bool have_vinfo;
	double *lat_ms;
	size_t nlat, maxlat;
	struct recv_result rres;
};

static bool write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* ---- signalling: one line per message over the socket pair ----------- */

/* "O base64(sdp)", "A base64(sdp)", "C mline candidate" */
static void sig_send(struct peer *p, char type, const char *payload)
{
	char *line = g_strdup_printf("%c %s\n", type, payload);

	g_mutex_lock(&p->lock);
	if (!write_all(p->sigfd, line, strlen(line)))
		g_printerr("gst_call: signalling write failed\n");
	g_mutex_unlock(&p->lock);
	g_free(line);
}

static void send_sdp(struct peer *p, char type, GstWebRTCSessionDescription *d)
{
	char *text = gst_sdp_message_as_text(d->sdp);
	char *b64 = g_base64_encode((const guchar *)text, strlen(text));

	sig_send(p, type, b64);
	g_free(b64);
	g_free(text);
}

static void on_answer_created(GstPromise *promise, gpointer user)
{
	struct peer *p = user;
	const GstStructure *reply = gst_promise_get_reply(promise);
	GstWebRTCSessionDescription *d = NULL;

	if (reply)
		gst_structure_get(reply, "answer",
				  GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &d,
				  NULL);
	gst_promise_unref(promise);
	if (!d) {
		g_printerr("gst_call: webrtcbin made no answer\n");
		p->failed = true;
		g_main_loop_quit(p->loop);
		return;
	}
	g_signal_emit_by_name(p->webrtc, "set-local-description", d, NULL);
	send_sdp(p, 'A', d);
	gst_webrtc_session_description_free(d);
}

static void on_offer_created(GstPromise *promise, gpointer user)
{
	struct peer *p = user;
	const GstStructure *reply = gst_promise_get_reply(promise);
	GstWebRTCSessionDescription *d = NULL;

	if (reply)
		gst_structure_get(reply, "offer",
				  GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &d,
				  NULL);
	gst_promise_unref(promise);
	if (!d) {
		g_printerr("gst_call: webrtcbin made no offer\n");
		p->failed = true;
		g_main_loop_quit(p->loop);
		return;
	}
	g_signal_emit_by_name(p->webrtc, "set-local-description", d, NULL);
	send_sdp(p, 'O', d);
	gst_webrtc_session_description_free(d);
}

static void on_negotiation_needed(GstElement *w, gpointer user)
{
	struct peer *p = user;
	GstPromise *promise =
		gst_promise_new_with_change_func(on_offer_created, p, NULL);

	g_signal_emit_by_name(w, "create-offer", NULL, promise);
}

/* Only loopback candidates leave this process (belt and braces: the
 * agent has no other local address). */
static void on_ice_candidate(GstElement *w, guint mline, gchar *cand,
			     gpointer user)
{
	struct peer *p = user;
	char *msg;

	if (!strstr(cand, " 127.0.0.1 "))
		return;
	msg = g_strdup_printf("%u %s", mline, cand);
	sig_send(p, 'C', msg);
	g_free(msg);
}

static void on_connection_state(GObject *w, GParamSpec *ps, gpointer user)
{
	struct peer *p = user;
	GstWebRTCPeerConnectionState st;

	g_object_get(w, "connection-state", &st, NULL);
	if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
		g_mutex_lock(&p->lock);
		if (!p->started) {
			p->sres.connected_us = hl_clock_now_us();
			p->started = true;
			g_cond_broadcast(&p->cond);
		}
		g_mutex_unlock(&p->lock);
	} else if (st == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
		g_printerr("gst_call: webrtc connection failed\n");
		p->failed = true;
		g_main_loop_quit(p->loop);
	}
}

static void set_remote(struct peer *p, GstWebRTCSDPType type, const char *b64)
{
	gsize len = 0;
	guchar *text = g_base64_decode(b64, &len);
	char *s = g_strndup((const char *)text, len);
	GstSDPMessage *sdp = NULL;
	GstWebRTCSessionDescription *d;

	g_free(text);
	if (gst_sdp_message_new_from_text(s, &sdp) != GST_SDP_OK) {
		g_printerr("gst_call: unparsable SDP from the peer\n");
		p->failed = true;
		g_main_loop_quit(p->loop);
		g_free(s);
		return;
	}
	g_free(s);
	d = gst_webrtc_session_description_new(type, sdp);
	g_signal_emit_by_name(p->webrtc, "set-remote-description", d, NULL);
	gst_webrtc_session_description_free(d);
	if (type == GST_WEBRTC_SDP_TYPE_OFFER) {
		GstPromise *promise = gst_promise_new_with_change_func(
			on_answer_created, p, NULL);

		g_signal_emit_by_name(p->webrtc, "create-answer", NULL,
				      promise);
	}
}

static gboolean quit_cb(gpointer user)
{
	g_main_loop_quit(user);
	return G_SOURCE_REMOVE;
}

/*
 * A message from the peer, or the end of the socket: the sender has gone,
 * so the receiver stops after a short drain (the last pictures in flight).
 */
static gboolean on_sig_readable(GIOChannel *ch, GIOCondition cond,
				gpointer user)
{
	struct peer *p = user;
	char *line = NULL;
	gsize len = 0;
	GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);

	if (st == G_IO_STATUS_AGAIN)
		return G_SOURCE_CONTINUE;
	if (st != G_IO_STATUS_NORMAL || !line) {
		g_free(line);
		if (!p->sender)
			g_timeout_add(500, quit_cb, p->loop);
		return G_SOURCE_REMOVE;
	}
	g_strchomp(line);
	if (p->webrtc && len > 2 && line[1] == ' ') {
		if (line[0] == 'O' && !p->sender) {
			set_remote(p, GST_WEBRTC_SDP_TYPE_OFFER, line + 2);
		} else if (line[0] == 'A' && p->sender) {
			set_remote(p, GST_WEBRTC_SDP_TYPE_ANSWER, line + 2);
		} else if (line[0] == 'C') {
			char *end;
			unsigned long mline = strtoul(line + 2, &end, 10);

			if (*end == ' ' && strstr(end, " 127.0.0.1 "))
				g_signal_emit_by_name(p->webrtc,
						      "add-ice-candidate",
						      (guint)mline, end + 1);
		}
	}
	g_free(line);
	return G_SOURCE_CONTINUE;
}

/*
 * webrtcbin's libnice agent gathers on 127.0.0.1 only, UDP only, and does
 * not look for a UPnP router (no STUN or TURN server is set either).
 */
static bool ice_loopback_only(GstElement *w)
{
	GstWebRTCICE *ice = NULL;
	NiceAgent *agent = NULL;
	NiceAddress addr;
	bool ok = false;

	g_object_get(w, "ice-agent", &ice, NULL);
	if (ice &&
	    g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) {
		g_object_set(ice, "ice-tcp", FALSE, NULL);
		g_object_get(ice, "agent", &agent, NULL);
	}
	if (agent) {
		/* No UPnP: its discovery multicasts on every interface. */
		g_object_set(agent, "upnp", FALSE, NULL);
		nice_address_init(&addr);
		ok = nice_address_set_from_string(&addr, "127.0.0.1") &&
		     nice_agent_add_local_address(agent, &addr);
		g_object_unref(agent);
	}
	if (ice)
		gst_object_unref(ice);
	return ok;
}

/* ---- receiving side -------------------------------------------------- */

static GstFlowReturn on_video_sample(GstAppSink *sink, gpointer user)
{
	struct peer *p = user;
	GstSample *s = gst_app_sink_pull_sample(sink);
	uint64_t now = hl_clock_now_us();
	GstVideoFrame f;
	struct hl_image img;
	struct hl_stamp st;

	if (!s)
		return GST_FLOW_EOS;
	if (!p->have_vinfo)
		p->have_vinfo = gst_video_info_from_caps(
			&p->vinfo, gst_sample_get_caps(s));
	if (p->have_vinfo &&
	    gst_video_frame_map(&f, &p->vinfo, gst_sample_get_buffer(s),
				GST_MAP_READ)) {
		img.width = GST_VIDEO_FRAME_WIDTH(&f) & ~1;
		img.height = GST_VIDEO_FRAME_HEIGHT(&f) & ~1;
		img.owned = false;
		for (int i = 0; i < 3; i++) {
			img.plane[i] = GST_VIDEO_FRAME_PLANE_DATA(&f, i);
			img.stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE(&f, i);
		}
		if (p->rres.frames++ == 0)
			p->rres.first_frame_us = now;
		if (hl_pattern_read(&img, &st) == 0 && p->nlat < p->maxlat) {
			uint64_t mask = ((uint64_t)1 << 48) - 1;

			p->lat_ms[p->nlat++] =
				(double)((now - st.capture_us) & mask) / 1000.0;
		} else {
			p->rres.unreadable++;
		}
		gst_video_frame_unmap(&f);
	}
	gst_sample_unref(s);
	return GST_FLOW_OK;
}

static GstFlowReturn on_audio_sample(GstAppSink *sink, gpointer user)
{
	struct peer *p = user;
	GstSample *s = gst_app_sink_pull_sample(sink);

	if (!s)
		return GST_FLOW_EOS;
	p->rres.audio_frames++;
	gst_sample_unref(s);
	return GST_FLOW_OK;
}

static void hook_sinks(struct peer *p, GstElement *bin)
{
	static GstAppSinkCallbacks vcb = {.new_sample = on_video_sample};
	static GstAppSinkCallbacks acb = {.new_sample = on_audio_sample};
	GstElement *v = gst_bin_get_by_name(GST_BIN(bin), "vsink");
	GstElement *a = gst_bin_get_by_name(GST_BIN(bin), "asink");

	if (v) {
		gst_app_sink_set_callbacks(GST_APP_SINK(v), &vcb, p, NULL);
		gst_object_unref(v);
	}
	if (a) {
		gst_app_sink_set_callbacks(GST_APP_SINK(a), &acb, p, NULL);
		gst_object_unref(a);
	}
}

/* webrtcbin's new receiving pad: depayload and decode by encoding. */
static void on_pad_added(GstElement *w, GstPad *pad, gpointer user)
{
	struct peer *p = user;
	const char *sync = p->o->sync ? "true" : "false";
	GstCaps *caps;
	const char *enc;
	char *desc = NULL;
	GstElement *bin;
	GstPad *sink;
	GError *err = NULL;

	if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
		return;
	caps = gst_pad_get_current_caps(pad);
	if (!caps)
		caps = gst_pad_query_caps(pad, NULL);
	enc = gst_structure_get_string(gst_caps_get_structure(caps, 0),
				       "encoding-name");
	if (enc && !g_ascii_strcasecmp(enc, "VP8"))
		desc = g_strdup_printf(VDEC, sync);
	else if (enc && !g_ascii_strcasecmp(enc, "OPUS"))
		desc = g_strdup_printf(ADEC, sync);
	gst_caps_unref(caps);
	if (!desc)
		return;
	bin = gst_parse_bin_from_description(desc, TRUE, &err);
	g_free(desc);
	if (!bin) {
		g_printerr("gst_call: %s\n", err->message);
		g_clear_error(&err);
		return;
	}
	hook_sinks(p, bin);
	gst_bin_add(GST_BIN(p->pipe), bin);
	gst_element_sync_state_with_parent(bin);
	sink = gst_element_get_static_pad(bin, "sink");
	if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
		g_printerr("gst_call: cannot link a received stream\n");
	gst_object_unref(sink);
}

/* ---- sending side ---------------------------------------------------- */

/* Push pictures and tone frames in real time for --seconds, then stop. */
static gpointer pusher(gpointer user)
{
	struct peer *p = user;
	GstElement *vsrc = gst_bin_get_by_name(GST_BIN(p->pipe), "vsrc");
	GstElement *asrc = gst_bin_get_by_name(GST_BIN(p->pipe), "asrc");
	uint64_t vframes = (uint64_t)(p->o->seconds * FPS);
	uint64_t aframes = (uint64_t)(p->o->seconds * 1000000 / AUDIO_FRAME);
	uint64_t k = 0, ak = 0, t0;
	GstVideoInfo vi;

	gst_video_info_set_format(&vi, GST_VIDEO_FORMAT_I420, WIDTH, HEIGHT);
	g_mutex_lock(&p->lock);
	while (!p->started && !p->stop)
		g_cond_wait(&p->cond, &p->lock);
	g_mutex_unlock(&p->lock);
	t0 = hl_clock_now_us();
	while (!p->stop && (k < vframes || ak < aframes)) {
		uint64_t vt = k * 1000000u / FPS, at = ak * AUDIO_FRAME;
		bool video = k < vframes && (ak >= aframes || vt <= at);
		GstMapInfo m;
		GstBuffer *b;

		sleep_until(t0 + (video ? vt : at));
		if (video) {
			struct hl_image img = {.width = WIDTH,
					       .height = HEIGHT};
			struct hl_stamp st = {(uint32_t)k, hl_clock_now_us()};

			b = gst_buffer_new_allocate(NULL, vi.size, NULL);
			gst_buffer_map(b, &m, GST_MAP_WRITE);
			for (int i = 0; i < 3; i++) {
				img.plane[i] = m.data + vi.offset[i];
				img.stride[i] = vi.stride[i];
			}
			hl_pattern_render(&img, &st);
			gst_buffer_unmap(b, &m);
			gst_app_src_push_buffer(GST_APP_SRC(vsrc), b);
			k++;
		} else {
			uint64_t now = hl_clock_now_us();

			b = gst_buffer_new_allocate(
				NULL, HL_AUDIO_FRAME_SAMPLES * 2, NULL);
			gst_buffer_map(b, &m, GST_MAP_WRITE);
			hl_tone_render((int16_t *)(void *)m.data,
				       (uint16_t)(now / AUDIO_FRAME));
			gst_buffer_unmap(b, &m);
			gst_app_src_push_buffer(GST_APP_SRC(asrc), b);
			ak++;
		}
	}
	p->sres.vframes = (uint32_t)k;
	p->sres.aframes = (uint32_t)ak;
	gst_app_src_end_of_stream(GST_APP_SRC(vsrc));
	gst_app_src_end_of_stream(GST_APP_SRC(asrc));
	gst_object_unref(vsrc);
	gst_object_unref(asrc);
	/* Let the last frames leave before the process ends. */
	g_timeout_add(300, quit_cb, p->loop);
	return NULL;
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer user)
{
	struct peer *p = user;

	if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
		GError *err = NULL;
		char *dbg = NULL;

		gst_message_parse_error(msg, &err, &dbg);
		g_printerr("gst_call: %s: %s (%s)\n",
			   p->sender ? "sender" : "receiver", err->message,
			   dbg ? dbg : "");
		g_clear_error(&err);
		g_free(dbg);
		p->failed = true;
		g_main_loop_quit(p->loop);
	}
	return G_SOURCE_CONTINUE;
}

static char *pipeline_text(const struct options *o, bool sender)
{
	const char *sync = o->sync ? "true" : "false";
	char *vdec = g_strdup_printf(VDEC, sync);
	char *adec = g_strdup_printf(ADEC, sync);
	char *s;

	if (sender && o->webrtc)
		s = g_strdup_printf("webrtcbin name=w bundle-policy=max-bundle "
				    "latency=%u " VSRC "! " VENC
				    " ! rtpvp8pay pt=96 mtu=%d "
				    "picture-id-mode=15-bit ! " VRTP_CAPS
				    " ! w. " ASRC "! " AENC
				    " ! rtpopuspay pt=111 mtu=%d ! " ARTP_CAPS
				    " ! w.",
				    o->latency_ms, MTU, MTU);
	else if (sender)
		s = g_strdup_printf(
			VSRC "! " VENC " ! rtpvp8pay pt=96 mtu=%d "
			     "picture-id-mode=15-bit ! udpsink host=127.0.0.1 "
			     "port=%d sync=false async=false " ASRC "! " AENC
			     " ! rtpopuspay pt=111 mtu=%d ! udpsink "
			     "host=127.0.0.1 port=%d sync=false async=false",
			MTU, o->port, MTU, o->port + 2);
	else if (o->webrtc)
		s = g_strdup_printf("webrtcbin name=w bundle-policy=max-bundle "
				    "latency=%u",
				    o->latency_ms);
	else
		s = g_strdup_printf(
			"udpsrc address=127.0.0.1 port=%d caps=\"" VRTP_CAPS
			"\" ! rtpjitterbuffer latency=%u ! %s "
			"udpsrc address=127.0.0.1 port=%d caps=\"" ARTP_CAPS
			"\" ! rtpjitterbuffer latency=%u ! %s",
			o->port, o->latency_ms, vdec, o->port + 2,
			o->latency_ms, adec);
	g_free(vdec);
	g_free(adec);
	return s;
}

/*
 * Sender transceivers send only (the answer is then recvonly) and know
 * their codec before any media flows: capture starts once the connection
 * is up, and webrtcbin negotiates only when each sink pad has caps or
 * codec preferences.
 */
static void prepare_transceivers(GstElement *w)
{
	static const char *const caps[] = {VRTP_CAPS, ARTP_CAPS};

	for (int i = 0; i < 2; i++) {
		char name[16];
		GstPad *pad;
		GstWebRTCRTPTransceiver *t = NULL;
		GstCaps *c;

		snprintf(name, sizeof(name), "sink_%d", i);
		pad = gst_element_get_static_pad(w, name);
		if (!pad)
			continue;
		g_object_get(pad, "transceiver", &t, NULL);
		gst_object_unref(pad);
		if (!t)
			continue;
		c = gst_caps_from_string(caps[i]);
		g_object_set(t, "direction",
			     GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
			     "codec-preferences", c, NULL);
		gst_caps_unref(c);
		gst_object_unref(t);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * One side of the call, in a child process.  readyfd (receiver): one byte
 * once it listens.  resfd: the result struct at the end.
 */
static int run_peer(const struct options *o, bool sender, int sigfd,
		    int readyfd, int resfd)
{
	struct peer p = {.o = o, .sender = sender, .sigfd = sigfd};
	GIOChannel *ch;
	GError *err = NULL;
	GThread *th = NULL;
	char *text;
	GstBus *bus;

	gst_init(NULL, NULL);
	g_mutex_init(&p.lock);
	g_cond_init(&p.cond);
	p.loop = g_main_loop_new(NULL, FALSE);
	text = pipeline_text(o, sender);
	p.pipe = gst_parse_launch(text, &err);
	g_free(text);
	if (!p.pipe || err) {
		g_printerr("gst_call: pipeline: %s\n",
			   err ? err->message : "?");
		return 1;
	}
	if (!GST_IS_PIPELINE(p.pipe)) {
		/* A lone element (the receiving webrtcbin) comes unwrapped. */
		GstElement *pl = gst_pipeline_new(NULL);

		gst_bin_add(GST_BIN(pl), p.pipe);
		p.pipe = pl;
	}
	if (!sender) {
		p.maxlat = (size_t)(o->seconds * FPS) + 4 * FPS;
		p.lat_ms = g_new0(double, p.maxlat);
		hook_sinks(&p, p.pipe);
	}
	if (o->webrtc) {
		p.webrtc = gst_bin_get_by_name(GST_BIN(p.pipe), "w");
		if (!ice_loopback_only(p.webrtc)) {
			g_printerr("gst_call: cannot restrict ICE to "
				   "127.0.0.1\n");
			return 1;
		}
		g_signal_connect(p.webrtc, "on-ice-candidate",
				 G_CALLBACK(on_ice_candidate), &p);
		if (sender) {
			prepare_transceivers(p.webrtc);
			g_signal_connect(p.webrtc, "on-negotiation-needed",
					 G_CALLBACK(on_negotiation_needed), &p);
			g_signal_connect(p.webrtc, "notify::connection-state",
					 G_CALLBACK(on_connection_state), &p);
		} else {
			g_signal_connect(p.webrtc, "pad-added",
					 G_CALLBACK(on_pad_added), &p);
		}
	} else {
		p.started = true;
	}
	ch = g_io_channel_unix_new(sigfd);
	g_io_channel_set_encoding(ch, NULL, NULL);
	g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, on_sig_readable, &p);
	bus = gst_element_get_bus(p.pipe);
	gst_bus_add_watch(bus, on_bus, &p);
	gst_object_unref(bus);
	if (gst_element_set_state(p.pipe, GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE) {
		g_printerr("gst_call: the %s pipeline does not start\n",
			   sender ? "sending" : "receiving");
		return 1;
	}
	if (readyfd >= 0) {
		write_all(readyfd, "r", 1);
		close(readyfd);
	}
	if (sender)
		th = g_thread_new("pusher", pusher, &p);
	/* A bound on everything: setup, the call, the drain. */
	g_timeout_add_seconds((guint)o->seconds + 30, quit_cb, p.loop);
	g_main_loop_run(p.loop);
	if (th) {
		g_mutex_lock(&p.lock);
		p.stop = true;
		g_cond_broadcast(&p.cond);
		g_mutex_unlock(&p.lock);
		g_thread_join(th);
	}
	gst_element_set_state(p.pipe, GST_STATE_NULL);
	if (sender) {
		write_all(resfd, &p.sres, sizeof(p.sres));
	} else {
		if (p.nlat) {
			qsort(p.lat_ms, p.nlat, sizeof(double), cmp_double);
			p.rres.p50_ms = p.lat_ms[p.nlat / 2];
			p.rres.p95_ms = p.lat_ms[p.nlat * 95 / 100];
			p.rres.max_ms = p.lat_ms[p.nlat - 1];
		}
		write_all(resfd, &p.rres, sizeof(p.rres));
		g_free(p.lat_ms);
	}
	g_io_channel_unref(ch);
	if (p.webrtc)
		gst_object_unref(p.webrtc);
	gst_object_unref(p.pipe);
	g_main_loop_unref(p.loop);
	return p.failed ? 1 : 0;
}

/* ---- the parent ------------------------------------------------------ */

static double cpu_of(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* Wait for pid until deadline_us, then end it (it is our child). */
static int reap(pid_t pid, uint64_t deadline_us, struct rusage *ru)
{
	int status = 0;

	for (;;) {
		pid_t r = wait4(pid, &status, WNOHANG, ru);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		if (r < 0)
			return 1;
		if (hl_clock_now_us() > deadline_us) {
			kill(pid, SIGKILL);
			wait4(pid, &status, 0, ru);
			return 1;
		}
		usleep(50000);
	}
}

static bool read_result(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	bool have = false;
	char *end;

	*o = (struct options){.seconds = 30, .latency_ms = 200, .port = 47000};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--transport") && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "rtp") && strcmp(argv[i], "webrtc"))
				return -1;
			o->webrtc = !strcmp(argv[i], "webrtc");
			have = true;
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			o->seconds = strtod(argv[++i], &end);
			if (*end || !(o->seconds >= 1 && o->seconds <= 3600))
				return -1;
		} else if (!strcmp(argv[i], "--latency-ms") && i + 1 < argc) {
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 0 || v > 10000)
				return -1;
			o->latency_ms = (unsigned)v;
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1024 || v > 65000)
				return -1;
			o->port = (int)v;
		} else if (!strcmp(argv[i], "--sync")) {
			o->sync = true;
		} else {
			return -1;
		}
	}
	return have ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct options o;
	struct recv_result rr = {0};
	struct send_result sr = {0};
	struct rusage ru_s = {0}, ru_r = {0};
	int sig[2], ready[2], res_r[2], res_s[2], rc_s, rc_r;
	uint64_t t_start, deadline;
	pid_t pid_r, pid_s;
	char byte;
	struct pollfd pfd;

	if (parse_args(argc, argv, &o)) {
		fprintf(stderr, "usage: gst_call --transport rtp|webrtc "
				"[--seconds N] [--latency-ms N] [--sync] "
				"[--port N]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sig) || pipe(ready) ||
	    pipe(res_r) || pipe(res_s)) {
		perror("gst_call");
		return 1;
	}
	fflush(NULL);
	t_start = hl_clock_now_us();
	pid_r = fork();
	if (pid_r == 0) {
		close(sig[0]);
		close(ready[0]);
		close(res_r[0]);
		close(res_s[0]);
		close(res_s[1]);
		_exit(run_peer(&o, false, sig[1], ready[1], res_r[1]));
	}
	close(ready[1]);
	pfd = (struct pollfd){.fd = ready[0], .events = POLLIN};
	if (pid_r < 0 || poll(&pfd, 1, 20000) != 1 ||
	    read(ready[0], &byte, 1) != 1) {
		fprintf(stderr, "gst_call: the receiver did not start\n");
		if (pid_r > 0)
			reap(pid_r, 0, &ru_r);
		return 1;
	}
	pid_s = fork();
	if (pid_s == 0) {
		close(sig[1]);
		close(res_r[0]);
		close(res_r[1]);
		close(res_s[0]);
		_exit(run_peer(&o, true, sig[0], -1, res_s[1]));
	}
	close(sig[0]);
	close(sig[1]);
	close(res_r[1]);
	close(res_s[1]);
	deadline = t_start + (uint64_t)((o.seconds + 45) * 1e6);
	rc_s = pid_s > 0 ? reap(pid_s, deadline, &ru_s) : 1;
	rc_r = reap(pid_r, deadline + 5000000, &ru_r);
	if (rc_s || rc_r || !read_result(res_s[0], &sr, sizeof(sr)) ||
	    !read_result(res_r[0], &rr, sizeof(rr)) || !rr.frames) {
		fprintf(stderr,
			"gst_call: the call failed (sender %d, "
			"receiver %d)\n",
			rc_s, rc_r);
		return 1;
	}
	printf("{\"transport\": \"%s\", \"seconds\": %.1f, \"sync\": %s, "
	       "\"latency_ms\": %u, \"send_cpu_s\": %.3f, \"recv_cpu_s\": "
	       "%.3f, \"frames_sent\": %u, \"frames_recv\": %u, "
	       "\"frames_unreadable\": %u, \"audio_sent\": %u, "
	       "\"audio_recv\": %u, \"g2g_p50_ms\": %.2f, \"g2g_p95_ms\": "
	       "%.2f, \"g2g_max_ms\": %.2f, \"setup_ms\": %.1f}\n",
	       o.webrtc ? "webrtc" : "rtp", o.seconds,
	       o.sync ? "true" : "false", o.latency_ms, cpu_of(&ru_s),
	       cpu_of(&ru_r), sr.vframes, rr.frames, rr.unreadable, sr.aframes,
	       rr.audio_frames, rr.p50_ms, rr.p95_ms, rr.max_ms,
	       (double)(rr.first_frame_us - t_start) / 1000.0);
	return 0;
}

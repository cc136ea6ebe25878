/*
 * cmd_join.c - `hotline join CALL_ID`: the real call.
 *
 * 1. The contract: confirmed, ours, the other party pinned, its window
 *    open (open_call).
 * 2. The transport is created (ICE gathering, a fresh DTLS certificate);
 *    its parameters and our SSRCs go into our SDP (offer from the
 *    proposer, answer from the invitee).
 * 3. The key exchange runs through hotlined with the SDPs as transport
 *    parameters, so each side's ICE credentials and DTLS fingerprint are
 *    signed by its identity; the SAS is shown.
 * 4. ICE connects, DTLS checks the peer's certificate against its signed
 *    fingerprint, SRTP is keyed; the call engine (SFrame keys from the
 *    key exchange) runs over it in real time until --seconds or the
 *    window's end, Ctrl-C, the peer's BYE, or a dead path (nothing for
 *    3 s).
 *
 * Time: CLOCK_MONOTONIC microseconds for the engine and for the stamps
 * of the test pattern and tone, so two processes on one machine measure
 * glass-to-glass latency exactly.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "callsetup.h"
#include "commands.h"
#include "recorder.h"
#include "hotline/core.h"
#include "hotline/devices.h"
#include "hotline/net.h"
#include "hotline/report.h"
#include "hotline/sdp.h"
#include "hotline/sim.h"
#include "hotline/transport.h"

#define AKE_TIMEOUT_S 60
#define SILENT_US     3000000 /* no packet for this long: the path is dead */
#define FRAME_US      20000
/* The sound is pulled from the jitter buffer on its own clock, one frame
 * every FRAME_US.  After each pull the clock is steered, at most
 * PULL_STEER_US a tick, towards the moment the jitter buffer aims at for
 * the next frame (hl_call_audio_lag_us: its target delay, which already
 * holds the jitter's 95th percentile and a 5 ms margin); the buffer adds
 * and drops whole frames itself.  A pull may then run up to PULL_EARLY_US
 * before its tick at any wake-up, given the tick's time, when its frame
 * is there already (hl_call_audio_ready): on a steady path the tick falls
 * a few milliseconds after the sound's packet arrives, and the pull rides
 * on the wake-up the packet causes instead of needing one of its own.
 * Wake-ups are what a receiver spends most CPU on besides decoding: tens
 * of microseconds each on a small virtual machine (bench/wake_cost). */
#define PULL_EARLY_US 12000
#define PULL_STEER_US 500
#define WAIT_MAX_MS   100 /* the loop looks at the clock at least this often */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void join_usage(FILE *f)
{
	fprintf(f,
		"usage: hotline join CALL_ID [--video SRC] [--audio SRC] "
		"[--record DIR] [--report FILE]\n"
		"                    [--seconds N] [--impair SPEC] "
		"[--relay-only] [--window]\n"
		"                    [--video-size WxH] [--kbps N] "
		"[--loopback] [--timeout S] [--rekey-seconds N]\n"
		"                    [--status MODE] [--psnr-every N] "
		"[--server URL] [--home DIR]\n"
		"                    [--passphrase-file F]\n"
		"\n"
		"Join a confirmed call: the key exchange with the other party "
		"(the SAS is\nshown), then ICE, DTLS-SRTP and the end-to-end "
		"encrypted call.\n"
		"\n"
		"  --video SRC     test (default), FILE.y4m, /dev/videoN, or "
		"none\n"
		"  --audio SRC     test (default), FILE.wav, mic, or none\n"
		"  --record DIR    write what you receive to DIR/received.y4m "
		"and .wav\n"
		"  --window        show the picture (and play the sound) with "
		"SDL2\n"
		"  --report FILE   write the call report (JSON) at the end\n"
		"  --seconds N     leave after N seconds (default: the end of "
		"the window)\n"
		"  --impair SPEC   emulate a bad network on what we send: "
		"loss=P,burst=N,\n"
		"                  delay-ms=D,jitter-ms=J,reorder=P,"
		"duplicate=P,tamper=P,\n"
		"                  rate-kbps=R,seed=S (applied after SRTP)\n"
		"  --relay-only    media only through the TURN relay (the "
		"peer never learns\n"
		"                  your address); also set by the contract's "
		"policy\n"
		"  --loopback      use 127.0.0.1 only (calls on one "
		"machine)\n"
		"  --timeout S     wait up to S seconds for the other party "
		"(default 60)\n"
		"  --rekey-seconds N  step the SFrame key ratchet every N "
		"seconds (default 600)\n"
		"  --status MODE   the status line: auto (refreshed in place "
		"on "
		"a terminal),\n"
		"                  lines (one line a second) or off\n"
		"  --psnr-every N  measure PSNR on every N-th picture only "
		"(default 1; it costs\n"
		"                  about as much CPU as decoding)\n"
		"\n"
		"A status line shows the SAS, encryption, path, RTT, loss, "
		"bitrate, frame\nrate and size every second.  Ctrl-C ends the "
		"call on both sides.\n");
}

/* ---- --impair ---------------------------------------------------------- */

static bool parse_impair(const char *spec, struct hl_link_params *l,
			 uint64_t *seed, const char **why)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(spec) >= sizeof(buf)) {
		*why = "the specification is too long";
		return false;
	}
	memcpy(buf, spec, strlen(spec) + 1);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		double d;
		uint64_t u;

		if (!eq) {
			*why = "each item is KEY=VALUE";
			return false;
		}
		*eq++ = 0;
		if (!strcmp(tok, "loss") && parse_double(eq, 0, 1, &d))
			l->loss = d;
		else if (!strcmp(tok, "burst") && parse_double(eq, 0, 1000, &d))
			l->burst = d;
		else if (!strcmp(tok, "delay-ms") &&
			 parse_double(eq, 0, 10000, &d))
			l->delay_us = (uint32_t)(d * 1000);
		else if (!strcmp(tok, "jitter-ms") &&
			 parse_double(eq, 0, 10000, &d))
			l->jitter_us = (uint32_t)(d * 1000);
		else if (!strcmp(tok, "reorder") && parse_double(eq, 0, 1, &d))
			l->reorder = d;
		else if (!strcmp(tok, "duplicate") &&
			 parse_double(eq, 0, 1, &d))
			l->duplicate = d;
		else if (!strcmp(tok, "tamper") && parse_double(eq, 0, 1, &d))
			l->tamper = d;
		else if (!strcmp(tok, "rate-kbps") &&
			 parse_u64(eq, 0, 10000000, &u))
			l->rate_kbps = (uint32_t)u;
		else if (!strcmp(tok, "seed") &&
			 parse_u64(eq, 0, UINT64_MAX, &u))
			*seed = u;
		else {
			*why = "a key is unknown or its value out of range "
			       "(keys: loss, burst, delay-ms, jitter-ms, "
			       "reorder, duplicate, tamper, rate-kbps, seed)";
			return false;
		}
	}
	if (hl_link_params_check(l, why))
		return false;
	return true;
}

/* ---- the call --------------------------------------------------------- */

struct join {
	/* options */
	struct common c;
	const char *video, *audio, *record, *report, *impair, *status;
	double seconds;
	bool relay_only, window, loopback;
	unsigned timeout_s, rekey_s, psnr_every;
	int size[2];
	bool size_given;
	unsigned kbps;

	/* setup */
	struct session ss;
	struct hl_contract_bundle *list, *b;
	struct hl_contact ct;
	bool initiator;
	char sas[HL_SAS_TEXT_MAX];
	char idtext[33];
	char cname[17]; /* random (RFC 7022): names stay out of RTCP */

	/* media plumbing */
	struct hl_transport *tp;
	struct hl_call *call;
	struct hl_link *imp;
	struct hl_prng prng;
	int width, height, fps;
	struct hl_image *img;
	struct hl_y4m_reader *y4m_in;
	struct hl_camera *cam;
	struct hl_wav_reader *wav_in;
	struct hl_mic *mic;
	struct recorder *rec; /* --record */
	bool rec_failed;      /* it stopped; the call went on */
	struct recorder_counts rec_counts;
	struct hl_window *win;
	struct hl_speaker *spk;
	bool send_video, send_audio;
	bool recv_audio; /* the peer's SDP says it sends sound */
	struct hl_vmeter *vm;
	struct hl_ameter *am;
	struct hl_timeseries ts;

	/* the clock */
	uint64_t start_us, end_us;
	/* setup: when join began, the key exchange ended, SRTP was keyed,
	 * the first picture was shown */
	uint64_t t_join, t_ake, t_secure, t_first;
	double cpu_secure; /* CPU seconds the process had used at t_secure */
	uint64_t next_video, next_audio, next_pull, next_second;
	uint64_t sleeps; /* waits with a timeout, from secure on */
	uint64_t video_k;
	uint64_t shown_in_second, shown;
	struct hl_call_stats last;
	struct hl_vmeter_summary last_v;
	struct hl_ameter_summary last_a;
};

/* CPU seconds (user + system, all threads) the process has used. */
static double cpu_used_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static bool is_test(const char *src)
{
	return !src || strcmp(src, "test") == 0;
}

static bool is_none(const char *src)
{
	return src && strcmp(src, "none") == 0;
}

/* Open sources and sinks; sets the picture size. */
static int open_media(const char *cmd, struct join *j)
{
	const char *msg = NULL;
	char path[4200];
	int err = 0;

	j->width = j->size_given ? j->size[0] : 1280;
	j->height = j->size_given ? j->size[1] : 720;
	j->fps = 30;
	j->send_video = !is_none(j->video);
	j->send_audio = !is_none(j->audio);
	if (j->send_video && !is_test(j->video)) {
		if (strncmp(j->video, "/dev/video", 10) == 0) {
			err = hl_camera_open(&j->cam, j->video, j->width,
					     j->height, j->fps, &msg);
			if (err)
				return fail(cmd, "cannot use the camera %s: %s",
					    j->video, msg ? msg : "");
		} else {
			int fn, fd, w, h;

			err = hl_y4m_reader_open(&j->y4m_in, j->video, &w, &h,
						 &fn, &fd);
			if (err)
				return fail(cmd, "cannot use %s as video: %s",
					    j->video,
					    err == HL_EIO ? strerror(errno)
							  : hl_strerror(err));
			j->width = w;
			j->height = h;
			if (fd > 0 && fn / fd >= 1 && fn / fd <= 60)
				j->fps = fn / fd;
		}
	}
	if (j->send_audio && !is_test(j->audio)) {
		if (strcmp(j->audio, "mic") == 0) {
			err = hl_mic_open(&j->mic, &msg);
			if (err)
				return fail(cmd,
					    "cannot use the microphone: %s",
					    msg ? msg : "");
		} else {
			err = hl_wav_reader_open(&j->wav_in, j->audio);
			if (err)
				return fail(cmd,
					    "cannot use %s as audio: %s (a "
					    "16-bit WAV at 48 kHz is needed)",
					    j->audio,
					    err == HL_EIO ? strerror(errno)
							  : hl_strerror(err));
		}
	}
	if (hl_image_new(&j->img, j->width, j->height))
		return fail(cmd, "out of memory");
	if (j->record) {
		if (mkdir_p(j->record) != 0)
			return fail(cmd, "cannot create %s: %s", j->record,
				    strerror(errno));
		char vpath[4200], why[4400];

		/* An old picture file goes now: truncating 400 MB of cached
		 * pages once stalled a call for a few hundred ms (the demo
		 * run over the last one's files).  The new one is made by
		 * the recorder's thread at the first picture. */
		snprintf(vpath, sizeof(vpath), "%s/received.y4m", j->record);
		if (unlink(vpath) != 0 && errno != ENOENT)
			return fail(cmd, "cannot replace %s: %s", vpath,
				    strerror(errno));
		snprintf(path, sizeof(path), "%s/received.wav", j->record);
		if (recorder_open(&j->rec, vpath, path, j->fps, why,
				  sizeof(why)))
			return fail(cmd, "%s", why);
	}
	if (j->window) {
		err = hl_speaker_open(&j->spk, &msg);
		if (err)
			fprintf(stderr, "%s %s: no speaker: %s\n", prog, cmd,
				msg ? msg : "");
	}
	if (hl_vmeter_new(&j->vm, j->fps, true) || hl_ameter_new(&j->am))
		return fail(cmd, "out of memory");
	if (j->psnr_every)
		hl_vmeter_psnr_every(j->vm, j->psnr_every);
	return 0;
}

/* Write what is queued and close the files (once); say what is missing. */
static void finish_recording(struct join *j)
{
	struct recorder_counts *n = &j->rec_counts;
	char why[4400];

	if (!j->rec)
		return;
	if (recorder_close(j->rec, n, why, sizeof(why)) != 0 &&
	    !j->rec_failed) {
		fprintf(stderr, "%s join: the recording is incomplete: %s\n",
			prog, why);
		j->rec_failed = true;
	}
	j->rec = NULL;
	if (n->video_late || n->audio_late)
		fprintf(stderr,
			"%s join: %llu pictures and %llu sound frames are not "
			"in the recording, which is that much shorter: the "
			"disk fell behind (the call did not wait for it)\n",
			prog, (unsigned long long)n->video_late,
			(unsigned long long)n->audio_late);
	if (n->video_resized)
		fprintf(stderr,
			"%s join: %llu pictures changed size and are not in "
			"the recording (a Y4M file has one size)\n",
			prog, (unsigned long long)n->video_resized);
}

/* Nonzero when the recording is incomplete. */
static int close_media(struct join *j)
{
	hl_image_free(j->img);
	hl_y4m_reader_close(j->y4m_in);
	hl_camera_close(j->cam);
	hl_wav_reader_close(j->wav_in);
	hl_mic_close(j->mic);
	finish_recording(j);
	hl_window_close(j->win);
	hl_speaker_close(j->spk);
	hl_vmeter_free(j->vm);
	hl_ameter_free(j->am);
	hl_timeseries_free(&j->ts);
	return j->rec_failed;
}

/* Our SDP from the transport's parameters and the SSRCs we will use. */
static int our_sdp(struct join *j, const struct hl_transport_params *tp,
		   const struct hl_call_ssrcs *ssrc, char *out, size_t cap,
		   size_t *len)
{
	struct hl_sdp s;
	struct hl_rng os = hl_rng_os();

	memset(&s, 0, sizeof(s));
	s.session_id = ((uint64_t)hl_rng_u32(&os) << 31) ^ hl_rng_u32(&os);
	memcpy(s.cname, j->cname, sizeof(j->cname));
	s.tp = *tp;
	s.tp.setup = j->initiator ? HL_SETUP_ACTPASS : HL_SETUP_ACTIVE;
	s.audio.present = true;
	memcpy(s.audio.mid, "0", 2);
	s.audio.dir = j->send_audio ? HL_DIR_SENDRECV : HL_DIR_RECVONLY;
	s.audio.ssrc = ssrc->audio;
	s.audio.red = true;
	s.video.present = true;
	memcpy(s.video.mid, "1", 2);
	s.video.dir = j->send_video ? HL_DIR_SENDRECV : HL_DIR_RECVONLY;
	s.video.ssrc = ssrc->video;
	s.video.rtx_ssrc = ssrc->rtx;
	return hl_sdp_write(&s, !j->initiator, out, cap, len);
}

static uint32_t nonzero(struct hl_rng *r)
{
	uint32_t v;

	do {
		v = hl_rng_u32(r);
	} while (!v);
	return v;
}

/*
 * Steps 2 and 3: transport, SDPs, key exchange.  On success the
 * transport is started and *res holds the keys; *peer the peer's SDP.
 */
static int setup(const char *cmd, struct join *j, struct hl_call_ssrcs *mine,
		 struct hl_sdp *peer, struct hl_ake_result *res)
{
	struct hl_transport_config tc = {0};
	struct hl_turn_creds turn = {0};
	struct hl_transport_params tp;
	struct hl_ake_params ap;
	struct exchange x;
	struct hl_rng os = hl_rng_os();
	const uint8_t *peer_pk;
	const char *msg = NULL, *why = NULL;
	char sdp[HL_SDP_MAX];
	size_t sdp_len;
	bool relay = j->relay_only || (j->b->c.policy & HL_POLICY_RELAY_ONLY);
	int rc = 1, err;

	memset(&x, 0, sizeof(x));
	err = hl_signal_turn(j->ss.s, j->b->c.call_id, &turn);
	if (err && relay)
		return fail(cmd,
			    "relay-only needs a TURN relay, and the server "
			    "offers none (start hotlined with "
			    "--turn-secret and --turn-uri)");
	tc.controlling = j->initiator;
	tc.relay_only = relay;
	tc.loopback = j->loopback;
	tc.turn = err ? NULL : &turn;
	err = hl_transport_new(&j->tp, &tc, &msg);
	if (err)
		return fail(cmd, "cannot set up the network: %s",
			    msg ? msg : hl_strerror(err));
	err = hl_transport_local(j->tp, &tp, 10000);
	if (err)
		return fail(cmd, "finding our network addresses failed: %s",
			    hl_strerror(err));
	mine->audio = nonzero(&os);
	do
		mine->video = nonzero(&os);
	while (mine->video == mine->audio);
	do
		mine->rtx = nonzero(&os);
	while (mine->rtx == mine->audio || mine->rtx == mine->video);
	for (size_t i = 0; i + 1 < sizeof(j->cname); i++)
		j->cname[i] = "0123456789abcdef"[hl_rng_u32(&os) & 15];
	err = our_sdp(j, &tp, mine, sdp, sizeof(sdp), &sdp_len);
	if (err)
		return fail(cmd, "cannot describe the call (SDP): %s",
			    hl_strerror(err));

	/* The key exchange, with the SDPs as transport parameters. */
	peer_pk = j->initiator ? j->b->c.invitee : j->b->c.proposer;
	memset(&ap, 0, sizeof(ap));
	ap.role = j->initiator ? HL_AKE_INITIATOR : HL_AKE_RESPONDER;
	ap.me = &j->ss.id;
	memcpy(ap.peer, peer_pk, HL_ID_PK_LEN);
	memcpy(ap.call_id, j->b->c.call_id, HL_CALL_ID_LEN);
	memcpy(ap.contract_hash, j->b->hash, HL_CONTRACT_HASH_LEN);
	ap.policy = j->b->c.policy;
	ap.suites = j->b->c.suites;
	ap.n_suites = j->b->c.n_suites;
	ap.transport = (const uint8_t *)sdp;
	ap.transport_len = sdp_len;
	ap.rng = os;
	err = hl_ake_new(&x.a, &ap);
	if (err) {
		fail(cmd, "cannot start the key exchange: %s",
		     hl_strerror(err));
		goto out;
	}
	x.params = &ap;
	x.s = j->ss.s;
	x.call_id = j->b->c.call_id;
	x.peer = peer_pk;
	x.no_linger = true; /* setup time: see callsetup.h */
	x.stop = &interrupted;
	if (isatty(2) && (!j->status || strcmp(j->status, "auto") == 0)) {
		x.cmd_name = cmd; /* a live line, as the call's status */
		x.peer_name = j->ct.name;
	} else {
		fprintf(stderr, "%s %s: waiting for %s...\n", prog, cmd,
			j->ct.name);
	}
	if (run_exchange(cmd, &x, j->initiator,
			 hl_clock_now_us() / 1000 +
				 (uint64_t)j->timeout_s * 1000))
		goto out;
	if (hl_ake_result(x.a, res)) {
		fail(cmd, "the key exchange gave no result");
		goto out;
	}
	memcpy(j->sas, res->sas, sizeof(j->sas));
	j->t_ake = hl_clock_now_us();

	/* The peer's SDP is authenticated: its transport is the one its
	 * identity signed. */
	if (hl_sdp_parse((const char *)res->peer_transport,
			 res->peer_transport_len, peer, &why)) {
		fail(cmd, "the other party's call description is unusable: %s",
		     why ? why : "malformed");
		goto out;
	}
	if (j->initiator) {
		struct hl_sdp offer;

		if (hl_sdp_parse(sdp, sdp_len, &offer, &why) ||
		    hl_sdp_check_answer(&offer, peer, &why)) {
			fail(cmd,
			     "the other party's answer does not fit our "
			     "offer: %s",
			     why ? why : "malformed");
			goto out;
		}
	}
	err = hl_transport_start(j->tp, &peer->tp);
	if (err) {
		fail(cmd, "cannot start connecting: %s", hl_strerror(err));
		goto out;
	}
	rc = 0;
out:
	hl_wipe(&turn, sizeof(turn));
	hl_ake_free(x.a);
	return rc;
}

/* ---- the media loop ------------------------------------------------- */

/*
 * Send what the engine has.  With --impair the emulated network sits
 * between SRTP and the socket, as a real one would: it loses, delays,
 * reorders, duplicates and damages protected datagrams.
 */
static int send_out(struct join *j, uint64_t now)
{
	uint8_t pkt[HL_TP_PACKET_MAX], wire[HL_TP_PACKET_MAX + HL_TP_OVERHEAD];
	size_t len, wlen;
	int err;

	while ((err = hl_call_poll_transmit(j->call, pkt, sizeof(pkt), &len)) ==
	       0) {
		if (!j->imp) {
			err = hl_transport_send(j->tp, pkt, len);
		} else {
			err = hl_transport_protect(j->tp, pkt, len, wire,
						   sizeof(wire), &wlen);
			if (!err)
				err = hl_link_send(j->imp, wire, wlen, now);
		}
		/* HL_EREPLAY: SRTP refused to protect a sequence number
		 * twice; that packet is lost, the call goes on. */
		if (err && err != HL_ESTATE && err != HL_EREPLAY)
			return err;
	}
	while (j->imp &&
	       hl_link_recv(j->imp, now, wire, sizeof(wire), &wlen) == 0) {
		err = hl_transport_send_datagram(j->tp, wire, wlen);
		if (err && err != HL_ESTATE)
			return err;
	}
	return 0;
}

static int capture_video(struct join *j, uint64_t now)
{
	int err = 0;

	if (j->cam) {
		err = hl_camera_read(j->cam, j->img);
		if (err == HL_EAGAIN)
			return 0;
	} else if (j->y4m_in) {
		err = hl_y4m_read(j->y4m_in, j->img);
		if (err == HL_EAGAIN) {
			err = hl_y4m_rewind(j->y4m_in);
			if (!err)
				err = hl_y4m_read(j->y4m_in, j->img);
		}
	} else {
		struct hl_stamp st = {(uint32_t)j->video_k, now};

		hl_pattern_render(j->img, &st);
	}
	if (!err)
		err = hl_call_send_video(j->call, j->img, now,
					 hl_clock_now_us());
	j->video_k++;
	return err;
}

/* One 20 ms frame whose first sample was captured at cap. */
static int capture_audio(struct join *j, uint64_t cap)
{
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	int err = 0;

	if (j->mic) {
		err = hl_mic_read(j->mic, pcm);
		if (err == HL_EAGAIN)
			return 0;
	} else if (j->wav_in) {
		err = hl_wav_read(j->wav_in, pcm);
		if (err == HL_EAGAIN) {
			err = hl_wav_rewind(j->wav_in);
			if (!err)
				err = hl_wav_read(j->wav_in, pcm);
		}
	} else {
		hl_tone_render(pcm, (uint16_t)(cap / FRAME_US));
	}
	if (!err)
		err = hl_call_send_audio(j->call, pcm, cap, hl_clock_now_us());
	return err;
}

/* What a push to the recorder returned: a full queue already counted the
 * frame; an error stops the recording, not the call. */
static void recorded(struct join *j, int err)
{
	const char *why;

	if (!err || err == HL_EAGAIN)
		return;
	why = recorder_error(j->rec);
	fprintf(stderr,
		"%s join: the recording stopped: %s; the call goes on without "
		"it (free space, or record elsewhere)\n",
		prog, why ? why : hl_strerror(err));
	j->rec_failed = true;
}

static int play(struct join *j, uint64_t now)
{
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	struct hl_audio_out ao;
	int err = hl_call_pull_audio(j->call, now, pcm, &ao);

	if (!err)
		err = hl_ameter_frame(j->am, pcm, &ao, now);
	if (!err && j->rec && !j->rec_failed)
		recorded(j, recorder_audio(j->rec, pcm));
	if (!err && j->spk && hl_speaker_play(j->spk, pcm))
		err = 0; /* a missing sound card does not end the call */
	return err;
}

static int show(const char *cmd, struct join *j, uint64_t now)
{
	struct hl_video_out vo;
	int err;

	while ((err = hl_call_poll_video(j->call, now, &vo)) == 0) {
		if (!j->shown++)
			j->t_first = now;
		j->shown_in_second++;
		err = hl_vmeter_frame(j->vm, vo.img, now);
		if (!err && j->rec && !j->rec_failed)
			recorded(j, recorder_video(j->rec, vo.img));
		if (!err && j->window) {
			const char *msg = NULL;

			if (!j->win &&
			    hl_window_open(&j->win, j->ct.name, vo.img->width,
					   vo.img->height, &msg)) {
				fprintf(stderr, "%s %s: no window: %s\n", prog,
					cmd, msg ? msg : "");
				j->window = false;
			} else if (j->win && hl_window_show(j->win, vo.img) ==
						     HL_ESTATE) {
				interrupted = 1; /* the user closed it */
			}
		}
		if (err)
			return err;
	}
	return err == HL_EAGAIN ? 0 : err;
}

/* Once a second: a sample for the report and the status line. */
static void second(struct join *j, uint64_t now, bool tty, bool quiet)
{
	struct hl_call_stats st;
	struct hl_tp_stats ts;
	struct hl_vmeter_summary vs;
	struct hl_ameter_summary as;
	struct hl_ts_sample smp;
	double dt = 1.0;

	hl_call_stats(j->call, &st);
	hl_transport_stats(j->tp, &ts);
	hl_vmeter_summary(j->vm, 0, &vs);
	hl_ameter_summary(j->am, &as);
	memset(&smp, 0, sizeof(smp));
	smp.t_s = (now - j->start_us) / 1e6;
	smp.kbps_sent = (st.bytes_sent - j->last.bytes_sent) * 8 / dt / 1000;
	smp.kbps_received =
		(st.bytes_received - j->last.bytes_received) * 8 / dt / 1000;
	smp.rtt_ms = st.rtt_ms;
	smp.loss = st.loss_in;
	if (vs.latency_n > j->last_v.latency_n)
		smp.video_latency_ms =
			(vs.latency_sum_ms - j->last_v.latency_sum_ms) /
			(double)(vs.latency_n - j->last_v.latency_n);
	if (as.latency_n > j->last_a.latency_n)
		smp.audio_latency_ms =
			(as.latency_sum_ms - j->last_a.latency_sum_ms) /
			(double)(as.latency_n - j->last_a.latency_n);
	j->last_v = vs;
	j->last_a = as;
	smp.fps = (double)j->shown_in_second / dt;
	smp.frames_rendered = j->shown;
	if (hl_timeseries_add(&j->ts, &smp))
		fprintf(stderr, "%s join: out of memory for the report\n",
			prog);
	if (!quiet) {
		fprintf(stderr,
			"%s%s | SAS %s | e2ee %s + %s | %s %s | rtt %.0f ms | "
			"loss %.1f%% | %.0f kbps | %.0f fps | %dx%d%s",
			tty ? "\r" : "", j->ss.id.name, j->sas,
			hl_sframe_suite_name(st.suite), ts.srtp_profile,
			ts.relayed ? "relay" : "direct", ts.remote, st.rtt_ms,
			100 * st.loss_in, smp.kbps_received, smp.fps, vs.width,
			vs.height, tty ? "   " : "\n");
		fflush(stderr);
	}
	j->last = st;
	j->shown_in_second = 0;
}

static uint64_t next_due(struct join *j)
{
	uint64_t t = hl_call_next_timeout(j->call);

	if (j->send_video)
		t = HL_MIN(t, j->next_video);
	if (j->send_audio)
		t = HL_MIN(t, j->next_audio + FRAME_US);
	if (j->recv_audio)
		t = HL_MIN(t, j->next_pull);
	t = HL_MIN(t, j->next_second);
	t = HL_MIN(t, j->end_us);
	if (j->imp)
		t = HL_MIN(t, hl_link_next_time(j->imp));
	return t;
}

/* Milliseconds from the start of join to t; 0 if t never came. */
static double ms_since(const struct join *j, uint64_t t)
{
	return t ? (double)(t - j->t_join) / 1000.0 : 0;
}

/* Step 4: run the call.  Returns the exit status. */
static int run_call(const char *cmd, struct join *j,
		    const struct hl_call_ssrcs *mine, const struct hl_sdp *peer,
		    const struct hl_ake_result *res)
{
	struct hl_call_config cc;
	struct hl_call_ssrcs theirs = {peer->audio.ssrc, peer->video.ssrc,
				       peer->video.rtx_ssrc};
	struct hl_tp_event *ev = hl_malloc(sizeof(*ev));
	bool secure = false, tty = isatty(2);
	bool quiet = j->status && strcmp(j->status, "off") == 0;

	if (j->status && strcmp(j->status, "lines") == 0)
		tty = false;
	uint64_t deadline = hl_clock_now_us() + 20000000;
	int rc = 1, err;

	if (!ev)
		return fail(cmd, "out of memory");
	/* Connect first: nothing is sent before SRTP is keyed. */
	while (!secure) {
		if (interrupted || hl_clock_now_us() > deadline) {
			fail(cmd, interrupted
					  ? "interrupted"
					  : "could not connect within 20 s");
			goto out;
		}
		if (hl_transport_wait(j->tp, 20)) {
			fail(cmd, "cannot wait for the network: %s",
			     strerror(errno));
			goto out;
		}
		while (hl_transport_next(j->tp, ev) == 0) {
			if (ev->kind == HL_TP_FAILED) {
				fail(cmd, "the connection FAILED: %s",
				     ev->reason);
				goto out;
			}
			if (ev->kind == HL_TP_SECURE) {
				/* What follows stays queued for the engine. */
				secure = true;
				break;
			}
		}
	}
	j->t_secure = hl_clock_now_us();
	j->cpu_secure = cpu_used_s();
	{
		struct hl_tp_stats ts;

		hl_transport_stats(j->tp, &ts);
		fprintf(stderr,
			"%s %s: connected, %s path %s <-> %s, SRTP %s\n", prog,
			cmd, ts.relayed ? "relayed" : "direct", ts.local,
			ts.remote, ts.srtp_profile);
	}

	hl_call_config_defaults(&cc);
	hl_prng_seed(&j->prng, hl_clock_now_us());
	cc.role = j->initiator ? HL_CALL_ROLE_A : HL_CALL_ROLE_B;
	cc.rng = hl_rng_os();
	cc.keys = res->keys;
	cc.send_video = j->send_video;
	cc.send_audio = j->send_audio;
	cc.width = j->width;
	cc.height = j->height;
	cc.fps = j->fps;
	if (j->kbps)
		cc.video_kbps = j->kbps;
	cc.local = *mine;
	cc.rekey_us = (uint64_t)j->rekey_s * 1000000;
	cc.no_red = !peer->audio.red; /* RED only if they accept it */
	memcpy(cc.cname, j->cname, sizeof(j->cname));
	j->start_us = hl_clock_now_us();
	err = hl_call_new(&j->call, &cc, j->start_us);
	hl_wipe(&cc.keys, sizeof(cc.keys));
	if (err) {
		fail(cmd, "cannot start the call engine: %s", hl_strerror(err));
		goto out;
	}
	hl_call_set_remote_ssrcs(j->call, &theirs);
	{
		/* The call ends at --seconds or with the contract's window,
		 * whichever comes first. */
		int64_t left = (int64_t)j->b->c.not_after - (int64_t)now_unix();

		if (left <= 0) {
			fail(cmd, "the call's window closed while connecting");
			goto out;
		}
		j->end_us = j->start_us + (uint64_t)left * 1000000;
		if (j->seconds > 0)
			j->end_us = HL_MIN(
				j->end_us,
				j->start_us + (uint64_t)(j->seconds * 1e6));
	}
	j->next_video = j->start_us;
	j->next_audio = (j->start_us / FRAME_US + 1) * FRAME_US;
	j->next_pull = j->start_us + FRAME_US / 2;
	j->recv_audio =
		peer->audio.present && (peer->audio.dir == HL_DIR_SENDRECV ||
					peer->audio.dir == HL_DIR_SENDONLY);
	j->next_second = j->start_us + 1000000;

	for (;;) {
		uint64_t now = hl_clock_now_us(), due;
		struct hl_call_stats st;

		while (hl_transport_next(j->tp, ev) == 0) {
			if (ev->kind == HL_TP_FAILED) {
				if (tty)
					fputc('\n', stderr);
				fail(cmd, "the connection was lost: %s",
				     ev->reason);
				goto out_report;
			}
			if (ev->kind == HL_TP_PACKET &&
			    (err = hl_call_recv(j->call, ev->data, ev->len,
						now)) != 0) {
				fail(cmd, "the call engine failed: %s",
				     hl_strerror(err));
				goto out_report;
			}
		}
		if (hl_call_next_timeout(j->call) <= now &&
		    (err = hl_call_handle_timeout(j->call, now)) != 0) {
			fail(cmd, "the call engine failed: %s",
			     hl_strerror(err));
			goto out_report;
		}
		hl_call_stats(j->call, &st);
		err = 0;
		if (j->send_video && now >= j->next_video) {
			err = capture_video(j, now);
			j->next_video += 1000000u / (unsigned)j->fps;
			if (j->next_video < now) /* we fell behind: skip */
				j->next_video =
					now + 1000000u / (unsigned)j->fps;
		}
		if (!err && j->send_audio && now >= j->next_audio + FRAME_US) {
			err = capture_audio(j, j->next_audio);
			j->next_audio += FRAME_US;
		}
		if (!err && j->recv_audio &&
		    (now >= j->next_pull ||
		     (now + PULL_EARLY_US >= j->next_pull &&
		      hl_call_audio_ready(j->call, j->next_pull)))) {
			int64_t lag;

			err = play(j, j->next_pull);
			j->next_pull += FRAME_US;
			lag = hl_call_audio_lag_us(j->call, j->next_pull);
			j->next_pull -= (uint64_t)HL_MAX(
				-PULL_STEER_US, HL_MIN(lag, PULL_STEER_US));
		}
		if (!err)
			err = show(cmd, j, now);
		if (!err)
			err = send_out(j, now);
		if (err) {
			fail(cmd, "the call failed: %s", hl_strerror(err));
			goto out_report;
		}
		if (now >= j->next_second) {
			second(j, now, tty, quiet);
			j->next_second += 1000000;
		}
		if (st.peer_bye) {
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "%s %s: %s left the call\n", prog, cmd,
				j->ct.name);
			rc = 0;
			goto out_report;
		}
		if (now > j->start_us + SILENT_US &&
		    now - HL_MAX(st.last_packet_us, j->start_us) > SILENT_US) {
			if (tty)
				fputc('\n', stderr);
			fail(cmd,
			     "nothing from %s for 3 s: they left or the "
			     "network died",
			     j->ct.name);
			goto out_report;
		}
		if (interrupted || now >= j->end_us) {
			/* Leave cleanly: BYE tells the peer at once. */
			if (!hl_call_bye(j->call, now))
				send_out(j, now);
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "%s %s: call ended\n", prog, cmd);
			rc = 0;
			goto out_report;
		}
		due = next_due(j);
		now = hl_clock_now_us();
		j->sleeps += due > now;
		if (hl_transport_wait(
			    j->tp,
			    due <= now ? 0
				       : (int)HL_MIN((due - now + 999) / 1000,
						     WAIT_MAX_MS))) {
			fail(cmd, "cannot wait for the network: %s",
			     strerror(errno));
			goto out_report;
		}
	}
out_report:
	finish_recording(j);
	if (j->rec_failed && rc == 0)
		rc = 1; /* the call went well, the recording did not */
	if (j->report) {
		struct hl_side_report sr;
		struct hl_tp_stats ts;
		struct hl_json js;

		memset(&sr, 0, sizeof(sr));
		sr.seconds = (hl_clock_now_us() - j->start_us) / 1e6;
		sr.sas = j->sas;
		hl_call_stats(j->call, &sr.call);
		hl_vmeter_summary(j->vm, 0, &sr.video);
		hl_ameter_summary(j->am, &sr.audio);
		hl_transport_stats(j->tp, &ts);
		hl_json_init(&js);
		/* DESIGN.md's call report, then what only a real call
		 * has */
		hl_json_obj_begin(&js, NULL);
		hl_json_str(&js, "name", j->ss.id.name);
		hl_json_str(&js, "peer", j->ct.name);
		hl_json_str(&js, "call_id", j->idtext);
		hl_json_str(&js, "path", ts.relayed ? "relay" : "direct");
		hl_json_str(&js, "srtp", ts.srtp_profile);
		hl_json_u64(&js, "srtp_failures", ts.srtp_failures);
		hl_json_u64(&js, "datagrams_dropped", ts.dropped);
		hl_json_u64(&js, "datagrams_read_directly", ts.read_direct);
		hl_json_str(&js, "local", ts.local);
		hl_json_str(&js, "remote", ts.remote);
		hl_json_bool(&js, "clean_exit", rc == 0);
		if (j->record) {
			hl_json_obj_begin(&js, "recording");
			hl_json_bool(&js, "complete", !j->rec_failed);
			hl_json_u64(&js, "pictures_left_out",
				    j->rec_counts.video_late +
					    j->rec_counts.video_resized);
			hl_json_u64(&js, "sound_frames_left_out",
				    j->rec_counts.audio_late);
			hl_json_obj_end(&js);
		}
		hl_json_obj_begin(&js, "setup_ms"); /* since join began */
		hl_json_num(&js, "key_exchange", ms_since(j, j->t_ake), 1);
		hl_json_num(&js, "secure", ms_since(j, j->t_secure), 1);
		hl_json_num(&js, "first_picture", ms_since(j, j->t_first), 1);
		hl_json_obj_end(&js);
		{
			double cpu = cpu_used_s();

			/* the whole process, and from secure on (the media) */
			hl_json_obj_begin(&js, "cpu_s");
			hl_json_num(&js, "total", cpu, 3);
			hl_json_num(&js, "call",
				    j->t_secure ? cpu - j->cpu_secure : 0, 3);
			hl_json_obj_end(&js);
			hl_json_u64(&js, "sleeps", j->sleeps);
		}
		hl_report_side_fields(&js, &sr);
		hl_timeseries_json(&js, "timeseries", &j->ts);
		hl_json_obj_end(&js);
		if (js.err || write_file(j->report, js.buf) != 0) {
			fail(cmd, "cannot write the report %s: %s", j->report,
			     js.err ? hl_strerror(js.err) : strerror(errno));
			rc = 1;
		}
		hl_json_free(&js);
	}
out:
	hl_free(ev);
	return rc;
}

int cmd_join(int argc, char **argv)
{
	struct join *j = hl_calloc(1, sizeof(*j));
	struct hl_ake_result *res = hl_malloc(sizeof(*res));
	struct hl_sdp *peer = hl_malloc(sizeof(*peer));
	struct hl_call_ssrcs mine;
	struct sigaction sa;
	const char *pos[1];
	int rc, npos;

	if (!j || !res || !peer) {
		rc = fail("join", "out of memory");
		goto out_free;
	}
	j->t_join = hl_clock_now_us();
	j->timeout_s = AKE_TIMEOUT_S;
	j->rekey_s = 600;
	{
		struct opt t[] = {
			COMMON_OPTS(&j->c),
			OPT("--video", OPT_PATH, 0, 0,
			    "test, a .y4m file, /dev/videoN or none",
			    &j->video),
			OPT("--audio", OPT_PATH, 0, 0,
			    "test, a .wav file, mic or none", &j->audio),
			OPT("--record", OPT_PATH, 0, 0, "a folder", &j->record),
			OPT("--report", OPT_PATH, 0, 0, "a file", &j->report),
			OPT("--seconds", OPT_DOUBLE, 0.1, 86400,
			    "a number of seconds between 0.1 and 86400",
			    &j->seconds),
			OPT("--impair", OPT_PATH, 0, 0, "KEY=VALUE,...",
			    &j->impair),
			OPT("--relay-only", OPT_FLAG, 0, 0, "", &j->relay_only),
			OPT("--window", OPT_FLAG, 0, 0, "", &j->window),
			OPT("--loopback", OPT_FLAG, 0, 0, "", &j->loopback),
			OPT("--timeout", OPT_U32, 1, 3600,
			    "a number of seconds from 1 to 3600",
			    &j->timeout_s),
			OPT("--rekey-seconds", OPT_U32, 1, 86400,
			    "a number of seconds from 1 to 86400", &j->rekey_s),
			OPT("--status", OPT_PATH, 0, 0, "auto, lines or off",
			    &j->status),
			OPT("--psnr-every", OPT_U32, 1, 1000,
			    "a number from 1 to 1000", &j->psnr_every),
			OPT("--video-size", OPT_SIZE, 0, 0,
			    "WxH with even sizes from 64 to 4096", j->size),
			OPT("--kbps", OPT_U32, 50, 50000,
			    "a video bitrate from 50 to 50000 kbit/s",
			    &j->kbps),
		};

		rc = parse_opts("join", argc, argv, t, HL_ARRAY_SIZE(t),
				join_usage, pos, 1, &npos);
		if (rc)
			goto out_free;
		for (size_t i = 0; i < HL_ARRAY_SIZE(t); i++)
			if (!strcmp(t[i].name, "--video-size"))
				j->size_given = t[i].seen;
	}
	if (npos != 1) {
		rc = bad("join", "give the CALL_ID");
		goto out_free;
	}
	if (j->status && strcmp(j->status, "auto") != 0 &&
	    strcmp(j->status, "lines") != 0 && strcmp(j->status, "off") != 0) {
		rc = bad("join", "--status takes auto, lines or off");
		goto out_free;
	}
	if (j->impair) {
		struct hl_link_params lp = {0};
		uint64_t seed = hl_clock_now_us();
		const char *why = NULL;

		if (!parse_impair(j->impair, &lp, &seed, &why)) {
			rc = bad("join", "--impair: %s", why ? why : "invalid");
			goto out_free;
		}
		if (hl_link_new(&j->imp, &lp, seed)) {
			rc = fail("join", "out of memory");
			goto out_free;
		}
	}
	rc = open_call("join", &j->c, pos[0], &j->ss, &j->list, &j->b, &j->ct);
	if (rc)
		goto out;
	hl_call_id_to_text(j->b->c.call_id, j->idtext);
	j->initiator = is_me(&j->ss.id, j->b->c.proposer);
	if (j->record && (j->b->c.policy & HL_POLICY_NO_RECORDING)) {
		rc = fail("join", "this call's contract forbids recording "
				  "(no-recording): drop --record");
		goto out;
	}
	rc = open_media("join", j);
	if (rc)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = setup("join", j, &mine, peer, res);
	if (rc)
		goto out;
	printf("call %s with %s\nSAS: %s\n", j->idtext, j->ct.name, res->sas);
	fflush(stdout);
	rc = run_call("join", j, &mine, peer, res);
out:
	hl_call_free(j->call);
	hl_transport_free(j->tp);
	if (close_media(j) && rc == 0)
		rc = 1; /* the call went well, the recording did not */
	hl_free(j->list);
	session_close(&j->ss);
out_free:
	if (j)
		hl_link_free(j->imp);
	if (res)
		hl_wipe(res, sizeof(*res));
	hl_free(res);
	hl_free(peer);
	hl_free(j);
	return rc;
}

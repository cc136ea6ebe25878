/*
 * codec_floor.c - the codec floor of a one-way call, one side at a time.
 *
 * What a one-way 720p30 call cannot do without: the sender renders the
 * test pattern and the test tone and encodes them with libvpx and libopus,
 * the receiver decodes them, both with exactly the engine's settings (the
 * library's own hl_vp8_* and hl_opus_* tables, configured as
 * hl_call_config_defaults() does: VP8 real-time, CBR 1500 kb/s, 1 thread,
 * cpu_used -6, error-resilient; Opus 48 kHz mono 20 ms, 32 kb/s, in-band
 * FEC, 10 % expected loss).  Nothing else: no RTP, no SFrame, no sockets.
 *
 *   --side send   renders and encodes N seconds of pictures and tone frames;
 *   --side recv   first encodes the same streams (untimed, kept in memory),
 *                 then decodes them.
 *
 * With --realtime (the default) each picture and tone frame waits for its
 * capture time, as in a live call, so the process sleeps between frames
 * (the caches are then as cold as a call's); --fast runs flat out.  Either
 * way the figure is CPU time (getrusage user+sys) of the timed part, one
 * line of JSON on stdout.
 *
 * --meters (receiving side) also runs join's meters on what is decoded.
 *
 * usage: codec_floor --side send|recv [--seconds N] [--realtime|--fast]
 *                    [--meters] [--video-size WxH] [--kbps N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "pace.h"
#include "hotline/net.h"
#include "hotline/media.h"
#include "hotline/report.h"

#define FPS		 30
#define AUDIO_KBPS	 32
#define AUDIO_LOSS	 10
#define AUDIO_FRAME	 20000 /* µs */
#define METER_PSNR_EVERY 30    /* as bench/hotline_oneway.sh runs join */

struct options {
	bool send;
	bool realtime;
	bool meters;
	double seconds;
	int width, height;
	unsigned kbps;
};

/* The encoded streams of a whole call, for the receiving side. */
struct stream {
	uint8_t *data;
	size_t len, cap;
	size_t *off; /* frame i is data[off[i] .. off[i + 1]) */
	size_t n, max;
};

struct counts {
	uint64_t vframes, vbytes, aframes, abytes;
	int delay_samples; /* the Opus encoder's look-ahead */
	struct hl_vmeter_summary vm;
	struct hl_ameter_summary am;
};

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int stream_init(struct stream *s, size_t frames)
{
	memset(s, 0, sizeof(*s));
	s->max = frames;
	s->off = hl_calloc(frames + 1, sizeof(*s->off));
	return s->off ? 0 : HL_ENOMEM;
}

static int stream_add(struct stream *s, const uint8_t *data, size_t len)
{
	if (s->n >= s->max)
		return HL_ETOOBIG;
	if (s->len + len > s->cap) {
		size_t cap = (s->len + len) * 2 + 65536;
		uint8_t *nd = hl_realloc(s->data, cap);

		if (!nd)
			return HL_ENOMEM;
		s->data = nd;
		s->cap = cap;
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->off[++s->n] = s->len;
	return 0;
}

static void stream_free(struct stream *s)
{
	hl_free(s->data);
	hl_free(s->off);
}

/*
 * The capture timeline of the call: pictures every 1/FPS s, tone frames
 * every 20 ms, merged in time order (as bench_sim's floor does).  Returns
 * false when both are done; *video says which comes next, *at_us when.
 */
static bool next_event(uint64_t k, uint64_t vframes, uint64_t ak,
		       uint64_t aframes, bool *video, uint64_t *at_us)
{
	uint64_t vt = k * 1000000u / FPS, at = ak * AUDIO_FRAME;

	if (k >= vframes && ak >= aframes)
		return false;
	*video = k < vframes && (ak >= aframes || vt <= at);
	*at_us = *video ? vt : at;
	return true;
}

/*
 * The sending side: render and encode the whole call.  With vs/as set,
 * the encoded frames are kept (the receiver's untimed preparation);
 * otherwise only counted.
 */
static int run_send(const struct options *o, bool pace, struct stream *vs,
		    struct stream *as, struct counts *c)
{
	struct hl_video_enc_config vc = {
		.width = o->width,
		.height = o->height,
		.fps = FPS,
		.kbps = o->kbps,
		.threads = 1,
		.cpu_used = -6,
	};
	struct hl_audio_enc_config ac = {
		.kbps = AUDIO_KBPS, .fec = true, .loss_perc = AUDIO_LOSS};
	uint64_t vframes = (uint64_t)(o->seconds * FPS);
	uint64_t aframes = (uint64_t)(o->seconds * 1000000 / AUDIO_FRAME);
	uint64_t k = 0, ak = 0, at, t0 = hl_clock_now_us();
	void *venc = NULL, *aenc = NULL;
	struct hl_image *img = NULL;
	bool video;
	int err;

	err = hl_vp8_encoder.create(&venc, &vc);
	if (!err)
		err = hl_opus_encoder.create(&aenc, &ac);
	if (!err) {
		c->delay_samples = hl_opus_encoder.lookahead(aenc);
		err = hl_image_new(&img, o->width, o->height);
	}
	while (!err && next_event(k, vframes, ak, aframes, &video, &at)) {
		if (pace)
			sleep_until(t0 + at);
		if (video) {
			struct hl_stamp st = {(uint32_t)k, at};
			struct hl_encoded e;

			hl_pattern_render(img, &st);
			err = hl_vp8_encoder.encode(venc, img, at, k == 0, &e);
			if (!err && e.len) {
				c->vframes++;
				c->vbytes += e.len;
				if (vs)
					err = stream_add(vs, e.data, e.len);
			}
			k++;
		} else {
			int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
			uint8_t pkt[HL_AUDIO_MAX_PACKET];
			size_t len;

			hl_tone_render(pcm, (uint16_t)ak);
			err = hl_opus_encoder.encode(aenc, pcm, pkt,
						     sizeof(pkt), &len);
			if (!err) {
				c->aframes++;
				c->abytes += len;
				if (as)
					err = stream_add(as, pkt, len);
			}
			ak++;
		}
	}
	if (venc)
		hl_vp8_encoder.destroy(venc);
	if (aenc)
		hl_opus_encoder.destroy(aenc);
	hl_image_free(img);
	return err;
}

/*
 * The receiving side: decode the streams on the same timeline.  With
 * --meters, each picture and tone frame also goes through the meters that
 * `hotline join` runs on what it receives (the picture's stamp, PSNR on
 * every 30th picture as with `--psnr-every 30`, the tone's mark), so that
 * the floor does the same measuring as the call it is compared with.
 */
static int run_recv(const struct options *o, const struct stream *vs,
		    const struct stream *as, int delay_samples,
		    struct counts *c)
{
	uint64_t k = 0, ak = 0, at, t0 = hl_clock_now_us();
	struct hl_audio_out ao = {.kind = HL_AUDIO_DECODED,
				  .delay_samples = delay_samples};
	struct hl_vmeter *vm = NULL;
	struct hl_ameter *am = NULL;
	void *vdec = NULL, *adec = NULL;
	bool video;
	int err;

	err = hl_vp8_decoder.create(&vdec);
	if (!err)
		err = hl_opus_decoder.create(&adec);
	if (!err && o->meters) {
		err = hl_vmeter_new(&vm, FPS, true);
		if (!err) {
			hl_vmeter_psnr_every(vm, METER_PSNR_EVERY);
			err = hl_ameter_new(&am);
		}
	}
	while (!err && next_event(k, vs->n, ak, as->n, &video, &at)) {
		if (o->realtime)
			sleep_until(t0 + at);
		if (video) {
			const struct hl_image *out = NULL;
			size_t len = vs->off[k + 1] - vs->off[k];

			err = hl_vp8_decoder.decode(vdec, vs->data + vs->off[k],
						    len, &out);
			if (!err && vm && out)
				err = hl_vmeter_frame(vm, out, at);
			c->vframes++;
			c->vbytes += len;
			k++;
		} else {
			int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
			size_t len = as->off[ak + 1] - as->off[ak];

			err = hl_opus_decoder.decode(
				adec, as->data + as->off[ak], len, pcm);
			if (!err && am)
				err = hl_ameter_frame(am, pcm, &ao, at);
			c->aframes++;
			c->abytes += len;
			ak++;
		}
	}
	if (vm) {
		hl_vmeter_summary(vm, 0, &c->vm);
		hl_vmeter_free(vm);
	}
	if (am) {
		hl_ameter_summary(am, &c->am);
		hl_ameter_free(am);
	}
	if (vdec)
		hl_vp8_decoder.destroy(vdec);
	if (adec)
		hl_opus_decoder.destroy(adec);
	return err;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	char *end;
	int side = 0;

	*o = (struct options){.realtime = true,
			      .seconds = 30,
			      .width = 1280,
			      .height = 720,
			      .kbps = 1500};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--side") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "send"))
				side = 1;
			else if (!strcmp(argv[i], "recv"))
				side = 2;
			else
				return -1;
			o->send = side == 1;
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			o->seconds = strtod(argv[++i], &end);
			if (*end || !(o->seconds > 0 && o->seconds <= 3600))
				return -1;
		} else if (!strcmp(argv[i], "--realtime")) {
			o->realtime = true;
		} else if (!strcmp(argv[i], "--fast")) {
			o->realtime = false;
		} else if (!strcmp(argv[i], "--meters")) {
			o->meters = true;
		} else if (!strcmp(argv[i], "--kbps") && i + 1 < argc) {
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 10 || v > 100000)
				return -1;
			o->kbps = (unsigned)v;
		} else if (!strcmp(argv[i], "--video-size") && i + 1 < argc &&
			   sscanf(argv[i + 1], "%dx%d", &o->width,
				  &o->height) == 2) {
			i++;
			if (o->width < 64 || o->height < 64 ||
			    o->width > HL_VIDEO_MAX_DIM ||
			    o->height > HL_VIDEO_MAX_DIM || (o->width & 1) ||
			    (o->height & 1))
				return -1;
		} else {
			return -1;
		}
	}
	return side ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct stream vs = {0}, as = {0};
	struct counts c = {0}, prep = {0};
	struct options o;
	double t0, cpu;
	int err;

	if (parse_args(argc, argv, &o)) {
		fprintf(stderr,
			"usage: codec_floor --side send|recv [--seconds N] "
			"[--realtime|--fast] [--meters] [--video-size WxH] "
			"[--kbps N]\n");
		return 2;
	}
	if (o.send) {
		t0 = cpu_seconds();
		err = run_send(&o, o.realtime, NULL, NULL, &c);
		cpu = cpu_seconds() - t0;
	} else {
		err = stream_init(&vs, (size_t)(o.seconds * FPS) + 1);
		if (!err)
			err = stream_init(&as, (size_t)(o.seconds * 50) + 1);
		if (!err)
			err = run_send(&o, false, &vs, &as, &prep);
		t0 = cpu_seconds();
		if (!err)
			err = run_recv(&o, &vs, &as, prep.delay_samples, &c);
		cpu = cpu_seconds() - t0;
		stream_free(&vs);
		stream_free(&as);
	}
	if (err) {
		fprintf(stderr, "codec_floor: %s side failed: %s\n",
			o.send ? "send" : "recv", hl_strerror(err));
		return 1;
	}
	printf("{\"side\": \"%s\", \"seconds\": %.1f, \"realtime\": %s, "
	       "\"width\": %d, \"height\": %d, \"video_kbps\": %u, "
	       "\"cpu_s\": %.3f, \"video_frames\": %llu, \"video_bytes\": "
	       "%llu, \"audio_frames\": %llu, \"audio_bytes\": %llu}\n",
	       o.send ? "send" : "recv", o.seconds,
	       o.realtime ? "true" : "false", o.width, o.height, o.kbps, cpu,
	       (unsigned long long)c.vframes, (unsigned long long)c.vbytes,
	       (unsigned long long)c.aframes, (unsigned long long)c.abytes);
	if (o.meters) /* proof that the meters read what they measured */
		printf("{\"meters\": true, \"pictures_read\": %llu, "
		       "\"pictures_unreadable\": %llu, \"psnr_db\": %.2f, "
		       "\"sound_frames\": %llu, \"sound_unreadable\": "
		       "%llu}\n",
		       (unsigned long long)(c.vm.frames - c.vm.unreadable),
		       (unsigned long long)c.vm.unreadable, c.vm.psnr_db,
		       (unsigned long long)c.am.frames_played,
		       (unsigned long long)c.am.unreadable);
	return 0;
}

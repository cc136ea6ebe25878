/*
 * hotline/report.h - live quality measurement and the call report.
 *
 * The meters turn what a receiver renders and plays into the figures of
 * the call report, from the media alone: the test pattern's stamp gives
 * each picture's frame number and capture time (so frame loss, freezes,
 * glass-to-glass latency and, by re-rendering the reference, PSNR), the
 * test tone's mark gives each audio frame's capture time.
 *
 * The report is the JSON object of DESIGN.md ("The call report"), built
 * with a small deterministic JSON writer (fixed number formats, fixed key
 * order) so that equal runs give byte-identical reports.
 */
#ifndef HOTLINE_REPORT_H
#define HOTLINE_REPORT_H

#include "hotline/base.h"
#include "hotline/core.h"
#include "hotline/media.h"

/* ---- JSON writer ---------------------------------------------------- */

struct hl_json {
	char *buf; /* NUL-terminated; owned; free with hl_json_free */
	size_t len, cap;
	int depth;
	bool first[32];
	int err; /* first error (HL_ENOMEM, HL_EINVAL), sticky */
};

void hl_json_init(struct hl_json *j);
void hl_json_free(struct hl_json *j);
void hl_json_obj_begin(struct hl_json *j, const char *key);
void hl_json_obj_end(struct hl_json *j);
void hl_json_arr_begin(struct hl_json *j, const char *key);
void hl_json_arr_end(struct hl_json *j);
void hl_json_str(struct hl_json *j, const char *key, const char *v);
void hl_json_u64(struct hl_json *j, const char *key, uint64_t v);
void hl_json_i64(struct hl_json *j, const char *key, int64_t v);
/* Fixed-point with `decimals` digits (deterministic). */
void hl_json_num(struct hl_json *j, const char *key, double v, int decimals);
void hl_json_bool(struct hl_json *j, const char *key, bool v);
/* key is ignored inside arrays and for the top-level value. */

/* ---- video meter ---------------------------------------------------- */

struct hl_vmeter_summary {
	uint64_t frames;     /* pictures shown */
	uint64_t unreadable; /* pictures whose stamp could not be read */
	uint64_t corrupt;    /* PSNR < 25 dB, out of order, or (when the
				source is the test pattern) unreadable */
	uint64_t freezes;
	double max_freeze_ms;
	double psnr_db; /* mean Y-PSNR against the re-rendered pattern */
	double latency_p50_ms, latency_p95_ms;
	/* sum and count of every latency so far: the mean of an interval
	 * is the difference of two summaries */
	double latency_sum_ms;
	uint64_t latency_n;
	int width, height;
	uint32_t last_frame_no;
};

struct hl_vmeter;

/*
 * fps is the nominal frame rate (freeze threshold, WebRTC-style: a gap
 * >= max(3 frame times, frame time + 150 ms) is a freeze).  stamped: the
 * sender shows the test pattern, so every picture must carry a stamp;
 * otherwise only freezes and counts are measured.
 */
int hl_vmeter_new(struct hl_vmeter **out, int fps, bool stamped) HL_MUST_CHECK;
/* Compare only every n-th readable picture with its reference (PSNR and
 * the PSNR test for corruption; default 1, every picture).  Stamps,
 * latency, order and freezes are still checked on every picture. */
void hl_vmeter_psnr_every(struct hl_vmeter *m, unsigned n);
void hl_vmeter_free(struct hl_vmeter *m);
/* A picture shown at shown_us (same clock as the stamps' capture times). */
int hl_vmeter_frame(struct hl_vmeter *m, const struct hl_image *img,
		    uint64_t shown_us) HL_MUST_CHECK;
/*
 * The figures so far.  last_capture_us: when the sender captured its last
 * picture (0 if unknown), so that a freeze lasting to the end of the call
 * is counted too.
 */
void hl_vmeter_summary(const struct hl_vmeter *m, uint64_t last_capture_us,
		       struct hl_vmeter_summary *s);

/* ---- audio meter ---------------------------------------------------- */

struct hl_ameter_summary {
	uint64_t frames_played; /* decoded or rebuilt from FEC */
	uint64_t fec_frames;
	uint64_t concealed_frames;
	uint64_t unreadable; /* played frames whose mark could not be read */
	double concealed_ms;
	double latency_p50_ms, latency_p95_ms;
	double latency_sum_ms; /* as in hl_vmeter_summary */
	uint64_t latency_n;
};

struct hl_ameter;

int hl_ameter_new(struct hl_ameter **out) HL_MUST_CHECK;
void hl_ameter_free(struct hl_ameter *m);
/* 20 ms played from played_us on; info as returned by hl_call_pull_audio. */
int hl_ameter_frame(struct hl_ameter *m,
		    const int16_t pcm[HL_AUDIO_FRAME_SAMPLES],
		    const struct hl_audio_out *info,
		    uint64_t played_us) HL_MUST_CHECK;
void hl_ameter_summary(const struct hl_ameter *m, struct hl_ameter_summary *s);

/* ---- the per-side report -------------------------------------------- */

struct hl_side_report {
	double seconds;
	const char *sas;
	struct hl_call_stats call;
	struct hl_vmeter_summary video;
	struct hl_ameter_summary audio;
};

/* Write one side's report object (DESIGN.md) under key. */
void hl_report_side_json(struct hl_json *j, const char *key,
			 const struct hl_side_report *r);
/* The same keys into the object being written (to add more of one's
 * own, as `join --report` does). */
void hl_report_side_fields(struct hl_json *j, const struct hl_side_report *r);

/* ---- over time, and the HTML report ---------------------------------- */

/* One second of a call, as seen by one side. */
struct hl_ts_sample {
	double t_s; /* seconds since the call started */
	double kbps_sent, kbps_received;
	double rtt_ms;
	double loss;		 /* share of the peer's packets lost */
	double video_latency_ms; /* mean over the second, 0 if none */
	double audio_latency_ms;
	double fps;		  /* pictures shown in that second */
	uint64_t frames_rendered; /* so far */
};

struct hl_timeseries {
	struct hl_ts_sample *s;
	size_t n, cap;
};

int hl_timeseries_add(struct hl_timeseries *ts,
		      const struct hl_ts_sample *s) HL_MUST_CHECK;
void hl_timeseries_free(struct hl_timeseries *ts);
/* Write the samples as an array under key. */
void hl_timeseries_json(struct hl_json *j, const char *key,
			const struct hl_timeseries *ts);

/*
 * A self-contained HTML page (inline SVG plots, no scripts or external
 * files) from a demo report JSON ({"alice": {...}, "bob": {...}}, each
 * side with its "timeseries"): the summary table and, per side, plots of
 * bitrate, RTT, loss, latency and frames over time.  *out hl_malloc'd.
 */
int hl_report_html(const char *report_json, size_t len,
		   char **out) HL_MUST_CHECK;

#endif /* HOTLINE_REPORT_H */

/*
 * timeseries.c - a call's per-second samples, and their JSON.
 *
 * A growable array (capacity doubles, hl_realloc) bounded to
 * HL_TS_MAX_SAMPLES, a little over a day of one sample per second, so a
 * forgotten call cannot eat the memory.  The JSON is an array of objects
 * with fixed keys and number formats (see hl_timeseries_json), which the
 * HTML report reads back.
 */
#include <string.h>

#include "hotline/report.h"

#define HL_TS_MAX_SAMPLES 100000 /* also the HTML report's limit */

int hl_timeseries_add(struct hl_timeseries *ts, const struct hl_ts_sample *s)
{
	if (ts->n >= HL_TS_MAX_SAMPLES)
		return HL_ETOOBIG;
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 64;
		struct hl_ts_sample *ns;

		if (cap > HL_TS_MAX_SAMPLES)
			cap = HL_TS_MAX_SAMPLES;
		ns = hl_realloc(ts->s, cap * sizeof(*ns));
		if (!ns)
			return HL_ENOMEM;
		ts->s = ns;
		ts->cap = cap;
	}
	ts->s[ts->n++] = *s;
	return 0;
}

void hl_timeseries_free(struct hl_timeseries *ts)
{
	hl_free(ts->s);
	memset(ts, 0, sizeof(*ts));
}

void hl_timeseries_json(struct hl_json *j, const char *key,
			const struct hl_timeseries *ts)
{
	hl_json_arr_begin(j, key);
	for (size_t i = 0; i < ts->n; i++) {
		const struct hl_ts_sample *s = &ts->s[i];

		hl_json_obj_begin(j, NULL);
		hl_json_num(j, "t_s", s->t_s, 3);
		hl_json_num(j, "kbps_sent", s->kbps_sent, 1);
		hl_json_num(j, "kbps_received", s->kbps_received, 1);
		hl_json_num(j, "rtt_ms", s->rtt_ms, 1);
		hl_json_num(j, "loss", s->loss, 4);
		hl_json_num(j, "video_latency_ms", s->video_latency_ms, 1);
		hl_json_num(j, "audio_latency_ms", s->audio_latency_ms, 1);
		hl_json_num(j, "fps", s->fps, 1);
		hl_json_u64(j, "frames_rendered", s->frames_rendered);
		hl_json_obj_end(j);
	}
	hl_json_arr_end(j);
}

/*
 * report.c - one side's call report as JSON (DESIGN.md "The call report").
 *
 * The keys DESIGN.md requires come first in each object; extra detail
 * follows.  Counts are integers; times in milliseconds with 1 decimal;
 * PSNR with 2; rates with 1; loss as a fraction with 4.
 */
#include "hotline/report.h"

static double kbps(uint64_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes * 8 / seconds / 1000 : 0;
}

void hl_report_side_fields(struct hl_json *j, const struct hl_side_report *r)
{
	const struct hl_call_stats *c = &r->call;
	const char *suite = hl_sframe_suite_name(c->suite);

	hl_json_num(j, "seconds", r->seconds, 1);
	hl_json_str(j, "sas", r->sas);

	hl_json_obj_begin(j, "e2ee");
	hl_json_str(j, "suite", suite ? suite : "unknown");
	hl_json_u64(j, "auth_failures", c->auth_failures);
	hl_json_u64(j, "replays", c->replays);
	hl_json_u64(j, "frames_authenticated", c->frames_authenticated);
	hl_json_u64(j, "rekeys", c->rekeys);
	hl_json_obj_end(j);

	hl_json_obj_begin(j, "video");
	hl_json_u64(j, "frames_sent", c->video_frames_sent);
	hl_json_u64(j, "frames_rendered", r->video.frames);
	hl_json_u64(j, "freezes", r->video.freezes);
	hl_json_num(j, "max_freeze_ms", r->video.max_freeze_ms, 1);
	hl_json_num(j, "psnr_db", r->video.psnr_db, 2);
	hl_json_obj_begin(j, "latency_ms");
	hl_json_num(j, "p50", r->video.latency_p50_ms, 1);
	hl_json_num(j, "p95", r->video.latency_p95_ms, 1);
	hl_json_obj_end(j);
	hl_json_num(j, "kbps", kbps(c->video_bytes_received, r->seconds), 1);
	hl_json_u64(j, "width", (uint64_t)r->video.width);
	hl_json_u64(j, "height", (uint64_t)r->video.height);
	hl_json_num(j, "sent_kbps", kbps(c->video_bytes_sent, r->seconds), 1);
	hl_json_u64(j, "target_kbps", c->target_kbps);
	hl_json_u64(j, "keyframes_sent", c->video_keyframes_sent);
	hl_json_u64(j, "keyframes_decoded", c->video_keyframes_decoded);
	hl_json_u64(j, "corrupt_frames", r->video.corrupt);
	hl_json_u64(j, "unreadable_stamps", r->video.unreadable);
	hl_json_u64(j, "decode_errors", c->video_decode_errors);
	hl_json_u64(j, "frames_dropped", c->video_frames_dropped);
	hl_json_u64(j, "plis_sent", c->plis_sent);
	hl_json_u64(j, "plis_received", c->plis_received);
	hl_json_obj_end(j);

	hl_json_obj_begin(j, "audio");
	hl_json_u64(j, "frames_sent", c->audio_frames_sent);
	hl_json_u64(j, "frames_played", r->audio.frames_played);
	hl_json_num(j, "concealed_ms", r->audio.concealed_ms, 1);
	hl_json_obj_begin(j, "latency_ms");
	hl_json_num(j, "p50", r->audio.latency_p50_ms, 1);
	hl_json_num(j, "p95", r->audio.latency_p95_ms, 1);
	hl_json_obj_end(j);
	hl_json_u64(j, "fec_frames", r->audio.fec_frames);
	hl_json_u64(j, "red_recovered", c->audio_red_recovered);
	hl_json_u64(j, "red_distance", c->audio_red_distance);
	hl_json_u64(j, "concealed_frames_engine", c->audio_concealed);
	hl_json_u64(j, "unreadable_marks", r->audio.unreadable);
	hl_json_u64(j, "late_packets", c->audio_late);
	hl_json_u64(j, "jitter_buffer_ms", c->audio_delay_ms);
	hl_json_obj_end(j);

	hl_json_obj_begin(j, "network");
	hl_json_num(j, "rtt_ms", c->rtt_ms, 1);
	hl_json_num(j, "loss", c->loss_in, 4);
	hl_json_u64(j, "nacks", c->nacks_sent);
	hl_json_u64(j, "retransmissions", c->retransmissions);
	hl_json_u64(j, "nacks_received", c->nacks_received);
	hl_json_u64(j, "rtx_received", c->rtx_received);
	hl_json_u64(j, "rtx_budget_drops", c->rtx_budget_drops);
	hl_json_u64(j, "estimate_kbps", c->estimate_kbps);
	hl_json_u64(j, "delay_overuses", c->delay_overuses);
	hl_json_u64(j, "rembs_sent", c->rembs_sent);
	hl_json_u64(j, "rembs_received", c->rembs_received);
	hl_json_u64(j, "peer_estimate_kbps", c->peer_estimate_kbps);
	hl_json_u64(j, "packets_sent", c->packets_sent);
	hl_json_u64(j, "packets_received", c->packets_received);
	hl_json_num(j, "kbps_sent", kbps(c->bytes_sent, r->seconds), 1);
	hl_json_u64(j, "duplicates", c->duplicates);
	hl_json_u64(j, "malformed", c->malformed);
	hl_json_u64(j, "unknown_ssrc", c->unknown_ssrc);
	hl_json_obj_end(j);
}

void hl_report_side_json(struct hl_json *j, const char *key,
			 const struct hl_side_report *r)
{
	hl_json_obj_begin(j, key);
	hl_report_side_fields(j, r);
	hl_json_obj_end(j);
}

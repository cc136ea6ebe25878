/*
 * hotline/sim.h - the network emulator and the two-peer call simulation.
 *
 * struct hl_link is one direction of an emulated network path in virtual
 * time: random loss or Gilbert-Elliott burst loss, a rate cap with a
 * drop-tail queue, delay with jitter, reordering, duplication and
 * tampering (bit flips), all drawn from one seeded generator, so the same
 * seed and the same sends give the same deliveries.  It never reads a
 * clock: every call takes `now` (microseconds of virtual time).
 *
 * Order of effects for each packet sent: loss (random or burst), rate cap
 * queue (drop-tail), delay + jitter (FIFO: jitter never reorders by
 * itself), reordering (an extra delay that lets later packets overtake),
 * duplication (an independent second copy), tampering (each copy).
 */
#ifndef HOTLINE_SIM_H
#define HOTLINE_SIM_H

#include "hotline/base.h"

struct hl_link_params {
	double loss;	   /* mean packet loss rate, 0..1 */
	double burst;	   /* mean loss burst length in packets; <= 1: random */
	uint32_t delay_us; /* one-way base delay */
	uint32_t jitter_us; /* delay varies uniformly in [-jitter, +jitter] */
	double reorder;	    /* share of packets delayed past later ones, 0..1 */
	double duplicate;   /* share of packets delivered twice, 0..1 */
	uint32_t rate_kbps; /* 0: unlimited */
	uint32_t
		queue_bytes; /* drop-tail limit; 0: 100 ms at rate (>= 16 KB) */
	double tamper;	     /* share of packets with 1-3 bits flipped, 0..1 */
};

struct hl_link_stats {
	uint64_t sent;	      /* packets given to hl_link_send */
	uint64_t delivered;   /* packets handed out by hl_link_recv */
	uint64_t lost;	      /* dropped by random or burst loss */
	uint64_t queue_drops; /* dropped by the full rate-cap queue */
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t tampered;
	uint64_t bytes_sent;
	uint64_t bytes_delivered;
};

#define HL_LINK_MAX_PACKET 2048
#define HL_LINK_MAX_QUEUED 65536 /* packets in flight; more are dropped */

/* Check a parameter set: HL_EINVAL with *what naming the bad field. */
int hl_link_params_check(const struct hl_link_params *p,
			 const char **what) HL_MUST_CHECK;

struct hl_link;

int hl_link_new(struct hl_link **out, const struct hl_link_params *p,
		uint64_t seed) HL_MUST_CHECK;
void hl_link_free(struct hl_link *l);

/* Offer a packet at time now (len <= HL_LINK_MAX_PACKET). */
int hl_link_send(struct hl_link *l, const uint8_t *pkt, size_t len,
		 uint64_t now) HL_MUST_CHECK;
/*
 * Take the next packet due at or before now (in delivery order; ties in
 * send order).  HL_EAGAIN when none is due.
 */
int hl_link_recv(struct hl_link *l, uint64_t now, uint8_t *buf, size_t cap,
		 size_t *len) HL_MUST_CHECK;
/* Time of the next delivery, or UINT64_MAX when nothing is in flight. */
uint64_t hl_link_next_time(const struct hl_link *l);
void hl_link_stats(const struct hl_link *l, struct hl_link_stats *st);

/* ---- the two-peer call simulation ----------------------------------- */

/*
 * hl_sim_run() runs a whole call in virtual time: alice and bob, each with
 * the test pattern and test tone as sources, each sending audio and video
 * to the other through its own hl_link (same parameters, seeds derived
 * from cfg->seed), each measuring what it shows and plays.  Codecs do
 * their real work; their CPU time does not advance the virtual clock,
 * which instead charges fixed costs (HL_SIM_*_US below) so that latency
 * figures include a realistic codec delay.  Everything is seeded: the same
 * configuration gives the same result, byte for byte.
 */
#define HL_SIM_VIDEO_ENCODE_US 5000
#define HL_SIM_VIDEO_DECODE_US 2000
#define HL_SIM_AUDIO_ENCODE_US 1000
#define HL_SIM_DRAIN_US	       1500000 /* run on after the sources stop */

struct hl_sim_config {
	double seconds;
	uint64_t seed;
	struct hl_link_params link;
	int width, height, fps;
	unsigned video_kbps, audio_kbps;
	/*
	 * Sources: NULL or "test" for the stamped test pattern and marked
	 * tone, else a Y4M file (its size must be width x height) or a WAV
	 * file (48 kHz, 16-bit), both looped.  record_dir: if set, each side
	 * writes what it shows and plays to DIR/NAME-received.y4m/.wav.
	 */
	const char *video_src, *audio_src, *record_dir;
	/* Called about once per simulated second (may be NULL). */
	void (*progress)(void *ctx, double done_s, double total_s);
	void *progress_ctx;
};

void hl_sim_config_defaults(struct hl_sim_config *cfg);

struct hl_side_report;

struct hl_sim_result {
	struct hl_side_report *side[2]; /* alice, bob */
	struct hl_link_stats link[2];	/* alice->bob, bob->alice */
};

int hl_sim_run(const struct hl_sim_config *cfg,
	       struct hl_sim_result *res) HL_MUST_CHECK;
void hl_sim_result_free(struct hl_sim_result *res);
/* The report JSON ({"alice":..,"bob":..,"sim":..}); *out is hl_malloc'd. */
int hl_sim_report_json(const struct hl_sim_config *cfg,
		       const struct hl_sim_result *res,
		       char **out) HL_MUST_CHECK;

#endif /* HOTLINE_SIM_H */

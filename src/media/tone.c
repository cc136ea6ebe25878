/*
 * tone.c - the test tone: a 16-bit mark in every 20 ms audio frame.
 *
 * Each frame is a sum of 16 sinusoids, one out of each of 16 frequency
 * pairs: pair i is harmonics (5 + 2i, 6 + 2i) of 100 Hz, so the 32
 * candidate tones sit 100 Hz apart from 500 to 3600 Hz, and bit i of the
 * mark switches pair i to its upper tone.
 *
 * Why these numbers (measured through libopus 1.3 at 32 kb/s, VOIP):
 *  - With in-band FEC and a loss estimate Opus codes in SILK wideband
 *    mode, whose noise shaping leaves tones above about 4 kHz buried
 *    (with tones up to 6.8 kHz under half the frames were readable); below
 *    3.6 kHz both SILK and CELT keep every tone 10 dB or more above its
 *    partner.
 *  - Every tone is a harmonic of 100 Hz, so the sum is periodic with a
 *    10 ms period (480 samples): it looks like a steady voiced sound to
 *    SILK's pitch predictor and CELT's pitch pre-filter, and a 480-sample
 *    analysis window holds exactly one period, so each candidate falls on
 *    an exact DFT bin and the tones do not leak into each other's bins.
 *  - Each tone makes a whole number of cycles per 20 ms, so a tone that is
 *    on in two consecutive frames continues without a seam.  The mark is
 *    capture time / 20 ms, so the previous and next frames carry mark - 1
 *    and mark + 1: only the pairs whose bit changes cross-fade (1 ms raised
 *    cosine, out at the end of one frame, in at the start of the next).
 *    Fading every tone at every frame edge instead makes a 2 ms dip that
 *    CELT codes as a transient (short blocks, poor frequency resolution)
 *    and costs several dB of margin.
 * Phases follow Schroeder's rule to keep the crest factor low; 16 tones of
 * amplitude 1000 (about -21 dBFS RMS) can never clip.
 *
 * Reading: the decoded frame holds the last `delay` samples of the
 * previous source frame and then the start of this one.  The 480-sample
 * window is placed inside this frame's part, at least GUARD samples (2 ms)
 * after its start (to skip the cross-fade and the codec's smearing of the
 * frame boundary), and Goertzel filters measure the 32 candidate bins.
 * Every pair must show a clear winner (at least 6 dB in power), the
 * winners must hold at least half of the window's energy, and the window
 * must not be near silence; otherwise HL_EPARSE.  White noise passes all
 * 16 margins with probability about 0.4^16 and never the energy test.
 */
#include <math.h>
#include <pthread.h>

#include "hotline/media.h"

#define PERIOD	  480 /* samples per period of 100 Hz at 48 kHz */
#define FIRST_H	  5   /* lowest harmonic: 500 Hz */
#define N_TONES	  32
#define AMPLITUDE 1000.0
#define FADE	  48  /* 1 ms raised-cosine cross-fade */
#define GUARD	  96  /* the window starts/ends this far inside the frame */
#define WINDOW	  480 /* one period: 10 ms */
#define MARGIN	  4.0 /* 6 dB between the tones of a pair */
#define MIN_RMS	  30.0
#define MIN_SHARE 0.5 /* of the window's energy in the winning tones */
static float tone_tab[N_TONES][PERIOD]; /* AMPLITUDE * cos(...) */
static float fade_tab[FADE];
static double goertzel_coef[N_TONES];
static pthread_once_t tone_once = PTHREAD_ONCE_INIT;

static void tone_init(void)
{
	for (int t = 0; t < N_TONES; t++) {
		int h = FIRST_H + t;
		/* Schroeder phases over the 32 candidates. */
		double phi = M_PI * (double)t * (double)(t + 1) / N_TONES;

		for (int n = 0; n < PERIOD; n++)
			tone_tab[t][n] =
				(float)(AMPLITUDE *
					cos(2.0 * M_PI * h * n / PERIOD + phi));
		goertzel_coef[t] = 2.0 * cos(2.0 * M_PI * h / PERIOD);
	}
	for (int n = 0; n < FADE; n++)
		fade_tab[n] = (float)(0.5 - 0.5 * cos(M_PI * (n + 0.5) / FADE));
}

void hl_tone_render(int16_t pcm[HL_AUDIO_FRAME_SAMPLES], uint16_t mark)
{
	uint16_t prev = (uint16_t)(mark - 1), next = (uint16_t)(mark + 1);
	float acc[HL_AUDIO_FRAME_SAMPLES] = {0};

	pthread_once(&tone_once, tone_init);
	for (int i = 0; i < 16; i++) {
		int bit = (mark >> i) & 1;
		const float *tab = tone_tab[2 * i + bit];
		bool fade_in = ((prev >> i) & 1) != bit;
		bool fade_out = ((next >> i) & 1) != bit;

		for (int n = 0; n < HL_AUDIO_FRAME_SAMPLES; n++)
			acc[n] += tab[n % PERIOD];
		for (int n = 0; fade_in && n < FADE; n++)
			acc[n] -= tab[n] * (1.0f - fade_tab[n]);
		for (int n = 0; fade_out && n < FADE; n++) {
			int t = HL_AUDIO_FRAME_SAMPLES - 1 - n;

			acc[t] -= tab[t % PERIOD] * (1.0f - fade_tab[n]);
		}
	}
	for (int n = 0; n < HL_AUDIO_FRAME_SAMPLES; n++)
		pcm[n] = (int16_t)lrintf(acc[n]);
}

/*
 * Power of each exact-bin tone over the window (Goertzel), all 32 at
 * once: the sample loop is outside, so the 32 recurrences are
 * independent and run side by side (vectorised), where one tone at a
 * time waits on its own chain (7x slower).
 */
static void goertzel_all(const int16_t *x, int n, double p[N_TONES])
{
	double s1[N_TONES] = {0}, s2[N_TONES] = {0};

	for (int i = 0; i < n; i++) {
		double xi = x[i];

		for (int t = 0; t < N_TONES; t++) {
			double s = xi + goertzel_coef[t] * s1[t] - s2[t];

			s2[t] = s1[t];
			s1[t] = s;
		}
	}
	for (int t = 0; t < N_TONES; t++)
		p[t] = s1[t] * s1[t] + s2[t] * s2[t] -
		       goertzel_coef[t] * s1[t] * s2[t];
}

int hl_tone_read(const int16_t pcm[HL_AUDIO_FRAME_SAMPLES], int delay,
		 uint16_t *mark)
{
	const int16_t *x;
	double total = 0, won = 0, e[N_TONES];
	uint16_t m = 0;
	int lo, hi;

	if (!pcm || !mark || delay < 0 || delay > HL_AUDIO_FRAME_SAMPLES)
		return HL_EINVAL;
	lo = delay + GUARD;
	hi = HL_MIN(HL_AUDIO_FRAME_SAMPLES,
		    delay + HL_AUDIO_FRAME_SAMPLES - GUARD);
	if (hi - lo < WINDOW)
		return HL_EINVAL; /* too little of one source frame left */
	pthread_once(&tone_once, tone_init);
	x = pcm + lo + (hi - lo - WINDOW) / 2;

	for (int i = 0; i < WINDOW; i++)
		total += (double)x[i] * x[i];
	if (total < MIN_RMS * MIN_RMS * WINDOW)
		return HL_EPARSE;
	/* 2|X|^2/N: a tone's share of the window energy (Parseval). */
	goertzel_all(x, WINDOW, e);
	for (int t = 0; t < N_TONES; t++)
		e[t] = 2.0 * e[t] / WINDOW;
	for (int i = 0; i < 16; i++) {
		double e0 = e[2 * i], e1 = e[2 * i + 1];

		if (e1 > e0) {
			if (e1 < MARGIN * e0)
				return HL_EPARSE;
			m |= (uint16_t)(1u << i);
			won += e1;
		} else {
			if (e0 < MARGIN * e1 || e0 == 0)
				return HL_EPARSE;
			won += e0;
		}
	}
	if (won < MIN_SHARE * total)
		return HL_EPARSE;
	*mark = m;
	return 0;
}

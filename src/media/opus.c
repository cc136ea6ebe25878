/*
 * opus.c - the Opus encoder and decoder (libopus) behind the codec tables
 * of hotline/media.h: 48 kHz mono, 20 ms frames, VOIP application, in-band
 * FEC (LBRR) and packet loss concealment.
 *
 * The codec states live in hl_malloc'd blocks (opus_*_get_size() +
 * opus_*_init()) so that allocation failures are testable like everywhere
 * else.
 *
 * Loss recovery on the receiving side (RFC 6716 §4.4 / opus_decode()):
 *  - decode_fec(next): when packet k is lost but k+1 has arrived, decode
 *    the LBRR copy of frame k carried in packet k+1 (decode_fec = 1);
 *    libopus falls back to concealment if k+1 carries no LBRR data.  Then
 *    decode k+1 normally.
 *  - conceal(): when nothing is available, opus_decode(NULL) extrapolates.
 */
#include <opus/opus.h>

#include "hotline/media.h"

#define DEFAULT_KBPS 32
/*
 * Complexity 9 (libopus' own default): at 32 kb/s mono one 20 ms frame
 * costs well under 1% of a core here (tests/media_probe measures it), and
 * the lower settings lose quality for little gain.
 */
#define COMPLEXITY 9

static int clamp_loss(int loss_perc)
{
	return loss_perc < 0 ? 0 : loss_perc > 100 ? 100 : loss_perc;
}

static opus_int32 bitrate_bps(unsigned kbps)
{
	if (kbps == 0)
		kbps = DEFAULT_KBPS;
	if (kbps < 6)
		kbps = 6;
	if (kbps > 510)
		kbps = 510;
	return (opus_int32)kbps * 1000;
}

static int opus_enc_create(void **st, const struct hl_audio_enc_config *cfg)
{
	int size = opus_encoder_get_size(1);
	OpusEncoder *enc;

	if (!cfg || size <= 0)
		return HL_EINVAL;
	enc = hl_malloc((size_t)size);
	if (!enc)
		return HL_ENOMEM;
	if (opus_encoder_init(enc, HL_AUDIO_RATE, 1, OPUS_APPLICATION_VOIP) !=
		    OPUS_OK ||
	    opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate_bps(cfg->kbps))) ||
	    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(COMPLEXITY)) ||
	    opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(cfg->fec ? 1 : 0)) ||
	    opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(
					  clamp_loss(cfg->loss_perc)))) {
		hl_free(enc);
		return HL_ECODEC;
	}
	*st = enc;
	return 0;
}

static void opus_enc_destroy(void *st)
{
	hl_free(st);
}

static int opus_enc_encode(void *st, const int16_t *pcm, uint8_t *out,
			   size_t cap, size_t *len)
{
	opus_int32 n;

	if (!pcm || !out || cap == 0)
		return HL_EINVAL;
	if (cap > HL_AUDIO_MAX_PACKET)
		cap = HL_AUDIO_MAX_PACKET;
	n = opus_encode(st, pcm, HL_AUDIO_FRAME_SAMPLES, out, (opus_int32)cap);
	if (n == OPUS_BUFFER_TOO_SMALL)
		return HL_ETOOBIG;
	if (n < 0)
		return HL_ECODEC;
	*len = (size_t)n;
	return 0;
}

static int opus_enc_set_bitrate(void *st, unsigned kbps)
{
	if (opus_encoder_ctl(st, OPUS_SET_BITRATE(bitrate_bps(kbps))))
		return HL_ECODEC;
	return 0;
}

static int opus_enc_set_loss_perc(void *st, int loss_perc)
{
	if (opus_encoder_ctl(st,
			     OPUS_SET_PACKET_LOSS_PERC(clamp_loss(loss_perc))))
		return HL_ECODEC;
	return 0;
}

static int opus_enc_lookahead(void *st)
{
	opus_int32 la = 0;

	if (opus_encoder_ctl(st, OPUS_GET_LOOKAHEAD(&la)))
		return 0;
	return (int)la;
}

const struct hl_audio_encoder_ops hl_opus_encoder = {
	.name = "opus",
	.create = opus_enc_create,
	.destroy = opus_enc_destroy,
	.encode = opus_enc_encode,
	.set_bitrate = opus_enc_set_bitrate,
	.set_loss_perc = opus_enc_set_loss_perc,
	.lookahead = opus_enc_lookahead,
};

static int opus_dec_create(void **st)
{
	int size = opus_decoder_get_size(1);
	OpusDecoder *dec;

	if (size <= 0)
		return HL_ECODEC;
	dec = hl_malloc((size_t)size);
	if (!dec)
		return HL_ENOMEM;
	if (opus_decoder_init(dec, HL_AUDIO_RATE, 1) != OPUS_OK) {
		hl_free(dec);
		return HL_ECODEC;
	}
	*st = dec;
	return 0;
}

static void opus_dec_destroy(void *st)
{
	hl_free(st);
}

/*
 * Decode into exactly one 20 ms frame.  A packet of another duration (a
 * peer sending 10 or 40 ms frames) or a malformed one is HL_ECODEC: the
 * caller conceals it like a loss.
 */
static int decode_frame(OpusDecoder *dec, const uint8_t *data, size_t len,
			int16_t *pcm, int fec)
{
	int n;

	if (!pcm)
		return HL_EINVAL;
	if (data) {
		if (len == 0 || len > HL_AUDIO_MAX_PACKET * 3)
			return HL_ECODEC;
		n = opus_packet_get_nb_samples(data, (opus_int32)len,
					       HL_AUDIO_RATE);
		if (n != HL_AUDIO_FRAME_SAMPLES)
			return HL_ECODEC;
	}
	n = opus_decode(dec, data, (opus_int32)len, pcm, HL_AUDIO_FRAME_SAMPLES,
			fec);
	if (n != HL_AUDIO_FRAME_SAMPLES)
		return HL_ECODEC;
	return 0;
}

static int opus_dec_decode(void *st, const uint8_t *data, size_t len,
			   int16_t *pcm)
{
	if (!data)
		return HL_ECODEC;
	return decode_frame(st, data, len, pcm, 0);
}

/*
 * Does this packet carry LBRR (FEC) data for the frame before it?  RFC 6716
 * §4.2.3: in SILK-only and hybrid packets the SILK layer starts with one
 * VAD flag per 20 ms SILK frame, then the LBRR flag, each coded with
 * probability 1/2, so for one mono 20 ms frame the flag is bit 6 of the
 * first byte of the frame.  CELT-only packets (TOC configs 16-31) never
 * carry LBRR.
 */
static bool has_lbrr(const uint8_t *data, size_t len)
{
	const unsigned char *frames[48];
	opus_int16 sizes[48];
	unsigned char toc;

	if (len < 2 || (data[0] >> 3) >= 16 ||
	    opus_packet_get_nb_channels(data) != 1)
		return false;
	if (opus_packet_parse(data, (opus_int32)len, &toc, frames, sizes,
			      NULL) < 1 ||
	    sizes[0] < 1)
		return false;
	return (frames[0][0] >> 6) & 1;
}

static int opus_dec_decode_fec(void *st, const uint8_t *next, size_t len,
			       int16_t *pcm)
{
	if (!next)
		return HL_ECODEC;
	/* Without LBRR data libopus would only conceal: say so. */
	if (!has_lbrr(next, len))
		return HL_EAGAIN;
	return decode_frame(st, next, len, pcm, 1);
}

static int opus_dec_conceal(void *st, int16_t *pcm)
{
	return decode_frame(st, NULL, 0, pcm, 0);
}

const struct hl_audio_decoder_ops hl_opus_decoder = {
	.name = "opus",
	.create = opus_dec_create,
	.destroy = opus_dec_destroy,
	.decode = opus_dec_decode,
	.decode_fec = opus_dec_decode_fec,
	.conceal = opus_dec_conceal,
};

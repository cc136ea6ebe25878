/*
 * err.c - one sentence for every HL_E* code (see include/hotline/base.h).
 */
#include "hotline/base.h"

const char *hl_strerror(int err)
{
	switch (err) {
	case HL_OK:
		return "success";
	case HL_ENOMEM:
		return "out of memory";
	case HL_EINVAL:
		return "invalid argument";
	case HL_EAUTH:
		return "authentication failed (tampered, forged or wrong key)";
	case HL_EREPLAY:
		return "replayed or too old (already accepted once)";
	case HL_EPARSE:
		return "malformed input";
	case HL_ETOOBIG:
		return "input or output larger than the limit";
	case HL_EAGAIN:
		return "nothing available now";
	case HL_ECODEC:
		return "the audio or video codec failed";
	case HL_EIO:
		return "input/output error";
	case HL_ECRYPTO:
		return "the cryptographic backend failed";
	case HL_ESTATE:
		return "operation not valid in the current state";
	case HL_EUNSUPPORTED:
		return "unsupported feature or format";
	case HL_ENOKEY:
		return "no key for this key id";
	case HL_EFULL:
		return "a bounded queue or table is full";
	case HL_ECONFLICT:
		return "contradicts what is already recorded";
	case HL_ENOTFOUND:
		return "not found";
	case HL_ETIMEOUT:
		return "timed out waiting for the other side";
	default:
		return "unknown error";
	}
}

/*
 * contract_internal.h - declarations shared by the sources of src/contract
 * and its unit tests and fuzz targets; not part of the public API.
 */
#ifndef HOTLINE_SRC_CONTRACT_INTERNAL_H
#define HOTLINE_SRC_CONTRACT_INTERNAL_H

#include "hotline/contract.h"

/* What hl_contract_utf8_check found first in a string. */
enum hl_utf8_verdict {
	HL_UTF8_OK = 0,
	HL_UTF8_INVALID, /* not well-formed UTF-8 (RFC 3629 §4) */
	HL_UTF8_CONTROL, /* a C0 control, DEL or a C1 control */
};

/*
 * Check that s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF, no truncated sequence) holding
 * no control character (U+0000..U+001F, U+007F, U+0080..U+009F).  Scans
 * left to right and reports the first problem.
 */
enum hl_utf8_verdict hl_contract_utf8_check(const uint8_t *s, size_t n);

/* Domain-separation labels of §5.2, each with its "\0" terminator. */
#define HL_CONTRACT_LABEL_PROPOSAL   "hotline contract proposal v1"
#define HL_CONTRACT_LABEL_ACCEPTANCE "hotline contract acceptance v1"
#define HL_CONTRACT_LABEL_DECLINE    "hotline contract decline v1"

/*
 * hl_contract_decode with a reason: *why (never NULL on failure) names
 * the first problem.  Same result and contract as hl_contract_decode.
 */
int hl_contract_decode_why(const uint8_t *in, size_t len, struct hl_contract *c,
			   const char **why) HL_MUST_CHECK;

#endif

/*
 * turn.c - TURN REST credentials for coturn (draft-uberti-behave-turn-
 * rest-00 §2.2, coturn's "use-auth-secret"): the TURN server and
 * hotlined share a secret; username = "EXPIRY:USER" (EXPIRY in Unix
 * seconds), password = base64(HMAC-SHA1(secret, username)) in the
 * standard alphabet with padding (RFC 4648 §4).  The TURN server checks
 * the HMAC and that EXPIRY has not passed, so hotlined keeps no state.
 */
#include <string.h>

#include <openssl/evp.h>

#include "server_internal.h"

int hl_srv_turn_password(const char *secret, const char *username,
			 char *password, size_t cap)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	int err = 0;

	/* 20 bytes of HMAC-SHA1 are 28 characters of base64, plus NUL. */
	if (cap < 29)
		return HL_EINVAL;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, secret, strlen(secret),
		       (const unsigned char *)username, strlen(username), mac,
		       sizeof(mac), &mac_len) ||
	    mac_len != 20) {
		err = HL_ECRYPTO;
		goto out;
	}
	if (EVP_EncodeBlock((unsigned char *)password, mac, 20) != 28)
		err = HL_ECRYPTO;
out:
	hl_wipe(mac, sizeof(mac));
	return err;
}

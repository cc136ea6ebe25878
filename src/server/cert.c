/*
 * cert.c - hotlined's TLS certificate: made on first start, then reused.
 *
 * Clients do not check the certificate against a CA or a host name; they
 * pin SHA-256 of its DER encoding on first use (docs/protocol.md §5.5).
 * So the server needs one stable self-signed certificate: ECDSA P-256,
 * CN=hotlined, valid for 20 years (RFC 5280 §4.1; expiry is not checked
 * by pinning clients, but other tools like a sane date), made with the
 * OpenSSL 3 EVP and X509 APIs and written as DATA/key.pem (0600) and
 * DATA/cert.pem (0644).  Each file is written to a temporary name,
 * fsync'd and renamed; the key first, so a cert.pem always has its key.
 * A key.pem without a cert.pem (a first start that died half way) is
 * replaced; a cert.pem without a key.pem is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "server_internal.h"

#define VALID_DAYS (20 * 366)

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return HL_ECRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : HL_ECRYPTO;
}

/* A fresh self-signed certificate for key. */
static int make_cert(EVP_PKEY *key, X509 **out)
{
	struct hl_rng rng = hl_srv_rng();
	uint8_t serial[16];
	time_t now = (time_t)(hl_srv_now_us() / 1000000u);
	X509 *x = X509_new();
	X509_NAME *name = NULL;
	BIGNUM *bn = NULL;
	int err = HL_ECRYPTO;

	if (!x || !rng.fill)
		goto out;
	rng.fill(rng.ctx, serial, sizeof(serial));
	serial[0] &= 0x7f; /* RFC 5280 §4.1.2.2: positive, at most 20 bytes */
	serial[0] |= 0x01;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	name = X509_NAME_new();
	if (!bn || !name || !X509_set_version(x, X509_VERSION_3) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), VALID_DAYS, 0, &now) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"hotlined", -1,
					-1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_set_pubkey(x, key))
		goto out;
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    add_ext(x, NID_subject_alt_name, "DNS:hotlined"))
		goto out;
	if (!X509_sign(x, key, EVP_sha256()))
		goto out;
	*out = x;
	x = NULL;
	err = 0;
out:
	X509_free(x);
	X509_NAME_free(name);
	BN_free(bn);
	return err;
}

/* Write key (if not NULL) or x as a PEM file, atomically, with mode. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *x)
{
	char tmp[4200];
	FILE *f = NULL;
	int fd, err = HL_EIO, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return HL_EINVAL;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return HL_EIO;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		goto out;
	}
	if (key)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_X509(f, x);
	if (!ok || fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0)
		goto out;
	err = 0;
out:
	if (f)
		fclose(f);
	if (err)
		unlink(tmp);
	return err;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!fsync(fd);
		close(fd);
	}
}

static int generate(const char *dir, const char *cert_path,
		    const char *key_path, const char **why)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = NULL;
	int err = HL_ECRYPTO;

	*why = "cannot make a certificate (OpenSSL failed)";
	if (!key || make_cert(key, &x) != 0)
		goto out;
	*why = "cannot write the key and certificate into the data folder";
	if ((err = write_pem(key_path, 0600, key, NULL)) != 0 ||
	    (err = write_pem(cert_path, 0644, NULL, x)) != 0)
		goto out;
	sync_dir(dir);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return err;
}

/* Load cert and key, check that they match, and hash the DER. */
static int load(const char *cert_path, const char *key_path,
		uint8_t fp[HL_SRV_FP_LEN], const char **why)
{
	FILE *f = fopen(cert_path, "r");
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	unsigned char *der = NULL;
	unsigned int md_len = 0;
	int der_len, err = HL_EIO;

	*why = "cannot read the certificate file";
	if (!f)
		goto out;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(key_path, "r");
	*why = "cannot read the private key file";
	if (!f)
		goto out;
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	err = HL_EPARSE;
	*why = "the certificate file holds no PEM certificate";
	if (!x)
		goto out;
	*why = "the key file holds no PEM private key (or one with a "
	       "passphrase)";
	if (!key)
		goto out;
	*why = "the private key does not belong to the certificate";
	if (X509_check_private_key(x, key) != 1)
		goto out;
	*why = "cannot hash the certificate";
	der_len = i2d_X509(x, &der);
	if (der_len <= 0 ||
	    !EVP_Digest(der, (size_t)der_len, fp, &md_len, EVP_sha256(),
			NULL) ||
	    md_len != HL_SRV_FP_LEN) {
		err = HL_ECRYPTO;
		goto out;
	}
	err = 0;
out:
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
	return err;
}

int hl_srv_cert_prepare(const char *data_dir, const char *cert_file,
			const char *key_file, char *cert_out, char *key_out,
			size_t cap, uint8_t fp[HL_SRV_FP_LEN], const char **why)
{
	const char *w = NULL;
	int err;

	if (!cert_file != !key_file) {
		*why = "--cert and --key go together";
		return HL_EINVAL;
	}
	if (cert_file) {
		if ((size_t)snprintf(cert_out, cap, "%s", cert_file) >= cap ||
		    (size_t)snprintf(key_out, cap, "%s", key_file) >= cap) {
			*why = "a certificate or key path is too long";
			return HL_EINVAL;
		}
	} else {
		if ((size_t)snprintf(cert_out, cap, "%s/cert.pem", data_dir) >=
			    cap ||
		    (size_t)snprintf(key_out, cap, "%s/key.pem", data_dir) >=
			    cap) {
			*why = "the data folder's path is too long";
			return HL_EINVAL;
		}
		if (file_exists(cert_out) && !file_exists(key_out)) {
			*why = "the data folder has cert.pem but no key.pem; "
			       "restore the key or remove both";
			return HL_ESTATE;
		}
		if (!file_exists(cert_out)) {
			err = generate(data_dir, cert_out, key_out, &w);
			if (err) {
				*why = w;
				return err;
			}
		}
	}
	err = load(cert_out, key_out, fp, &w);
	if (err)
		*why = w;
	return err;
}

/*
 * harness.c - runner for the unit-test tables (see harness.h).
 */
#include <stdlib.h>

#include "harness.h"

static const char *current;
static int failures_in_test;

void hl_test_report(const char *file, int line, const char *what)
{
	fprintf(stderr, "  FAIL %s: %s:%d: %s\n", current ? current : "?", file,
		line, what);
	failures_in_test++;
}

static int run_one(const struct hl_test *t)
{
	long before = hl_mem_outstanding();
	int rc;

	current = t->name;
	failures_in_test = 0;
	rc = t->fn();
	if (rc != 0 || failures_in_test) {
		fprintf(stderr, "not ok %s\n", t->name);
		return 1;
	}
	if (hl_mem_outstanding() != before) {
		fprintf(stderr, "not ok %s: %ld block(s) leaked\n", t->name,
			hl_mem_outstanding() - before);
		return 1;
	}
	if (t->flags & HT_OOM) {
		/* Fail allocation n = 0, 1, 2... until a run never fails. */
		for (long n = 0; n < 100000; n++) {
			bool hit;

			hl_mem_fail_after(n);
			rc = t->fn();
			hit = hl_mem_failed();
			hl_mem_fail_after(-1);
			if (hl_mem_outstanding() != before) {
				fprintf(stderr,
					"not ok %s: leak with allocation %ld "
					"failing\n",
					t->name, n);
				return 1;
			}
			if (!hit) {
				if (rc != 0) {
					fprintf(stderr, "not ok %s (oom)\n",
						t->name);
					return 1;
				}
				break;
			}
			if (rc != 0 && rc != HT_OOM_OK) {
				fprintf(stderr,
					"not ok %s: allocation %ld failing "
					"gave a wrong result\n",
					t->name, n);
				return 1;
			}
		}
	}
	printf("ok %s\n", t->name);
	return 0;
}

int hl_test_main(const struct hl_test *tests, size_t n, int argc, char **argv)
{
	int failed = 0, ran = 0;

	if (argc > 1 && strcmp(argv[1], "-l") == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		bool selected = argc <= 1;

		for (int a = 1; a < argc; a++)
			if (strcmp(argv[a], tests[i].name) == 0)
				selected = true;
		if (!selected)
			continue;
		ran++;
		failed += run_one(&tests[i]);
	}
	if (ran == 0) {
		fprintf(stderr, "no test matched\n");
		return 2;
	}
	printf("%d/%d passed\n", ran - failed, ran);
	return failed ? 1 : 0;
}

const char *hl_test_vectors_dir(void)
{
	const char *d = getenv("HL_VECTORS");

	return d ? d : HL_TEST_VECTORS_DIR;
}

int hl_test_read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	int err = HL_EIO;

	if (!f)
		return HL_EIO;
	for (;;) {
		if (cap - n < 4097) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 65536;
			nb = hl_realloc(buf, cap);
			if (!nb) {
				err = HL_ENOMEM;
				goto out;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto out;
	buf[n] = 0;
	*out = buf;
	*len = n;
	buf = NULL;
	err = 0;
out:
	hl_free(buf);
	fclose(f);
	return err;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long hl_test_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = strlen(hex);

	if (len % 2 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

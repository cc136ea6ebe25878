/*
 * harness.h - the tiny unit-test runner every test program uses.
 *
 * A test program holds a table of named tests and calls hl_test_main().
 * Each test returns 0 on success; the HT_* macros print where a check
 * failed and return -1.  After each test the runner checks that no block
 * allocated through hl_malloc() is still live (a leak fails the test).
 * Tests flagged HT_OOM are then rerun with allocation 0, 1, 2, ... failing
 * until one run passes without hitting the failure: each of those runs
 * must end in a clean error (return HT_OOM_OK) with nothing leaked.
 *
 * Usage: prog [-l] [NAME...]  (no names: run all; -l: list names)
 */
#ifndef HOTLINE_TESTS_HARNESS_H
#define HOTLINE_TESTS_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "hotline/base.h"

enum {
	HT_RUN = 0,
	HT_OOM = 1, /* also run with every allocation failing in turn */
};

#define HT_OOM_OK 1 /* a test under allocation failure ended cleanly */

struct hl_test {
	const char *name;
	int (*fn)(void);
	int flags;
};

int hl_test_main(const struct hl_test *tests, size_t n, int argc, char **argv);
void hl_test_report(const char *file, int line, const char *what);

/* Path to tests/vectors (from $HL_VECTORS or the build's source dir). */
const char *hl_test_vectors_dir(void);
/* Read a whole file into an hl_malloc'd, NUL-terminated buffer. */
int hl_test_read_file(const char *path, uint8_t **out, size_t *len);
/* Decode hex into out (cap bytes); returns length or -1. */
long hl_test_unhex(const char *hex, uint8_t *out, size_t cap);

#define HT_ASSERT(cond)                                            \
	do {                                                       \
		if (!(cond)) {                                     \
			hl_test_report(__FILE__, __LINE__, #cond); \
			return -1;                                 \
		}                                                  \
	} while (0)

#define HT_EQ_INT(a, b)                                                    \
	do {                                                               \
		long long ht_a_ = (long long)(a), ht_b_ = (long long)(b);  \
		if (ht_a_ != ht_b_) {                                      \
			char ht_m_[256];                                   \
			snprintf(ht_m_, sizeof(ht_m_),                     \
				 "%s == %s (%lld != %lld)", #a, #b, ht_a_, \
				 ht_b_);                                   \
			hl_test_report(__FILE__, __LINE__, ht_m_);         \
			return -1;                                         \
		}                                                          \
	} while (0)

#define HT_EQ_MEM(a, b, n)                                             \
	do {                                                           \
		if (memcmp((a), (b), (n)) != 0) {                      \
			hl_test_report(__FILE__, __LINE__,             \
				       "memcmp(" #a ", " #b ") == 0"); \
			return -1;                                     \
		}                                                      \
	} while (0)

/* For OOM-run tests: an allocation failure is a clean exit, else a check. */
#define HT_OK(expr)                                                            \
	do {                                                                   \
		int ht_e_ = (expr);                                            \
		if (ht_e_ == HL_ENOMEM && hl_mem_failed())                     \
			return HT_OOM_OK;                                      \
		if (ht_e_ != 0) {                                              \
			char ht_m_[256];                                       \
			snprintf(ht_m_, sizeof(ht_m_), "%s -> %d (%s)", #expr, \
				 ht_e_, hl_strerror(ht_e_));                   \
			hl_test_report(__FILE__, __LINE__, ht_m_);             \
			return -1;                                             \
		}                                                              \
	} while (0)

#define HT_TEST(fn)             \
	{                       \
#fn, fn, HT_RUN \
	}
#define HT_TEST_OOM(fn)         \
	{                       \
#fn, fn, HT_OOM \
	}

#endif

/*
 * json.c - a small deterministic JSON writer for reports.
 *
 * Keys are written in call order, numbers with a fixed number of decimals,
 * strings escaped per RFC 8259 §7.  Errors are sticky: after the first
 * failure every call is a no-op and j->err says why.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hotline/report.h"

void hl_json_init(struct hl_json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void hl_json_free(struct hl_json *j)
{
	hl_free(j->buf);
	memset(j, 0, sizeof(*j));
}

static void put(struct hl_json *j, const char *s, size_t n)
{
	if (j->err)
		return;
	j->err = hl_text_append(&j->buf, &j->len, &j->cap, s, n);
}

static void putf(struct hl_json *j, const char *fmt, ...) HL_PRINTF(2, 3);

static void putf(struct hl_json *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		j->err = HL_EINVAL;
		return;
	}
	put(j, tmp, (size_t)n);
}

static void put_string(struct hl_json *j, const char *s)
{
	put(j, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			put(j, "\\", 1);
			put(j, s, 1);
		} else if (ch < 0x20) {
			putf(j, "\\u%04x", ch);
		} else {
			put(j, s, 1);
		}
	}
	put(j, "\"", 1);
}

/* Comma, newline, indentation and the key (inside objects). */
static void prefix(struct hl_json *j, const char *key)
{
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
	if (j->depth) {
		put(j, "\n", 1);
		for (int i = 0; i < j->depth; i++)
			put(j, "  ", 2);
	}
	if (key && j->depth) {
		put_string(j, key);
		put(j, ": ", 2);
	}
}

static void open(struct hl_json *j, const char *key, const char *br)
{
	prefix(j, key);
	put(j, br, 1);
	if (j->depth + 1 >= (int)HL_ARRAY_SIZE(j->first)) {
		j->err = HL_EINVAL;
		return;
	}
	j->first[++j->depth] = true;
}

static void close_(struct hl_json *j, const char *br)
{
	bool empty = j->first[j->depth];

	if (j->depth == 0) {
		j->err = HL_EINVAL;
		return;
	}
	j->depth--;
	if (!empty) {
		put(j, "\n", 1);
		for (int i = 0; i < j->depth; i++)
			put(j, "  ", 2);
	}
	put(j, br, 1);
	if (j->depth == 0)
		put(j, "\n", 1);
}

void hl_json_obj_begin(struct hl_json *j, const char *key)
{
	open(j, key, "{");
}

void hl_json_obj_end(struct hl_json *j)
{
	close_(j, "}");
}

void hl_json_arr_begin(struct hl_json *j, const char *key)
{
	open(j, key, "[");
}

void hl_json_arr_end(struct hl_json *j)
{
	close_(j, "]");
}

void hl_json_str(struct hl_json *j, const char *key, const char *v)
{
	prefix(j, key);
	put_string(j, v ? v : "");
}

void hl_json_u64(struct hl_json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	putf(j, "%llu", (unsigned long long)v);
}

void hl_json_i64(struct hl_json *j, const char *key, int64_t v)
{
	prefix(j, key);
	putf(j, "%lld", (long long)v);
}

void hl_json_num(struct hl_json *j, const char *key, double v, int decimals)
{
	prefix(j, key);
	if (!isfinite(v)) {
		put(j, "null", 4);
		return;
	}
	if (decimals < 0 || decimals > 9)
		decimals = 3;
	putf(j, "%.*f", decimals, v);
}

void hl_json_bool(struct hl_json *j, const char *key, bool v)
{
	prefix(j, key);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

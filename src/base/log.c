/*
 * log.c - the library's single log handler.
 *
 * The default handler writes warnings and errors to stderr, one line each.
 * Programs install their own to add timestamps or to silence the library.
 */
#include <stdarg.h>
#include <stdio.h>

#include "hotline/base.h"

static void log_stderr(void *ctx, enum hl_log_level level, const char *msg)
{
	static const char *const names[] = {"debug", "info", "warning",
					    "error"};

	(void)ctx;
	fprintf(stderr, "hotline: %s: %s\n", names[level & 3], msg);
}

static hl_log_fn *log_fn = log_stderr;
static void *log_ctx;
static enum hl_log_level log_min = HL_LOG_WARN;

void hl_log_set_handler(hl_log_fn *fn, void *ctx, enum hl_log_level min)
{
	log_fn = fn ? fn : log_stderr;
	log_ctx = ctx;
	log_min = min;
}

void hl_log(enum hl_log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fn(log_ctx, level, buf);
}

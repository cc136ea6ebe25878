/*
 * fuzz_report_html.c - libFuzzer target for the HTML call report
 * (src/report/html.c): the input is the demo report JSON.
 *
 * Invariants checked: the result is 0, HL_EPARSE or HL_ETOOBIG (or
 * HL_ENOMEM when the fuzzer's allocator refuses); on success the page is
 * one NUL-terminated document of the stated shape in which every '<'
 * opens one of the elements the renderer writes itself (so no string
 * from the JSON ever becomes markup) and every coordinate is a plain
 * number (no "nan" or "inf"); nothing allocated through hl_malloc is
 * left behind.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/report.h"

static const char *const tags[] = {
	"!DOCTYPE", "html",	"head",	  "meta", "title",  "style",  "body",
	"main",	    "h1",	"h2",	  "p",	  "span",   "div",    "table",
	"thead",    "tbody",	"tr",	  "th",	  "td",	    "figure", "svg",
	"line",	    "polyline", "circle", "text", "footer",
};

static bool known_tag(const char *p)
{
	size_t n = 0;

	if (*p == '/')
		p++;
	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
	       (p[n] >= '0' && p[n] <= '9') || p[n] == '!')
		n++;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strlen(tags[i]) == n && memcmp(tags[i], p, n) == 0)
			return true;
	return false;
}

/* Coordinates: only digits, signs, points, commas and spaces. */
static const char *const num_attrs[] = {
	" points=\"", " x=\"",	" y=\"",  " x1=\"", " y1=\"",
	" x2=\"",     " y2=\"", " cx=\"", " cy=\"",
};

static bool numeric(const char *v)
{
	size_t n = 0;

	for (; v[n] != '"'; n++)
		if (v[n] == 0 || !strchr("0123456789.-, ", v[n]))
			return false;
	return n > 0;
}

static void check_page(const char *html)
{
	size_t len = strlen(html);

	if (len < 100 || strncmp(html, "<!DOCTYPE html>\n", 16) != 0 ||
	    strcmp(html + len - 8, "</html>\n") != 0)
		abort();
	for (const char *p = html; (p = strchr(p, '<')); p++)
		if (!known_tag(p + 1))
			abort();
	for (size_t a = 0; a < sizeof(num_attrs) / sizeof(num_attrs[0]); a++)
		for (const char *p = html; (p = strstr(p, num_attrs[a])); p++)
			if (!numeric(p + strlen(num_attrs[a])))
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long mem0 = hl_mem_outstanding();
	char *html = NULL;
	int rc = hl_report_html((const char *)data, size, &html);

	if (rc == 0) {
		if (!html)
			abort();
		check_page(html);
		hl_free(html);
	} else if (rc != HL_EPARSE && rc != HL_ETOOBIG && rc != HL_ENOMEM) {
		abort();
	}
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}

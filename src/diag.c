// SPDX-License-Identifier: GPL-2.0-or-later
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void diag_init(struct diag *d, FILE *out)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
	d->max_errors = DIAG_MAX_ERRORS;
}

void diag_free(struct diag *d)
{
	size_t i;

	for (i = 0; i < d->nsrcs; i++)
		free(d->srcs[i].text);
	free(d->srcs);
	d->srcs = NULL;
	d->nsrcs = 0;
}

void diag_add_source(struct diag *d, const char *file, const char *text, size_t len)
{
	struct diag_src *s = VEC_PUSH(d->srcs, d->nsrcs);

	s->file = file;
	s->text = xstrndup(text, len);
	s->len = len;
}

static const struct diag_src *find_src(const struct diag *d, const char *file)
{
	size_t i;

	if (!file)
		return NULL;
	for (i = d->nsrcs; i-- > 0;)
		if (d->srcs[i].file == file || !strcmp(d->srcs[i].file, file))
			return &d->srcs[i];
	return NULL;
}

/*
 * Quote the source line under the message.  Control characters and bytes
 * outside printable ASCII are shown as '?' so a hostile file cannot drive
 * the user's terminal, and the caret column still lines up.
 */
static void quote_line(const struct diag *d, const struct loc *loc, unsigned int span)
{
	const struct diag_src *src = find_src(d, loc->file);
	const char *p, *end;
	unsigned int line = 1, col;
	size_t shown = 0;

	if (!src)
		return;
	p = src->text;
	end = src->text + src->len;
	while (p < end && line < loc->line) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return;
		p = nl + 1;
		line++;
	}
	if (line != loc->line || p > end)
		return;
	fprintf(d->out, "%5u | ", loc->line);
	for (; p < end && *p != '\n' && shown < 200; p++, shown++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\t')
			fputc(' ', d->out);
		else if (c == '\r' && (p + 1 == end || p[1] == '\n'))
			break;
		else
			fputc(c >= 0x20 && c < 0x7f ? c : '?', d->out);
	}
	fputs("\n      | ", d->out);
	for (col = 1; col < loc->col && col <= 200; col++)
		fputc(' ', d->out);
	fputc('^', d->out);
	for (col = 1; col < span && col < 200; col++)
		fputc('~', d->out);
	fputc('\n', d->out);
}

static void diag_vreport(struct diag *d, const char *kind, const struct loc *loc, unsigned int span,
			 const char *fmt, va_list ap)
{
	if (loc && loc->file && loc->line)
		fprintf(d->out, "%s:%u:%u: %s: ", loc->file, loc->line, loc->col, kind);
	else if (loc && loc->file)
		fprintf(d->out, "%s: %s: ", loc->file, kind);
	else
		fprintf(d->out, "jailfw: %s: ", kind);
	vfprintf(d->out, fmt, ap);
	fputc('\n', d->out);
	if (loc && loc->file && loc->line)
		quote_line(d, loc, span);
}

void diag_error(struct diag *d, const struct loc *loc, unsigned int span, const char *fmt, ...)
{
	va_list ap;

	d->errors++;
	if (d->max_errors && d->errors > d->max_errors) {
		if (d->errors == d->max_errors + 1)
			fprintf(d->out, "jailfw: too many errors, stopping here\n");
		return;
	}
	va_start(ap, fmt);
	diag_vreport(d, "error", loc, span, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, const struct loc *loc, unsigned int span, const char *fmt, ...)
{
	va_list ap;

	d->warnings++;
	if (d->max_errors && d->errors > d->max_errors)
		return;
	va_start(ap, fmt);
	diag_vreport(d, "warning", loc, span, fmt, ap);
	va_end(ap);
}

void diag_note(struct diag *d, const struct loc *loc, unsigned int span, const char *fmt, ...)
{
	va_list ap;

	if (d->max_errors && d->errors > d->max_errors)
		return;
	va_start(ap, fmt);
	diag_vreport(d, "note", loc, span, fmt, ap);
	va_end(ap);
}

const char *diag_suggest(const char *word, const char *const *cands, size_t n)
{
	unsigned int best = 3, limit;
	const char *hit = NULL;
	size_t i;

	/* Short words get less slack, or "ab" would suggest anything. */
	limit = strlen(word) <= 3 ? 1 : 2;
	for (i = 0; i < n; i++) {
		unsigned int dist = edit_distance(word, cands[i], limit);

		if (dist <= limit && dist < best) {
			best = dist;
			hit = cands[i];
		}
	}
	return hit;
}

void diag_verbose(bool on, const char *fmt, ...)
{
	va_list ap;

	if (!on)
		return;
	fputs("jailfw: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void diag_lap(bool on, struct timespec *since, const char *step)
{
	struct timespec now;

	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (step)
		fprintf(stderr, "jailfw: time: %s %.1f ms\n", step,
			(double)(now.tv_sec - since->tv_sec) * 1e3 +
			    (double)(now.tv_nsec - since->tv_nsec) / 1e6);
	*since = now;
}

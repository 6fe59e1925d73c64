/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A struct diag whose output goes to memory, for tests that check the
 * exact messages a call reports:
 *
 *	struct cap c;
 *	cap_init(&c);  f(..., &c.d);  T_CHECK(strstr(cap_text(&c), "..."), ...);
 *	cap_free(&c);
 */
#ifndef JAILFW_TEST_CAPTURE_H
#define JAILFW_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "diag.h"

struct cap {
	struct diag d;
	char *text;
	size_t len;
	FILE *f;
};

static inline void cap_init(struct cap *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	diag_init(&c->d, c->f);
}

static inline const char *cap_text(struct cap *c)
{
	fflush(c->f);
	return c->text ? c->text : "";
}

static inline void cap_free(struct cap *c)
{
	diag_free(&c->d);
	fclose(c->f);
	free(c->text);
}

#endif

/*
 * corr.c - the correlation store (see corr.h).
 *
 * A linear table: CORR_CAP entries are scanned per response, which at
 * a few thousand entries costs microseconds, far below one signature
 * check, and keeps the memory bound obvious.
 */
#include <stdio.h>
#include <string.h>

#include "corr.h"

void
corr_init(struct corr_store *s)
{
	memset(s, 0, sizeof(*s));
}

void
corr_cut_utf8(char *out, size_t max, const char *s)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		/* back off continuation bytes, then the lead byte they follow */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

int
corr_valid_session(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("._:-", c) != NULL))
			return 0;
	}
	return n > 0 && n <= CORR_SESSION_MAX;
}

struct corr_entry *
corr_find(struct corr_store *s, const char *corr, const char *from)
{
	size_t i;

	for (i = 0; i < CORR_CAP; i++)
		if (s->e[i].used && strcmp(s->e[i].corr, corr) == 0 &&
		    strcmp(s->e[i].from, from) == 0)
			return &s->e[i];
	return NULL;
}

static struct corr_entry *
corr_free_slot(struct corr_store *s)
{
	size_t i;

	for (i = 0; i < CORR_CAP; i++)
		if (!s->e[i].used)
			return &s->e[i];
	return NULL;
}

struct corr_entry *
corr_track(struct corr_store *s, const struct envelope *cmd, int64_t ttl,
    int64_t now)
{
	const char *key = cmd->corr != NULL ? cmd->corr : cmd->id;
	struct corr_entry *e;

	if ((e = corr_find(s, key, cmd->from)) == NULL) {
		if ((e = corr_free_slot(s)) == NULL)
			return NULL;
		memset(e, 0, sizeof(*e));
		e->used = 1;
		snprintf(e->corr, sizeof(e->corr), "%s", key);
		snprintf(e->from, sizeof(e->from), "%s", cmd->from);
	}
	snprintf(e->kid, sizeof(e->kid), "%s", cmd->kid != NULL ? cmd->kid :
	    "");
	snprintf(e->id, sizeof(e->id), "%s", cmd->id);
	snprintf(e->to, sizeof(e->to), "%s", cmd->to);
	e->ch = cmd->ch;
	corr_cut_utf8(e->text, CORR_TEXT_MAX, cmd->text);
	e->sent_at = cmd->ts;
	e->expires = now + ttl;
	return e;
}

struct corr_entry *
corr_match(struct corr_store *s, const struct envelope *resp, int64_t now)
{
	struct corr_entry *e;

	if (resp->corr == NULL || (e = corr_find(s, resp->corr, resp->to))
	    == NULL || now > e->expires)
		return NULL;
	if (strcmp(e->to, "all") != 0 && strcmp(e->to, resp->from) != 0)
		return NULL;
	return e;
}

void
corr_drop(struct corr_entry *e)
{
	memset(e, 0, sizeof(*e));
}

void
corr_expire(struct corr_store *s, int64_t now,
    void (*fn)(struct corr_entry *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < CORR_CAP; i++) {
		if (!s->e[i].used || now <= s->e[i].expires)
			continue;
		if (fn != NULL)
			fn(&s->e[i], arg);
		corr_drop(&s->e[i]);
	}
}

size_t
corr_count(const struct corr_store *s)
{
	size_t i, n = 0;

	for (i = 0; i < CORR_CAP; i++)
		n += s->e[i].used != 0;
	return n;
}

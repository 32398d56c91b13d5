/*
 * metaview.c - the table behind metaview.h.  A linear scan over a few
 * thousand slots per retained message is cheap next to the signature
 * check that came before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corr.h"
#include "log.h"
#include "metaview.h"

void
metaview_init(struct metaview *v)
{
	memset(v, 0, sizeof(*v));
}

static void
metaview_clear(struct meta_doc *d)
{
	free(d->text);
	memset(d, 0, sizeof(*d));
}

void
metaview_free(struct metaview *v)
{
	size_t i;

	for (i = 0; i < METAVIEW_CAP; i++)
		metaview_clear(&v->d[i]);
	v->n = 0;
}

static struct meta_doc *
metaview_slot(struct metaview *v, const char *key, int create)
{
	struct meta_doc *free_slot = NULL;
	size_t i;

	for (i = 0; i < METAVIEW_CAP; i++) {
		if (v->d[i].used && strcmp(v->d[i].key, key) == 0)
			return &v->d[i];
		if (!v->d[i].used && free_slot == NULL)
			free_slot = &v->d[i];
	}
	return create ? free_slot : NULL;
}

/* Documents signed by from, other than the one at key. */
static size_t
metaview_held(const struct metaview *v, const char *from, const char *key)
{
	size_t i, n = 0;

	for (i = 0; i < METAVIEW_CAP; i++)
		n += v->d[i].used && strcmp(v->d[i].from, from) == 0 &&
		    strcmp(v->d[i].key, key) != 0;
	return n;
}

/* Where the document goes, within the signer's share; NULL: no room. */
static struct meta_doc *
metaview_place(struct metaview *v, const char *key, const char *from,
    int local, int *err)
{
	struct meta_doc *d = metaview_slot(v, key, 1);

	*err = METAVIEW_FULL;
	if (d == NULL || local)
		return d;
	if (metaview_held(v, from, key) >= METAVIEW_SHARE) {
		*err = METAVIEW_OVER_SHARE;
		return NULL;
	}
	if (!d->used && v->n >= METAVIEW_CAP - METAVIEW_RESERVED)
		return NULL;
	return d;
}

int
metaview_put(struct metaview *v, const char *key, const char *kind,
    const struct envelope *e, int local)
{
	struct meta_doc *d;
	size_t n;
	int err;

	if (strlen(key) > METAVIEW_KEY_MAX || strlen(kind) > ENVELOPE_ID_MAX)
		fatalx("metaview_put: key or kind beyond the checked sizes");
	if ((d = metaview_place(v, key, e->from, local, &err)) == NULL) {
		if (err == METAVIEW_FULL)
			v->dropped++;
		return err;
	}
	if (d->used)
		metaview_clear(d);
	else
		v->n++;
	d->used = 1;
	snprintf(d->key, sizeof(d->key), "%s", key);
	snprintf(d->kind, sizeof(d->kind), "%s", kind);
	snprintf(d->from, sizeof(d->from), "%s", e->from);
	snprintf(d->kid, sizeof(d->kid), "%s", e->kid);
	d->ts = e->ts;
	d->truncated = e->text_len > METAVIEW_TEXT_MAX;
	n = d->truncated ? METAVIEW_TEXT_MAX : e->text_len;
	if ((d->text = malloc(n + 1)) == NULL)
		fatal("metaview_put");
	corr_cut_utf8(d->text, n, e->text);
	return 0;
}

void
metaview_remove(struct metaview *v, const char *key)
{
	struct meta_doc *d = metaview_slot(v, key, 0);

	if (d != NULL) {
		metaview_clear(d);
		v->n--;
	}
}

const struct meta_doc *
metaview_get(const struct metaview *v, const char *key)
{
	return metaview_slot((struct metaview *)v, key, 0);
}

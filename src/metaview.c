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

int
metaview_put(struct metaview *v, const char *key, const char *kind,
    const struct envelope *e)
{
	struct meta_doc *d;
	size_t n;

	if (strlen(key) > METAVIEW_KEY_MAX || strlen(kind) > ENVELOPE_ID_MAX)
		fatalx("metaview_put: key or kind beyond the checked sizes");
	if ((d = metaview_slot(v, key, 1)) == NULL) {
		v->dropped++;
		return -1;
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

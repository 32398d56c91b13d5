/*
 * router_audit.c - the router's audit lines and everything else it
 * sends the monitor, on one ordered link.
 *
 * A flood is thousands of messages a second, each with an audit line.
 * One IPC datagram per line cost the router a sendmsg and the monitor
 * a wake-up and a write per message, so lines are batched: up to
 * AUDIT_BATCH_LINES lines or AUDIT_BATCH_BYTES in one IMSG_AUDIT,
 * which the monitor appends with one write.  The batch goes out
 *
 *   - before any other message to the monitor (router_to_monitor):
 *     the monitor sees audit lines and requests in the order the
 *     router made them, and a handler run or a signature is never
 *     asked for before the line that records why;
 *   - before an injection goes to an injector (router_inject.c);
 *   - when it is full, and at the end of every turn of the poll loop;
 *   - at exit, fatal() included (an atexit handler).
 *
 * What a crash (SIGKILL, a fault) can still lose is the lines of the
 * loop turn it interrupts, at most AUDIT_BATCH_LINES of them, none of
 * which had an effect outside the router yet: their messages were
 * acknowledged to the broker before we saw them (the documented
 * gap of docs/architecture.md, "The injection journal") and admitted
 * to the replay window, so a replay of one is still refused.  Before
 * batching, the same crash lost at most the one line being built.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "router.h"

static struct {
	struct ipc_writer	 w;	/* u32 n, then n ipc_put_str lines */
	uint32_t		 n;
	int			 hooked;	/* atexit registered */
} batch;

/*
 * Send the lines gathered so far.  At exit (fatal included) a failure
 * to send is only said: exiting twice is undefined.
 */
static void
router_audit_send(int at_exit)
{
	uint32_t n = batch.n;
	size_t len = batch.w.len;

	if (n == 0)
		return;
	memcpy(batch.w.p, &n, sizeof(n));
	/* emptied first: a fatal() below runs the atexit send again */
	batch.n = 0;
	batch.w.len = 0;	/* the buffer is kept for the next batch */
	if (ipc_send(DAEMON_FD_MONITOR, IMSG_AUDIT, 0, batch.w.p, len) == -1) {
		if (!at_exit)
			fatal("ipc to monitor");
		log_warn("%u audit line(s) lost at exit", n);
	}
}

static void
router_audit_atexit(void)
{
	router_audit_send(1);
}

void
router_audit_flush(void)
{
	router_audit_send(0);
}

/* Anything for the monitor: the audit lines before it go first. */
void
router_to_monitor(uint32_t type, uint32_t peer, const void *p, size_t len)
{
	router_audit_flush();
	if (ipc_send(DAEMON_FD_MONITOR, type, peer, p, len) == -1)
		fatal("ipc to monitor");
}

static void
router_audit_add(const char *line)
{
	size_t len = strlen(line);

	if (!batch.hooked) {
		if (atexit(router_audit_atexit) != 0)
			fatalx("atexit");
		batch.hooked = 1;
	}
	/* per line: u32 length, the bytes and a NUL */
	if (batch.n > 0 && batch.w.len + 4 + len + 1 > AUDIT_BATCH_BYTES)
		router_audit_flush();
	if (batch.n == 0)
		ipc_put_u32(&batch.w, 0);	/* the count, set when sent */
	ipc_put_str(&batch.w, line);
	if (++batch.n == AUDIT_BATCH_LINES)
		router_audit_flush();
}

/* ,"key":"value" (no comma first) */
static void
router_audit_field(struct buf *b, const char *key, const char *v, size_t n)
{
	if (b->len > 1)
		buf_addc(b, ',');
	buf_addc(b, '"');
	buf_adds(b, key);
	buf_adds(b, "\":");
	audit_put_str(b, v, n);
}

/* the field if v is neither NULL nor empty */
static void
router_audit_opt(struct buf *b, const char *key, const char *v)
{
	if (v != NULL && *v != '\0')
		router_audit_field(b, key, v, strlen(v));
}

/* The verified envelope fields of a line; NULL or "" for none. */
struct router_audit_env {
	const char	*action, *ch, *corr, *from, *id, *kid, *to;
};

/*
 * One line for the monitor to append to the audit log: a JSON object
 * in printable ASCII (audit_put_str escapes the rest), never the
 * message text, never key material (docs/security.md).  The keys in
 * sorted order, as jansson's JSON_SORT_KEYS wrote them before: ts, a
 * number, sorts last.
 */
static void
router_audit_line(const char *event, const struct router_audit_env *v,
    const char *reason, const char *detail)
{
	struct buf b;
	char ts[32];

	buf_init(&b, AUDIT_LINE_MAX);
	buf_addc(&b, '{');
	router_audit_opt(&b, "action", v->action);
	router_audit_opt(&b, "ch", v->ch);
	router_audit_opt(&b, "corr", v->corr);
	if (detail != NULL)	/* our own words; cut, as topics can be long */
		router_audit_field(&b, "detail", detail, strnlen(detail, 256));
	router_audit_opt(&b, "event", event);
	router_audit_opt(&b, "from", v->from);
	router_audit_opt(&b, "id", v->id);
	router_audit_opt(&b, "kid", v->kid);
	router_audit_opt(&b, "reason", reason);
	router_audit_opt(&b, "to", v->to);
	snprintf(ts, sizeof(ts), ",\"ts\":%lld}", (long long)time(NULL));
	buf_adds(&b, ts);
	/* every field is bounded (ids, names, a detail of 256 bytes at
	 * 6 bytes an escape): far below AUDIT_LINE_MAX */
	if (buf_cstr(&b) == NULL)
		fatalx("router_audit: a line over %d bytes", AUDIT_LINE_MAX);
	router_audit_add(b.p);
	buf_free(&b);
}

/* A line about e, a verified envelope (or NULL: about none). */
void
router_audit(struct router *r, const char *event, const struct envelope *e,
    const char *reason, const char *detail)
{
	struct router_audit_env v = { NULL };

	if (e != NULL)
		v = (struct router_audit_env){ e->action,
		    envelope_ch_name(e->ch), e->corr, e->from, e->id, e->kid,
		    e->to };
	router_audit_line(event, &v, reason, detail);
}

/*
 * A refusal's line: with the envelope's fields when the refusal was
 * decided after its signature verified (why->signer), so the auditor
 * can tell which peer was refused; without any before, where from, id
 * and kid would be the publisher's unverified words.
 */
void
router_audit_refusal(struct router *r, const struct refusal *why,
    const char *detail)
{
	const struct refusal_signer *s = &why->signer;
	struct router_audit_env v = { NULL };

	if (s->verified)
		v = (struct router_audit_env){ s->action, s->ch, s->corr,
		    s->from, s->id, s->kid, s->to };
	router_audit_line("refused", &v, refusal_name(why->reason), detail);
}

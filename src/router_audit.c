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

/*
 * One line for the monitor to append to the audit log: a JSON object
 * in printable ASCII (JSON_ENSURE_ASCII escapes the rest), never the
 * message text, never key material (docs/security.md).
 */
void
router_audit(struct router *r, const char *event, const struct envelope *e,
    const char *reason, const char *detail)
{
	json_t *o = json_pack("{sIss}", "ts", (json_int_t)time(NULL), "event",
	    event);
	char *s;

	if (o == NULL)
		fatalx("router_audit");
	if (e != NULL) {
		json_object_set_new(o, "from", json_string(e->from));
		json_object_set_new(o, "to", json_string(e->to));
		json_object_set_new(o, "id", json_string(e->id));
		json_object_set_new(o, "ch", json_string(envelope_ch_name(e->ch)));
		if (e->kid != NULL)
			json_object_set_new(o, "kid", json_string(e->kid));
		if (e->action != NULL)
			json_object_set_new(o, "action", json_string(e->action));
		if (e->corr != NULL)
			json_object_set_new(o, "corr", json_string(e->corr));
	}
	if (reason != NULL)
		json_object_set_new(o, "reason", json_string(reason));
	if (detail != NULL)	/* our own words; cut, as topics can be long */
		json_object_set_new(o, "detail", json_stringn(detail,
		    strnlen(detail, 256)));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(o);
	if (s == NULL)
		return;		/* a cut inside a UTF-8 sequence: nothing to say */
	router_audit_add(s);
	free(s);
}

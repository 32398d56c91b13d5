/*
 * cli_send.c - "send" and "reply": build, sign, self-verify, publish;
 * "send --wait": subscribe first, then wait for the verified response.
 *
 * Every reply that --wait receives goes through the same checks a
 * daemon applies (parse, schema, topic agreement, key binding,
 * signature, freshness, replay window) before it is even compared
 * with what we wait for.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "compose.h"
#include "envelope.h"
#include "inbound.h"
#include "log.h"
#include "mqtt.h"
#include "window.h"

#define SEND_TIMEOUT_MS		10000
#define WAIT_WINDOW_CAP		4096
#define SEND_DEFAULT_TTL	3600

struct send_req {
	const char	*to, *ch, *text, *urgency, *action, *args, *corr;
	const char	*reply_to;	/* reply only */
	const char	*from, *session;	/* through the daemon only */
	long long	 ttl, wait, replies;
	int		 force;		/* even to a node nobody knows */
};

enum { OPT_TO = OPT__FIRST_VERB_OPT, OPT_CH, OPT_TEXT, OPT_URGENCY,
	OPT_TTL, OPT_ACTION, OPT_ARGS, OPT_CORR, OPT_WAIT, OPT_TOMSG,
	OPT_NOVERIFY, OPT_FROM, OPT_SESSION, OPT_REPLIES, OPT_FORCE };

static void
send_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli send --to NODE --ch CH --text TEXT "
	    "[--urgency now|later]\n"
	    "         [--ttl S] [--action NAME] [--args JSON] [--corr ID] "
	    "[--wait SECONDS]\n"
	    "         [--replies K] [--session KEY] [--from NODE] [--force]\n"
	    "         [--sign-key FILE | --socket PATH] [broker options]\n"
	    "Publishes a signed envelope to PREFIX/NODE/CH and prints it.  "
	    "Signed by the\nlocal hive-daemon (its control socket) unless "
	    "--sign-key is given.\n"
	    "With --wait: prints the first verified response to us from the\n"
	    "addressed node (any node for --to all) whose corr or replyTo is "
	    "the sent id;\nwith --replies K, up to K responses, each as it "
	    "arrives.\n"
	    "--session KEY (daemon only): a response that arrives when nobody "
	    "waits is\ninjected into that OpenClaw session; the key never "
	    "leaves this box.\n"
	    "--from NODE (daemon only): which of the daemon's nodes signs.\n"
	    "NODE must be all, or have a key in the keyring (--keys) or, "
	    "through the\ndaemon, a roster; anything else is refused (exit 2) "
	    "with the known nodes\nnamed.  --force sends to NODE anyway.\n"
	    "exit: 0 ok, 1 no reply in time, 2 usage or I/O, 3 broker or "
	    "daemon unreachable,\n      4 replies arrived but all were "
	    "refused, 5 a reply's outcome says the remote\n      work "
	    "failed (error, timeout, refused, no-handler, ...)\n");
	cli_common_usage(f);
}

static void
reply_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli reply --to-msg JSON|FILE|- --text TEXT "
	    "[--urgency now|later]\n"
	    "         [--ttl S] [--no-verify] [--sign-key FILE | --socket PATH]\n"
	    "         [broker options]\n"
	    "Sends a response: to = original from, corr = original corr or "
	    "id,\nreplyTo = original id.  The original's signature is checked "
	    "against\nthe keyring first unless --no-verify.\n"
	    "exit: 0 sent, 1 original refused, 2 usage or I/O, 3 broker error\n");
	cli_common_usage(f);
}

struct waiter {
	struct inbound		 in;
	const struct envelope	*sent;
	size_t			 refused;
	size_t			 failed;	/* replies with a failed outcome */
	long long		 replies, got;	/* want, have */
};

/*
 * Is this verified envelope the reply we wait for?  Its corr is the
 * sent id (the seed's rule).  When the caller chose its own --corr,
 * create_reply keeps that corr, so the reply is then recognised by
 * replyTo, which create_reply always sets to the sent id.
 */
static int
wait_matches(const struct waiter *w, const struct envelope *e)
{
	const struct envelope *s = w->sent;
	int corr_ok = e->corr != NULL && strcmp(e->corr, s->id) == 0;
	int reply_ok = e->reply_to != NULL && strcmp(e->reply_to, s->id) == 0;

	return e->ch == CH_RESPONSE && strcmp(e->to, s->from) == 0 &&
	    (corr_ok || reply_ok) &&
	    (strcmp(s->to, "all") == 0 || strcmp(e->from, s->to) == 0);
}

/* 1 matched and printed, 0 ignored or refused */
static int
wait_one(struct waiter *w, const struct mqtt_msg *m)
{
	struct refusal why = { 0 };
	struct envelope e;
	struct buf out;

	if (inbound_accept(&w->in, m->topic, m->payload, m->len,
	    (int64_t)time(NULL), &e, &why) == -1) {
		w->refused++;
		/* the topic is our own subscription, the detail never
		 * quotes message text: nothing here is attacker-chosen */
		log_warnx("refused reason=%s detail=\"%s\"",
		    refusal_name(why.reason), why.detail);
		return 0;
	}
	if (!wait_matches(w, &e)) {
		log_debug("ignored from=%s id=%s: not the awaited reply",
		    e.from, e.id);
		envelope_free(&e);
		return 0;
	}
	buf_init(&out, 2 * ENVELOPE_MAX_WIRE);
	if (envelope_canonical(e.root, &out) == -1)
		fatalx("canonical form of a verified envelope");
	printf("%.*s\n", (int)out.len, out.p);
	fflush(stdout);
	buf_free(&out);
	if (envelope_failed(&e)) {
		w->failed++;
		warnx("%s answered: outcome %s", e.from, e.outcome);
	}
	envelope_free(&e);
	return 1;
}

/* What the replies we printed say: 0, or 5 if one reports a failure. */
static int
wait_result(const struct waiter *w)
{
	return w->failed > 0 ? EXIT_REMOTE : EXIT_VALID;
}

static int
wait_loop(struct waiter *w, struct mqtt *m, long long seconds)
{
	long long deadline = mqtt_now_ms() + seconds * 1000, left;
	struct mqtt_msg msg;
	int r;

	while ((left = deadline - mqtt_now_ms()) > 0) {
		r = mqtt_next(m, (int)(left > 1000 ? 1000 : left), &msg);
		if (r == -1) {
			warnx("broker: %s", mqtt_error(m));
			return EXIT_BROKER;
		}
		if (r == 0)
			continue;
		r = wait_one(w, &msg);
		mqtt_msg_free(&msg);
		if (r == 1 && ++w->got >= w->replies)
			return wait_result(w);
	}
	if (w->got > 0) {
		warnx("%lld of %lld replies within %llds", w->got, w->replies,
		    seconds);
		return wait_result(w);
	}
	if (w->refused > 0) {
		warnx("no valid reply within %llds; %zu refused", seconds,
		    w->refused);
		return EXIT_BAD_REPLY;
	}
	warnx("no reply within %llds", seconds);
	return EXIT_TIMEOUT;
}

static int
send_wire(struct cli_ctx *ctx, const struct envelope *sent,
    const struct buf *wire, long long wait, long long replies)
{
	struct waiter w;
	struct mqtt *m;
	char topic[512], id[64], err[512];
	int rc = EXIT_VALID, local;

	struct keyring kr;

	memset(&w, 0, sizeof(w));
	memset(&kr, 0, sizeof(kr));
	if (wait > 0 && keyring_load(ctx->cfg.keys_dir, &kr, err,
	    sizeof(err)) == -1) {
		warnx("--wait needs the trusted keyring: %s", err);
		return EXIT_USAGE;
	}
	snprintf(id, sizeof(id), "hive-cli-%08x", randombytes_random());
	m = mqtt_connect(&ctx->cfg, id, 1, ENVELOPE_MAX_WIRE, SEND_TIMEOUT_MS,
	    &local, err, sizeof(err));
	if (m == NULL) {
		warnx("%s: %s", local ? "local" : "broker", err);
		keyring_free(&kr);
		return local ? EXIT_USAGE : EXIT_BROKER;
	}
	inbound_topic(topic, sizeof(topic), ctx->cfg.prefix, sent->from,
	    CH_RESPONSE);
	if (wait > 0 && mqtt_subscribe(m, topic, 1, SEND_TIMEOUT_MS) == -1)
		rc = EXIT_BROKER;
	inbound_topic(topic, sizeof(topic), ctx->cfg.prefix, sent->to,
	    sent->ch);
	if (rc == EXIT_VALID &&
	    mqtt_publish(m, topic, wire->p, wire->len, 1, 0, SEND_TIMEOUT_MS))
		rc = EXIT_BROKER;
	if (rc == EXIT_BROKER)
		warnx("broker: %s", mqtt_error(m));
	else if (wait == 0)
		printf("%.*s\n", (int)wire->len, wire->p);
	else {
		/* the agent may need what it sent: stderr, stdout is the reply */
		fprintf(stderr, "sent: %.*s\n", (int)wire->len, wire->p);
		w.in.prefix = ctx->cfg.prefix;
		w.in.limits = &ctx->cfg.limits;
		w.in.keyring = &kr;
		w.in.window = window_new(WAIT_WINDOW_CAP);
		w.sent = sent;
		w.replies = replies > 0 ? replies : 1;
		rc = wait_loop(&w, m, wait);
		window_free(w.in.window);
	}
	mqtt_close(m);
	keyring_free(&kr);
	return rc;
}

static void
send_field(json_t *o, const char *k, const char *v)
{
	if (v != NULL && json_object_set_new(o, k, json_string(v)) == -1)
		errx(EXIT_USAGE, "--%s: not valid UTF-8", k);
}

/* No key of ours: the daemon signs (docs/cli.md, "Through the daemon"). */
static int
send_via_daemon(struct cli_ctx *ctx, const struct send_req *r, json_t *args)
{
	json_t *o = json_pack("{sssI}", "op", "send", "ttl",
	    (json_int_t)r->ttl);

	send_field(o, "to", r->to);
	send_field(o, "ch", r->ch);
	send_field(o, "text", r->text);
	send_field(o, "urgency", r->urgency);
	send_field(o, "action", r->action);
	send_field(o, "corr", r->corr);
	send_field(o, "reply_to", r->reply_to);
	send_field(o, "from", r->from);
	send_field(o, "session", r->session);
	if (r->force)
		json_object_set_new(o, "force", json_true());
	if (args != NULL)
		json_object_set(o, "args", args);
	if (r->wait > 0)
		json_object_set_new(o, "wait", json_integer(r->wait));
	if (r->replies > 0)
		json_object_set_new(o, "replies", json_integer(r->replies));
	return cli_daemon_send(ctx, o, r->wait);
}

/*
 * Signing ourselves, --to must name a node of our keyring (or all):
 * a mistyped name would be published where nobody listens.  The
 * daemon makes the same check, with the rosters it has seen too
 * (router_control.c).  0 known; -1 refused, message printed.
 */
static int
send_known(struct cli_ctx *ctx, const char *to)
{
	struct keyring kr;
	char err[512], known[480] = "";
	int rc = 0;

	if (strcmp(to, "all") == 0)
		return 0;
	if (keyring_load(ctx->cfg.keys_dir, &kr, err, sizeof(err)) == -1) {
		warnx("cannot check --to %s against the keyring: %s (give "
		    "--keys DIR, or --force)", to, err);
		return -1;
	}
	if (!keyring_has_node(&kr, to)) {
		keyring_list_nodes(&kr, known, sizeof(known));
		warnx("no node %s in the keyring %s (known: %s); --force "
		    "sends anyway", to, ctx->cfg.keys_dir,
		    known[0] ? known : "none");
		rc = -1;
	}
	keyring_free(&kr);
	return rc;
}

static int
send_req_run(struct cli_ctx *ctx, struct send_req *r)
{
	struct compose_req req;
	struct seckey sk;
	struct envelope sent;
	struct buf wire;
	json_error_t jerr;
	char err[1024];
	int rc = EXIT_USAGE;

	if (cli_apply(ctx) == -1)
		return EXIT_USAGE;
	if (r->ttl == 0)	/* default: an hour, or max_ttl if smaller */
		r->ttl = ctx->cfg.limits.max_ttl < SEND_DEFAULT_TTL ?
		    ctx->cfg.limits.max_ttl : SEND_DEFAULT_TTL;
	if (r->ttl > ctx->cfg.limits.max_ttl) {
		warnx("--ttl %lld exceeds max_ttl %lld", r->ttl,
		    (long long)ctx->cfg.limits.max_ttl);
		return EXIT_USAGE;
	}
	memset(&req, 0, sizeof(req));
	req.to = r->to, req.ch = r->ch, req.text = r->text;
	req.urgency = r->urgency, req.action = r->action, req.corr = r->corr;
	req.reply_to = r->reply_to, req.ttl = r->ttl;
	if (r->args != NULL && (req.args = json_loads(r->args,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		warnx("--args: not valid JSON: %s", jerr.text);
		return EXIT_USAGE;
	}
	if (ctx->cfg.sign_key[0] == '\0') {
		rc = send_via_daemon(ctx, r, req.args);
	} else if (r->session != NULL || r->from != NULL) {
		warnx("--session and --from need the daemon, not --sign-key");
	} else if (seckey_load(ctx->cfg.sign_key, &sk, err, sizeof(err)) == -1)
		warnx("%s", err);
	else if (!r->force && send_known(ctx, r->to) == -1)
		seckey_free(&sk);	/* refused, message printed */
	else {
		buf_init(&wire, ENVELOPE_MAX_WIRE);
		if (compose_envelope(&req, &sk, &ctx->cfg.limits, &wire, &sent,
		    err, sizeof(err)) == -1)
			warnx("%s", err);
		else
			rc = 0;
		seckey_free(&sk);	/* wiped before touching the network */
		if (rc == 0)
			rc = send_wire(ctx, &sent, &wire, r->wait, r->replies);
		envelope_free(&sent);
		buf_free(&wire);
	}
	json_decref(req.args);
	return rc;
}

static int
send_num(const char *arg, long long lo, long long hi, long long *out,
    const char *what)
{
	char *end;

	*out = strtoll(arg, &end, 10);
	if (end == arg || *end || *out < lo || *out > hi) {
		warnx("%s: expected an integer in %lld..%lld", what, lo, hi);
		return -1;
	}
	return 0;
}

/* Options shared by send and reply; 1 handled, 0 not, -1 bad. */
static int
send_opt(struct cli_ctx *ctx, struct send_req *r, int c, const char *arg)
{
	switch (c) {
	case OPT_TO: r->to = arg; return 1;
	case OPT_CH: r->ch = arg; return 1;
	case OPT_TEXT: r->text = arg; return 1;
	case OPT_URGENCY: r->urgency = arg; return 1;
	case OPT_ACTION: r->action = arg; return 1;
	case OPT_ARGS: r->args = arg; return 1;
	case OPT_CORR: r->corr = arg; return 1;
	case OPT_TTL:
		/* checked against max_ttl once the config is applied */
		return send_num(arg, 1, ENVELOPE_SAFE_INT, &r->ttl,
		    "--ttl") ? -1 : 1;
	case OPT_WAIT:
		return send_num(arg, 1, 86400, &r->wait, "--wait") ? -1 : 1;
	case OPT_REPLIES:
		return send_num(arg, 1, 1000, &r->replies, "--replies") ? -1 : 1;
	case OPT_FROM: r->from = arg; return 1;
	case OPT_SESSION: r->session = arg; return 1;
	case OPT_FORCE: r->force = 1; return 1;
	}
	return cli_common_opt(ctx, c, arg);
}

#define SEND_LONG							\
	CLI_COMMON_LONG,						\
	{ "to", required_argument, NULL, OPT_TO },			\
	{ "ch", required_argument, NULL, OPT_CH },			\
	{ "text", required_argument, NULL, OPT_TEXT },			\
	{ "urgency", required_argument, NULL, OPT_URGENCY },		\
	{ "ttl", required_argument, NULL, OPT_TTL }

int
cmd_send(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		SEND_LONG,
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "args", required_argument, NULL, OPT_ARGS },
		{ "corr", required_argument, NULL, OPT_CORR },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "replies", required_argument, NULL, OPT_REPLIES },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 }
	};
	struct send_req r = { .urgency = "now" };
	int c;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			send_usage(stdout);
			return 0;
		}
		if (send_opt(ctx, &r, c, optarg) != 1) {
			send_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (r.to == NULL || r.ch == NULL || r.text == NULL || optind != argc) {
		warnx("send needs --to, --ch and --text");
		send_usage(stderr);
		return EXIT_USAGE;
	}
	if (r.replies > 0 && r.wait == 0) {
		warnx("--replies needs --wait");
		return EXIT_USAGE;
	}
	return send_req_run(ctx, &r);
}

/*
 * The original: JSON text if it starts with '{', else a file or "-".
 * Its signature is checked against the keyring (not its age: answering
 * late is legitimate), so a forged "original" cannot steer where our
 * signed reply goes.  Returns an exit code.
 */
static int
reply_original(const char *arg, struct cli_ctx *ctx, int verify,
    struct envelope *orig)
{
	struct refusal why = { 0 };
	struct keyring kr;
	char *buf = NULL, err[1024];
	size_t len;
	int rc;

	if (arg[strspn(arg, " \t\r\n")] == '{')
		len = strlen(arg);
	else if ((buf = cli_read_input(arg, ENVELOPE_MAX_WIRE, &len)) == NULL)
		return EXIT_USAGE;
	rc = envelope_parse(buf ? buf : arg, len, &ctx->cfg.limits, 0, orig,
	    &why);
	free(buf);
	if (rc == 0 && verify) {
		if (keyring_load(ctx->cfg.keys_dir, &kr, err, sizeof(err))) {
			warnx("%s (or use --no-verify)", err);
			envelope_free(orig);
			return EXIT_USAGE;
		}
		rc = envelope_verify_sig(orig, &kr, &why);
		keyring_free(&kr);
	}
	if (rc == 0)
		return EXIT_VALID;
	warnx("--to-msg: refused reason=%s detail=\"%s\"",
	    refusal_name(why.reason), why.detail);
	envelope_free(orig);
	return EXIT_REFUSED;
}

int
cmd_reply(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		SEND_LONG,
		{ "to-msg", required_argument, NULL, OPT_TOMSG },
		{ "no-verify", no_argument, NULL, OPT_NOVERIFY },
		{ NULL, 0, NULL, 0 }
	};
	struct send_req r = { .urgency = "now", .ch = "response" };
	struct compose_req req;
	struct envelope orig;
	const char *tomsg = NULL;
	int c, rc, verify = 1;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			reply_usage(stdout);
			return 0;
		}
		if (c == OPT_TOMSG)
			tomsg = optarg;
		else if (c == OPT_NOVERIFY)
			verify = 0;
		else if (c == OPT_TO || c == OPT_CH ||
		    send_opt(ctx, &r, c, optarg) != 1) {
			reply_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (tomsg == NULL || r.text == NULL || optind != argc) {
		warnx("reply needs --to-msg and --text");
		reply_usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_apply(ctx) == -1)
		return EXIT_USAGE;
	if ((rc = reply_original(tomsg, ctx, verify, &orig)) != EXIT_VALID)
		return rc;
	compose_reply(&orig, r.text, &req);	/* create_reply semantics */
	r.to = req.to;
	r.corr = req.corr;
	r.reply_to = req.reply_to;
	r.force = 1;	/* to is who wrote to us, not a name typed by hand */
	/* through the daemon: the node the original was addressed to */
	if (ctx->cfg.sign_key[0] == '\0' && strcmp(orig.to, "all") != 0)
		r.from = orig.to;
	rc = send_req_run(ctx, &r);
	envelope_free(&orig);
	return rc;
}

/*
 * responder.c - a test peer: subscribes to PREFIX/NODE/+, runs every
 * message through inbound_accept() with a persisted replay window, and
 * answers each accepted command with a signed response (create_reply).
 *
 * Prints "ready" once its subscription is acknowledged (so tests never
 * sleep to wait for it), then one line per message on stdout:
 *   accepted id=ID ch=CH from=NODE
 *   refused reason=REASON
 * and exits after --count accepted messages.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "compose.h"
#include "config.h"
#include "inbound.h"
#include "log.h"
#include "mqtt.h"

struct responder {
	struct config	 cfg;
	struct seckey	 sk;
	struct keyring	 kr;
	struct inbound	 in;
	struct mqtt	*m;
	const char	*state;
	int		 reset, count, no_reply;
};

static void
responder_reply(struct responder *r, const struct envelope *e)
{
	struct compose_req req;
	struct envelope out;
	struct buf wire;
	char text[256], topic[512], err[512];

	memset(&req, 0, sizeof(req));
	snprintf(text, sizeof(text), "echo: %.200s", e->text);
	compose_reply(e, text, &req);
	req.urgency = "now";
	req.ttl = 600;
	buf_init(&wire, ENVELOPE_MAX_WIRE);
	if (compose_envelope(&req, &r->sk, &r->cfg.limits, &wire, &out, err,
	    sizeof(err)) == -1)
		errx(2, "compose: %s", err);
	inbound_topic(topic, sizeof(topic), r->cfg.prefix, out.to, out.ch);
	if (mqtt_publish(r->m, topic, wire.p, wire.len, 1, 0, 10000) == -1)
		errx(3, "publish: %s", mqtt_error(r->m));
	envelope_free(&out);
	buf_free(&wire);
}

static void
responder_one(struct responder *r, const struct mqtt_msg *msg)
{
	struct refusal why = { 0 };
	struct envelope e;

	if (inbound_accept(&r->in, msg->topic, msg->payload, msg->len,
	    (int64_t)time(NULL), &e, &why) == -1) {
		printf("refused reason=%s\n", refusal_name(why.reason));
		fflush(stdout);
		return;
	}
	printf("accepted id=%s ch=%s from=%s\n", e.id, envelope_ch_name(e.ch),
	    e.from);
	fflush(stdout);
	if (e.ch == CH_COMMAND && !r->no_reply)
		responder_reply(r, &e);
	r->count--;
	envelope_free(&e);
}

static void
responder_open_window(struct responder *r)
{
	enum window_open_status st;
	char err[512];

	st = window_open(r->state, (size_t)r->cfg.window_capacity, time(NULL),
	    r->cfg.limits.max_skew, r->reset ? WINDOW_RESET : 0,
	    &r->in.window, err, sizeof(err));
	if (r->in.window == NULL)
		errx(2, "window %s: %s", window_open_status_name(st), err);
}

static void
responder_args(struct responder *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "keys", required_argument, NULL, 'k' },
		{ "sign-key", required_argument, NULL, 's' },
		{ "state", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "reset", no_argument, NULL, 'R' },
		{ "no-reply", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 }
	};
	char err[512];
	const char *sign = NULL;
	int c;

	config_defaults(&r->cfg);
	r->cfg.window_capacity = 4096;
	r->count = 1;
	while ((c = getopt_long(argc, argv, "h:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'h': snprintf(r->cfg.host, sizeof(r->cfg.host), "%s",
		    optarg); break;
		case 'p': r->cfg.port = atoi(optarg); break;
		case 'P': snprintf(r->cfg.prefix, sizeof(r->cfg.prefix), "%s",
		    optarg); break;
		case 'k': snprintf(r->cfg.keys_dir, sizeof(r->cfg.keys_dir),
		    "%s", optarg); break;
		case 's': sign = optarg; break;
		case 'w': r->state = optarg; break;
		case 'n': r->count = atoi(optarg); break;
		case 'R': r->reset = 1; break;
		case 'N': r->no_reply = 1; break;
		default: errx(2, "bad option");
		}
	}
	if (sign == NULL || r->state == NULL)
		errx(2, "--sign-key and --state are required");
	if (seckey_load(sign, &r->sk, err, sizeof(err)) == -1 ||
	    keyring_load(r->cfg.keys_dir, &r->kr, err, sizeof(err)) == -1)
		errx(2, "%s", err);
}

int
main(int argc, char *argv[])
{
	struct responder r;
	struct mqtt_msg msg;
	char topic[512], err[512];
	int rc, local;

	memset(&r, 0, sizeof(r));
	log_init("responder", LOG_LVL_INFO);
	if (sodium_init() < 0)
		errx(2, "sodium_init");
	responder_args(&r, argc, argv);
	responder_open_window(&r);
	r.in.prefix = r.cfg.prefix;
	r.in.limits = &r.cfg.limits;
	r.in.keyring = &r.kr;
	if ((r.m = mqtt_connect(&r.cfg, r.sk.node, 1, ENVELOPE_MAX_WIRE, 10000,
	    &local, err, sizeof(err))) == NULL)
		errx(3, "%s", err);
	snprintf(topic, sizeof(topic), "%s/%s/+", r.cfg.prefix, r.sk.node);
	if (mqtt_subscribe(r.m, topic, 1, 10000) == -1)
		errx(3, "subscribe: %s", mqtt_error(r.m));
	printf("ready\n");
	fflush(stdout);
	while (r.count > 0) {
		if ((rc = mqtt_next(r.m, 1000, &msg)) == -1)
			errx(3, "broker: %s", mqtt_error(r.m));
		if (rc == 1) {
			responder_one(&r, &msg);
			mqtt_msg_free(&msg);
		}
	}
	if (window_sync(r.in.window) == -1)
		errx(2, "window sync failed");
	window_free(r.in.window);
	mqtt_close(r.m);
	seckey_free(&r.sk);
	keyring_free(&r.kr);
	return 0;
}

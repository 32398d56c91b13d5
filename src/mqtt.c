/*
 * mqtt.c - synchronous helpers over libmosquitto.
 *
 * We drive the library with mosquitto_loop() from our own code instead
 * of its thread (mosquitto_loop_start), so the same pattern works in a
 * seccomp-confined process and nothing runs behind our back.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "log.h"
#include "mqtt.h"
#include "util.h"

/*
 * The receive queue.  Every message in it has been acknowledged to the
 * broker already (libmosquitto sends PUBACK before on_message runs), so
 * a full queue grows instead of dropping: one read call of libmosquitto
 * can hand us as many packets as it has QoS > 0 messages of its own in
 * flight (see mqtt_read), far more than a batch.  MQTT_QUEUE_HARD is
 * the last resort against a library gone wrong, counted and logged as
 * lost (mqtt_dropped); nothing we know of reaches it.
 */
#define MQTT_QUEUE_INIT	1024
#define MQTT_QUEUE_HARD	(64 * 1024)
#define MQTT_KEEPALIVE	30
#define MQTT_ACKS_MAX	256
#define MQTT_READ_BATCH	256	/* packets per mqtt_io(): see mqtt_read */
_Static_assert(MQTT_READ_BATCH < MQTT_QUEUE_INIT, "a batch must fit the queue");

struct mqtt {
	struct mosquitto	*mosq;
	struct mqtt_msg		*q;	/* a ring of qcap */
	size_t			 qcap, qhead, qlen, dropped, max_payload;
	int			 connected, conn_rc, suback_mid, puback_mid;
	int			 acked, msg_flag;
	int			 unacked;	/* published, not yet acked */
	int			 acks[MQTT_ACKS_MAX];	/* PUBACKed mids */
	size_t			 ackhead, acklen;
	char			 err[256];
};

long long
mqtt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
mqtt_on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct mqtt *c = arg;

	c->conn_rc = rc;
	c->connected = rc == 0 ? 1 : -1;
	c->unacked = 0;		/* a new count: what is resent is acked again */
}

static void
mqtt_on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct mqtt *c = arg;

	c->connected = 0;
}

static void
mqtt_on_subscribe(struct mosquitto *m, void *arg, int mid, int n,
    const int *granted)
{
	struct mqtt *c = arg;

	/* 0x80 in granted means the broker refused the subscription */
	if (mid == c->suback_mid)
		c->acked = (n >= 1 && granted[0] != 0x80) ? 1 : -1;
}

static void
mqtt_on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct mqtt *c = arg;

	if (mid == c->puback_mid)
		c->acked = 1;
	if (c->unacked > 0)
		c->unacked--;
	/* for the poll loop: a full ring forgets the oldest, which only
	 * delays a control client's answer until its own timeout */
	c->acks[(c->ackhead + c->acklen) % MQTT_ACKS_MAX] = mid;
	if (c->acklen < MQTT_ACKS_MAX)
		c->acklen++;
	else
		c->ackhead = (c->ackhead + 1) % MQTT_ACKS_MAX;
}

/* Twice the room, the ring unwrapped; 0 if it may not grow further. */
static int
mqtt_queue_grow(struct mqtt *c)
{
	struct mqtt_msg *nq;
	size_t i, ncap = c->qcap * 2;

	if (ncap > MQTT_QUEUE_HARD)
		return 0;
	if ((nq = calloc(ncap, sizeof(*nq))) == NULL)
		fatal("mqtt_queue_grow");
	for (i = 0; i < c->qlen; i++)
		nq[i] = c->q[(c->qhead + i) % c->qcap];
	free(c->q);
	c->q = nq;
	c->qcap = ncap;
	c->qhead = 0;
	log_info("receive queue grown to %zu messages (one read of the "
	    "library delivered more than the queue held)", ncap);
	return 1;
}

static void
mqtt_on_message(struct mosquitto *m, void *arg,
    const struct mosquitto_message *msg)
{
	struct mqtt *c = arg;
	struct mqtt_msg *q;

	if (c->qlen == c->qcap && !mqtt_queue_grow(c)) {
		c->dropped++;
		return;
	}
	q = &c->q[(c->qhead + c->qlen) % c->qcap];
	memset(q, 0, sizeof(*q));
	q->len = msg->payloadlen < 0 ? 0 : (size_t)msg->payloadlen;
	q->retained = msg->retain;
	if ((q->topic = strdup(msg->topic)) == NULL)
		fatal("mqtt_on_message");
	if (q->len > c->max_payload)
		q->oversize = 1;
	else {
		if ((q->payload = malloc(q->len + 1)) == NULL)
			fatal("mqtt_on_message");
		if (q->len > 0)	/* a cleared retained message has no payload */
			memcpy(q->payload, msg->payload, q->len);
		q->payload[q->len] = '\0';
	}
	c->qlen++;
	c->msg_flag = 1;
}

/* Run the loop until *flag != 0 or the deadline passes. */
static int
mqtt_wait(struct mqtt *c, int *flag, int timeout_ms)
{
	long long deadline = mqtt_now_ms() + timeout_ms, left;
	int rc;

	while (*flag == 0) {
		if ((left = deadline - mqtt_now_ms()) <= 0)
			return 0;
		rc = mosquitto_loop(c->mosq, left > 100 ? 100 : (int)left, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			snprintf(c->err, sizeof(c->err), "%s",
			    rc == MOSQ_ERR_ERRNO ? strerror(errno) :
			    mosquitto_strerror(rc));
			return -1;
		}
	}
	return *flag > 0 ? 1 : -1;
}

/* First line of a password file that others cannot read. */
static char *
mqtt_read_password(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char line[512], *pw;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1 || (st.st_mode & S_IROTH)) {
		snprintf(err, errlen, "%s: password file is readable by others; "
		    "chmod o-r it", path);
		fclose(fp);
		return NULL;
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	pw = strdup(line);
	explicit_bzero(line, sizeof(line));
	return pw;
}

static int
mqtt_setup(struct mqtt *c, const struct config *cfg, char *err,
    size_t errlen)
{
	char *pw = NULL;
	int rc = 0;

	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311);
	/*
	 * Small packets go out at once: with Nagle's algorithm a publish
	 * written right after a PUBACK waits for the broker's delayed ACK,
	 * 40 ms on Linux, in every round trip (bench/bus.sh rtt).
	 */
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (cfg->cafile[0] || cfg->capath[0]) {
		rc = mosquitto_tls_set(c->mosq,
		    cfg->cafile[0] ? cfg->cafile : NULL,
		    cfg->capath[0] ? cfg->capath : NULL,
		    cfg->certfile[0] ? cfg->certfile : NULL,
		    cfg->keyfile[0] ? cfg->keyfile : NULL, NULL);
		/* 1 = SSL_VERIFY_PEER; hostname checking stays on */
		if (rc == 0)
			rc = mosquitto_tls_opts_set(c->mosq, 1, NULL, NULL);
	}
	if (rc == 0 && cfg->username[0]) {
		if (cfg->password_file[0] && (pw = mqtt_read_password(
		    cfg->password_file, err, errlen)) == NULL)
			return -1;
		rc = mosquitto_username_pw_set(c->mosq, cfg->username, pw);
		if (pw != NULL)
			explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (rc != 0) {
		snprintf(err, errlen, "mqtt setup: %s", mosquitto_strerror(rc));
		return -1;
	}
	mosquitto_connect_callback_set(c->mosq, mqtt_on_connect);
	mosquitto_disconnect_callback_set(c->mosq, mqtt_on_disconnect);
	mosquitto_subscribe_callback_set(c->mosq, mqtt_on_subscribe);
	mosquitto_publish_callback_set(c->mosq, mqtt_on_publish);
	mosquitto_message_callback_set(c->mosq, mqtt_on_message);
	return 0;
}

struct mqtt *
mqtt_connect(const struct config *cfg, const char *client_id, int clean,
    size_t max_payload, int timeout_ms, int *local, char *err, size_t errlen)
{
	return mqtt_connect_will(cfg, client_id, clean, max_payload, timeout_ms,
	    NULL, local, err, errlen);
}

struct mqtt *
mqtt_connect_will(const struct config *cfg, const char *client_id, int clean,
    size_t max_payload, int timeout_ms, const struct mqtt_will *will,
    int *local, char *err, size_t errlen)
{
	struct mqtt *c;
	int rc;

	*local = 1;	/* until the setup is done, errors are ours */
	mosquitto_lib_init();
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("mqtt_connect");
	c->max_payload = max_payload;
	c->qcap = MQTT_QUEUE_INIT;
	if ((c->q = calloc(c->qcap, sizeof(*c->q))) == NULL)
		fatal("mqtt_connect");
	if ((c->mosq = mosquitto_new(client_id, clean != 0, c)) == NULL)
		fatal("mosquitto_new");
	if (mqtt_setup(c, cfg, err, errlen) == -1) {
		mqtt_close(c);
		return NULL;
	}
	/* the broker keeps the will for every later reconnect too */
	if (will != NULL && (rc = mosquitto_will_set(c->mosq, will->topic,
	    (int)will->len, will->payload, 1, true)) != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "will: %s", mosquitto_strerror(rc));
		mqtt_close(c);
		return NULL;
	}
	*local = 0;
	rc = mosquitto_connect(c->mosq, cfg->host, cfg->port, MQTT_KEEPALIVE);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "connect %s:%d: %s", cfg->host, cfg->port,
		    rc == MOSQ_ERR_ERRNO ? strerror(errno) :
		    mosquitto_strerror(rc));
		mqtt_close(c);
		return NULL;
	}
	if ((rc = mqtt_wait(c, &c->connected, timeout_ms)) != 1) {
		snprintf(err, errlen, "connect %s:%d: %s", cfg->host, cfg->port,
		    rc == 0 ? "no CONNACK in time" : c->conn_rc ?
		    mosquitto_connack_string(c->conn_rc) : c->err);
		mqtt_close(c);
		return NULL;
	}
	return c;
}

int
mqtt_subscribe(struct mqtt *c, const char *topic, int qos, int timeout_ms)
{
	int rc;

	c->acked = 0;
	rc = mosquitto_subscribe(c->mosq, &c->suback_mid, topic, qos);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(c->err, sizeof(c->err), "subscribe: %s",
		    mosquitto_strerror(rc));
		return -1;
	}
	if ((rc = mqtt_wait(c, &c->acked, timeout_ms)) != 1) {
		if (rc == 0)
			snprintf(c->err, sizeof(c->err), "no SUBACK in time");
		else if (c->acked < 0)
			snprintf(c->err, sizeof(c->err), "subscription to %s "
			    "refused by the broker", topic);
		return -1;
	}
	return 0;
}

int
mqtt_publish(struct mqtt *c, const char *topic, const void *payload,
    size_t len, int qos, int retain, int timeout_ms)
{
	int rc;

	c->acked = 0;
	rc = mosquitto_publish(c->mosq, &c->puback_mid, topic, (int)len,
	    payload, qos, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(c->err, sizeof(c->err), "publish: %s",
		    mosquitto_strerror(rc));
		return -1;
	}
	if (qos == 0) {
		/* nothing to wait for but the bytes leaving */
		c->acked = 1;
		return mosquitto_loop_write(c->mosq, 1) == 0 ? 0 : -1;
	}
	if ((rc = mqtt_wait(c, &c->acked, timeout_ms)) != 1) {
		if (rc == 0)
			snprintf(c->err, sizeof(c->err), "no PUBACK in time");
		return -1;
	}
	return 0;
}

int
mqtt_next(struct mqtt *c, int timeout_ms, struct mqtt_msg *out)
{
	int rc;

	c->msg_flag = c->qlen > 0;
	if (!c->msg_flag && (rc = mqtt_wait(c, &c->msg_flag, timeout_ms)) != 1)
		return rc;	/* 0 timeout, -1 error */
	*out = c->q[c->qhead];
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	return 1;
}

void
mqtt_msg_free(struct mqtt_msg *m)
{
	free(m->topic);
	free(m->payload);
	memset(m, 0, sizeof(*m));
}

const char *
mqtt_error(const struct mqtt *c)
{
	return c->err;
}

size_t
mqtt_dropped(const struct mqtt *c)
{
	return c->dropped;
}

void
mqtt_close(struct mqtt *c)
{
	int i;

	if (c == NULL)
		return;
	/*
	 * DISCONNECT, then read until the broker closes (at most 1 s):
	 * closing a socket with unread bytes in it sends a RST, and a RST
	 * can make the broker's kernel drop what we wrote last and it had
	 * not read yet (the final publications of a drain).
	 */
	if (c->mosq != NULL) {
		mosquitto_disconnect(c->mosq);
		for (i = 0; i < 100; i++)
			if (mosquitto_loop(c->mosq, 10, 1) != MOSQ_ERR_SUCCESS)
				break;
		mosquitto_destroy(c->mosq);
	}
	while (c->qlen > 0) {
		mqtt_msg_free(&c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
	}
	free(c->q);
	free(c);
	mosquitto_lib_cleanup();
}

/*
 * The asynchronous side, for a poll(2) loop (the daemon's router): the
 * caller polls mqtt_fd() for reading, and for writing when
 * mqtt_want_write(), then calls mqtt_io().
 */
int
mqtt_fd(const struct mqtt *c)
{
	return mosquitto_socket(c->mosq);
}

int
mqtt_unacked(const struct mqtt *c)
{
	return c->unacked;
}

int
mqtt_want_write(const struct mqtt *c)
{
	return mosquitto_want_write(c->mosq);
}

int
mqtt_connected(const struct mqtt *c)
{
	return c->connected == 1;
}

/*
 * Read what the socket holds, about MQTT_READ_BATCH packets: four of
 * the router's batches of 64, so that it can check one batch on its
 * workers while it finishes the one before (router_messages).
 * mosquitto_loop_read() ignores its max_packets: 2.0.11 reads as many
 * packets as it has QoS > 0 messages in flight (ours and the broker's),
 * usually one, but hundreds when we have just published that many (all
 * peers lost at once), so one call can overshoot any bound of ours.  We
 * stop calling once a batch is queued, and the queue grows for the
 * overshoot (see MQTT_QUEUE_INIT).  The library says that the socket
 * ran dry only through errno == EAGAIN, as its own loop checks: so do
 * we.  A stale EAGAIN ends the batch early, which costs one more poll
 * turn, never a packet.
 */
static int
mqtt_read(struct mqtt *c)
{
	int i, rc = MOSQ_ERR_SUCCESS;

	for (i = 0; i < MQTT_READ_BATCH && c->qlen < MQTT_READ_BATCH &&
	    rc == MOSQ_ERR_SUCCESS; i++) {
		errno = 0;
		rc = mosquitto_loop_read(c->mosq, 1);
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
	}
	return rc;
}

/* 0 fine, -1 the connection is gone (reconnect with mqtt_reconnect) */
int
mqtt_io(struct mqtt *c, int readable, int writable)
{
	int rc = MOSQ_ERR_SUCCESS;

	if (readable)
		rc = mqtt_read(c);
	if (rc == MOSQ_ERR_SUCCESS && (writable || mosquitto_want_write(c->mosq)))
		rc = mosquitto_loop_write(c->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_loop_misc(c->mosq);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(c->err, sizeof(c->err), "%s", rc == MOSQ_ERR_ERRNO ?
		    strerror(errno) : mosquitto_strerror(rc));
		c->connected = 0;
		return -1;
	}
	return 0;
}

int
mqtt_reconnect(struct mqtt *c)
{
	int rc = mosquitto_reconnect(c->mosq);

	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(c->err, sizeof(c->err), "%s", rc == MOSQ_ERR_ERRNO ?
		    strerror(errno) : mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

int
mqtt_publish_nowait(struct mqtt *c, const char *topic, const void *payload,
    size_t len, int qos, int retain)
{
	return mqtt_publish_mid(c, topic, payload, len, qos, retain, NULL);
}

int
mqtt_take_ack(struct mqtt *c, int *mid)
{
	if (c->acklen == 0)
		return 0;
	*mid = c->acks[c->ackhead];
	c->ackhead = (c->ackhead + 1) % MQTT_ACKS_MAX;
	c->acklen--;
	return 1;
}

int
mqtt_publish_mid(struct mqtt *c, const char *topic, const void *payload,
    size_t len, int qos, int retain, int *mid)
{
	int rc = mosquitto_publish(c->mosq, mid, topic, (int)len, payload,
	    qos, retain);

	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(c->err, sizeof(c->err), "publish: %s",
		    mosquitto_strerror(rc));
		return -1;
	}
	c->unacked++;	/* on_publish: QoS 0 written, QoS 1 PUBACKed */
	return 0;
}

int
mqtt_subscribe_nowait(struct mqtt *c, const char *topic, int qos)
{
	int rc = mosquitto_subscribe(c->mosq, NULL, topic, qos);

	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(c->err, sizeof(c->err), "subscribe: %s",
		    mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

/* Pop a received message without waiting: 1 got one, 0 none. */
int
mqtt_take(struct mqtt *c, struct mqtt_msg *out)
{
	if (c->qlen == 0)
		return 0;
	*out = c->q[c->qhead];
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	return 1;
}

/*
 * mqttqueue.c - the receive queue of mqtt.c must not lose a message the
 * library has already acknowledged, however many packets one read hands
 * it (test_mqtt_queue.sh runs this against a real broker).
 *
 * libmosquitto 2.0's mosquitto_loop_read() reads as many packets in one
 * call as it has QoS > 0 messages of its own in flight.  So this tool:
 *   1. subscribes to q/# (QoS 1) and stops reading;
 *   2. has a second client publish N small messages to q/in, and waits
 *      until the subscriber's socket holds all of them (FIONREAD);
 *   3. publishes N QoS 1 messages of its own without reading, so that
 *      libmosquitto's next read call may take up to N packets at once;
 *   4. then drives mqtt_io()/mqtt_take() as the router does and counts.
 * Exits 0 when all N arrived, in order, and none was dropped; prints
 * "received R dropped D largest-read L" either way.
 */
#include <sys/ioctl.h>

#include <err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mqtt.h"

#define PAYLOAD_FMT	"m%05d"		/* 6 bytes: packets of 14 bytes */
#define PACKET_LEN	(2 + 2 + 4 + 6)	/* header, topic length, "q/in" */

static struct mqtt *
connect_or_die(const struct config *cfg, const char *id)
{
	char err[512];
	struct mqtt *m;
	int local;

	if ((m = mqtt_connect(cfg, id, 1, 65536, 10000, &local, err,
	    sizeof(err))) == NULL)
		errx(2, "%s: %s", id, err);
	return m;
}

/* until the subscriber's socket holds `bytes`, or 10 s have passed */
static int
wait_queued(struct mqtt *m, int bytes)
{
	long long end = mqtt_now_ms() + 10000;
	struct pollfd pfd = { mqtt_fd(m), POLLIN, 0 };
	int have = 0;

	while (mqtt_now_ms() < end) {
		if (ioctl(pfd.fd, FIONREAD, &have) == -1)
			err(2, "FIONREAD");
		if (have >= bytes)
			return 1;
		/* more bytes on their way: a short poll, not a fixed sleep */
		(void)poll(NULL, 0, 10);
	}
	warnx("socket holds %d bytes, expected %d", have, bytes);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config cfg;
	struct mqtt *sub, *pub;
	struct mqtt_msg msg;
	char payload[16];
	long long end;
	size_t dropped;
	int i, n, got = 0, inorder = 1, largest = 0, batch;

	if (argc != 3)
		errx(2, "usage: hive-test-mqttqueue PORT N");
	config_defaults(&cfg);
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	cfg.port = atoi(argv[1]);
	if ((n = atoi(argv[2])) < 1 || n > 99999)
		errx(2, "N: 1 to 99999");

	sub = connect_or_die(&cfg, "hive-test-mqttqueue-sub");
	if (mqtt_subscribe(sub, "q/#", 1, 10000) == -1)
		errx(2, "subscribe: %s", mqtt_error(sub));
	pub = connect_or_die(&cfg, "hive-test-mqttqueue-pub");
	for (i = 0; i < n; i++) {
		snprintf(payload, sizeof(payload), PAYLOAD_FMT, i);
		if (mqtt_publish(pub, "q/in", payload, strlen(payload), 0, 0,
		    10000) == -1)
			errx(2, "publish: %s", mqtt_error(pub));
	}
	if (!wait_queued(sub, n * PACKET_LEN))
		return 2;
	for (i = 0; i < n; i++)
		if (mqtt_publish_nowait(sub, "out/x", "o", 1, 1, 0) == -1)
			errx(2, "publish: %s", mqtt_error(sub));

	end = mqtt_now_ms() + 10000;
	while (got < n && mqtt_now_ms() < end) {
		struct pollfd pfd = { mqtt_fd(sub), POLLIN |
		    (mqtt_want_write(sub) ? POLLOUT : 0), 0 };

		if (poll(&pfd, 1, 100) == -1)
			err(2, "poll");
		if (mqtt_io(sub, pfd.revents & POLLIN, pfd.revents & POLLOUT)
		    == -1)
			errx(2, "io: %s", mqtt_error(sub));
		for (batch = 0; mqtt_take(sub, &msg) == 1; batch++) {
			snprintf(payload, sizeof(payload), PAYLOAD_FMT, got);
			if (msg.payload == NULL || strcmp(msg.payload,
			    payload) != 0)
				inorder = 0;
			got++;
			mqtt_msg_free(&msg);
		}
		if (batch > largest)
			largest = batch;
	}
	dropped = mqtt_dropped(sub);
	printf("received %d dropped %zu largest-read %d%s\n", got, dropped,
	    largest, inorder ? "" : " out-of-order");
	mqtt_close(pub);
	mqtt_close(sub);
	return got == n && inorder && dropped == 0 ? 0 : 1;
}

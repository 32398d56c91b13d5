/*
 * mqtt.h - a small synchronous layer over libmosquitto's external-loop
 * API, for hive-cli and the test tools: connect and wait for CONNACK,
 * subscribe and wait for SUBACK, publish QoS 1 and wait for PUBACK,
 * take the next received message with a deadline.
 *
 * Received payloads are copied out of the callback (the library frees
 * them when it returns); one larger than mqtt_opts.max_payload is not
 * copied, only flagged, so a hostile broker cannot make us allocate.
 */
#ifndef HIVE_MQTT_H
#define HIVE_MQTT_H

#include <stddef.h>

#include "config.h"

struct mqtt_msg {
	char	*topic;
	char	*payload;	/* NULL if oversize */
	size_t	 len;		/* real length, even if oversize */
	int	 oversize;
	int	 retained;
};

struct mqtt;

/*
 * Connect using host/port/TLS/credentials from cfg; waits for CONNACK.
 * On NULL, *local says whether the failure was local (unreadable
 * password or certificate file) rather than the broker's.
 */
struct mqtt *mqtt_connect(const struct config *cfg, const char *client_id,
    int clean_session, size_t max_payload, int timeout_ms, int *local,
    char *err, size_t errlen);
/* A last will: published retained, QoS 1, by the broker if we vanish. */
struct mqtt_will {
	const char	*topic;
	const void	*payload;
	size_t		 len;
};
struct mqtt *mqtt_connect_will(const struct config *, const char *client_id,
    int clean_session, size_t max_payload, int timeout_ms,
    const struct mqtt_will *, int *local, char *err, size_t errlen);
int mqtt_subscribe(struct mqtt *, const char *topic, int qos, int timeout_ms);
int mqtt_publish(struct mqtt *, const char *topic, const void *payload,
    size_t len, int qos, int retain, int timeout_ms);
/* 1: got a message (free with mqtt_msg_free), 0: timeout, -1: error */
int mqtt_next(struct mqtt *, int timeout_ms, struct mqtt_msg *out);
void mqtt_msg_free(struct mqtt_msg *);
const char *mqtt_error(const struct mqtt *);
size_t mqtt_dropped(const struct mqtt *);
void mqtt_close(struct mqtt *);

/* asynchronous use from a poll loop (see mqtt.c) */
int mqtt_fd(const struct mqtt *);
int mqtt_want_write(const struct mqtt *);
/* Publications not yet confirmed by on_publish (QoS 0: written; QoS 1:
 * PUBACKed); an estimate across reconnects, never below 0. */
int mqtt_unacked(const struct mqtt *);
int mqtt_connected(const struct mqtt *);
int mqtt_io(struct mqtt *, int readable, int writable);
int mqtt_reconnect(struct mqtt *);
int mqtt_publish_nowait(struct mqtt *, const char *topic, const void *,
    size_t, int qos, int retain);
/* As above; *mid (may be NULL) identifies the PUBACK later. */
int mqtt_publish_mid(struct mqtt *, const char *topic, const void *,
    size_t, int qos, int retain, int *mid);
/* 1: *mid was acknowledged by the broker (QoS 1), 0: none pending */
int mqtt_take_ack(struct mqtt *, int *mid);
int mqtt_subscribe_nowait(struct mqtt *, const char *topic, int qos);
int mqtt_take(struct mqtt *, struct mqtt_msg *);

/* milliseconds on CLOCK_MONOTONIC */
long long mqtt_now_ms(void);

#endif

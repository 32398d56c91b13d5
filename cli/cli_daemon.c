/*
 * cli_daemon.c - hive-cli as a client of the local hive-daemon.
 *
 * One SOCK_SEQPACKET connection per invocation, one JSON request, then
 * JSON replies until the daemon says it is done (protocol in
 * docs/cli.md, "Through the daemon").  The daemon identifies us by
 * SO_PEERCRED, signs with the node key in its monitor process, and
 * answers status questions from its view of the retained meta topics;
 * this process never holds a secret key.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mqtt.h"

#define DAEMON_MSG_MAX		(192 * 1024)
#define DAEMON_REPLY_MS		15000	/* for "sent" and for queries */

static int
daemon_connect(const struct cli_ctx *ctx)
{
	struct sockaddr_un sun;
	const char *path = ctx->cfg.control_socket;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		warnx("%s: socket path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		err(EXIT_USAGE, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		warn("cannot reach hive-daemon at %s (is it running? or sign "
		    "directly with --sign-key)", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int
daemon_write(int fd, json_t *req)
{
	char *s = json_dumps(req, JSON_COMPACT);
	int rc = 0;

	if (s == NULL)
		errx(EXIT_USAGE, "request: not valid UTF-8");
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) == -1) {
		warn("hive-daemon");
		rc = -1;
	}
	free(s);
	json_decref(req);
	return rc;
}

/* The next reply, or NULL (message printed) on close, error, timeout. */
static json_t *
daemon_read(int fd, long long deadline, char *buf)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	long long left = deadline - mqtt_now_ms();
	json_t *o;
	ssize_t n;

	if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
		return NULL;
	if ((n = recv(fd, buf, DAEMON_MSG_MAX, 0)) <= 0) {
		warnx("hive-daemon closed the connection");
		return NULL;
	}
	if ((o = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL || !json_is_object(o)) {
		warnx("hive-daemon sent something that is not a JSON object");
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * {"ok":false,...}: print it and choose the exit code.  "broker" (not
 * connected), "busy" (the daemon's queues towards the broker, or its
 * connection table, are full) and "timeout" (we were too slow to send
 * the request) say the path is not there right now: nothing is known
 * to have been delivered and the same request may succeed later, as
 * with a broker we cannot reach ourselves (3).  Every other code says
 * the request itself, or this box's policy, is wrong: retrying the
 * same request will not help (2).
 */
static int
daemon_refused(json_t *o)
{
	const char *code = json_string_value(json_object_get(o, "code"));
	const char *msg = json_string_value(json_object_get(o, "error"));

	warnx("hive-daemon: %s: %s", code ? code : "error", msg ? msg : "?");
	if (code != NULL && (strcmp(code, "broker") == 0 ||
	    strcmp(code, "busy") == 0 || strcmp(code, "timeout") == 0))
		return EXIT_BROKER;
	return EXIT_USAGE;
}

/* A response the daemon verified: does its outcome say it failed? */
static int
daemon_failed(const char *wire)
{
	json_t *e = json_loads(wire, JSON_REJECT_DUPLICATES, NULL);
	const char *outcome = json_string_value(json_object_get(e, "outcome"));
	const char *from = json_string_value(json_object_get(e, "from"));
	int failed = outcome != NULL && strcmp(outcome, "ok") != 0;

	if (failed)
		warnx("%s answered: outcome %s", from != NULL ? from : "?",
		    outcome);
	json_decref(e);
	return failed;
}

static int
daemon_wait(int fd, long long wait, char *buf)
{
	/* the daemon ends the wait itself; the margin covers its tick */
	long long deadline = mqtt_now_ms() + wait * 1000 + 5000;
	const char *s, *done;
	json_t *o;
	int got = 0, failed = 0;

	while ((o = daemon_read(fd, deadline, buf)) != NULL) {
		if ((s = json_string_value(json_object_get(o, "response")))) {
			printf("%s\n", s);
			fflush(stdout);
			got++;
			failed += daemon_failed(s);
		}
		done = json_string_value(json_object_get(o, "done"));
		if (done != NULL) {
			if (strcmp(done, "complete") != 0)
				warnx("%d response%s within %llds", got,
				    got == 1 ? "" : "s", wait);
			json_decref(o);
			break;
		}
		json_decref(o);
	}
	if (got == 0)
		return EXIT_TIMEOUT;
	return failed > 0 ? EXIT_REMOTE : EXIT_VALID;
}

int
cli_daemon_send(struct cli_ctx *ctx, json_t *req, long long wait)
{
	char *buf = malloc(DAEMON_MSG_MAX);
	const char *sent;
	json_t *o;
	int fd, rc = EXIT_BROKER;

	if (buf == NULL)
		err(EXIT_USAGE, "malloc");
	if ((fd = daemon_connect(ctx)) == -1 || daemon_write(fd, req) == -1) {
		if (fd == -1)
			json_decref(req);
		free(buf);
		return EXIT_BROKER;
	}
	if ((o = daemon_read(fd, mqtt_now_ms() + DAEMON_REPLY_MS, buf)) == NULL)
		warnx("hive-daemon: no answer");
	else if (!json_is_true(json_object_get(o, "ok")))
		rc = daemon_refused(o);
	else if ((sent = json_string_value(json_object_get(o, "sent"))) ==
	    NULL)
		warnx("hive-daemon: malformed answer");
	else if (wait == 0) {
		printf("%s\n", sent);
		rc = EXIT_VALID;
	} else {
		/* the agent may need what it sent: stderr, stdout is replies */
		fprintf(stderr, "sent: %s\n", sent);
		rc = daemon_wait(fd, wait, buf);
	}
	json_decref(o);
	close(fd);
	free(buf);
	return rc;
}

/* --- read verbs ----------------------------------------------------------- */

struct col {
	const char	*head;
	const char	*key;	/* in data; "@age": now - doc ts; "@from";
				   "@status": online, stopped or lost */
	int		 width;
};

static const struct {
	const char	*verb;
	struct col	 cols[8];
} daemon_tables[] = {
	{ "status", { { "NODE", "node", 20 }, { "STATUS", "@status", 8 },
	    { "AGE", "@age", 6 }, { "UPTIME", "uptime", 8 },
	    { "LOAD", "load", 5 }, { "PENDING", "pending", 7 },
	    { "REFUSED", "refused", 7 }, { "INSTANCES", "instances", 0 } } },
	{ "roster", { { "NODE", "node", 20 }, { "ROLE", "role", 8 },
	    { "CAPABILITIES", "capabilities", 20 },
	    { "HANDLERS", "handlers", 24 }, { "VERSION", "version", 0 } } },
	{ "pending", { { "CORR", "corr", 38 }, { "FROM", "from", 18 },
	    { "TO", "to", 18 }, { "STATUS", "status", 11 },
	    { "AGE", "@age", 6 }, { "TEXT", "text", 0 } } },
	{ "sync-status", { { "NODE", "@from", 20 }, { "STATUS", "status", 9 },
	    { "AGE", "@age", 6 }, { "RESULT", "result", 0 } } },
};

/* The local node's heartbeat interval: for a state that names none. */
static long long daemon_beat = 30;

/* 29s, 4m, 2h, 3d: the largest unit that is at least one. */
static void
daemon_age(long long s, char *out, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, len, "%llds", s);
	else if (s < 3600)
		snprintf(out, len, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, len, "%lldh", s / 3600);
	else
		snprintf(out, len, "%lldd", s / 86400);
}

/*
 * What a node's state document means now: "stopped" as it said at a
 * clean stop; "lost" for its last will ("offline") or for an "online"
 * whose heartbeats stopped (older than three of its intervals);
 * "online" otherwise.  An unknown status is shown as signed.
 */
static void
daemon_status(json_t *doc, long long age, char *out, size_t len)
{
	json_t *data = json_object_get(doc, "data");
	json_t *st = json_object_get(data, "status");
	long long beat = json_integer_value(json_object_get(data,
	    "heartbeat_interval"));
	const char *s = json_is_string(st) ? json_string_value(st) : "-";

	if (beat <= 0)
		beat = daemon_beat;
	if (strcmp(s, "offline") == 0 ||
	    (strcmp(s, "online") == 0 && age > 3 * beat))
		s = "lost";
	snprintf(out, len, "%s", s);
}

/* A table line must stay one line, whatever a peer signed. */
static void
daemon_clean(char *out)
{
	char *s;

	for (s = out; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* An array of strings as people write a list: "a,b,c"; -1 if v is not
 * one (shown as JSON instead). */
static int
daemon_list(json_t *v, char *out, size_t len)
{
	size_t i, used = 0;
	int n;

	if (!json_is_array(v))
		return -1;
	out[0] = '\0';
	for (i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i)))
			return -1;
	for (i = 0; i < json_array_size(v) && used < len; i++) {
		n = snprintf(out + used, len - used, "%s%s", i > 0 ? "," : "",
		    json_string_value(json_array_get(v, i)));
		if (n < 0)
			return -1;
		used += (size_t)n;
	}
	if (json_array_size(v) == 0)
		snprintf(out, len, "-");
	return 0;
}

static void
daemon_cell(json_t *doc, const struct col *c, char *out, size_t len)
{
	json_t *data = json_object_get(doc, "data"), *v;
	long long age = (long long)time(NULL) -
	    (long long)json_integer_value(json_object_get(doc, "ts"));
	char *s;

	if (strcmp(c->key, "@age") == 0) {
		daemon_age(age, out, len);
		return;
	}
	if (strcmp(c->key, "@status") == 0) {
		daemon_status(doc, age, out, len);
		daemon_clean(out);
		return;
	}
	v = strcmp(c->key, "@from") == 0 ? json_object_get(doc, "from") :
	    json_object_get(data, c->key);
	if (json_is_string(v))
		snprintf(out, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, len, "%.2f", json_real_value(v));
	else if (daemon_list(v, out, len) == 0)
		;
	else if (v != NULL && (s = json_dumps(v, JSON_COMPACT |
	    JSON_ENCODE_ANY)) != NULL) {
		snprintf(out, len, "%s", s);
		free(s);
	} else
		snprintf(out, len, "-");
	daemon_clean(out);
}

/* One line of the table, each column padded to its width but the last. */
static void
daemon_row(char *const *cells, const int *width, size_t ncols)
{
	size_t k;

	for (k = 0; k < ncols; k++)
		printf("%-*s%s", k + 1 < ncols ? width[k] : 0, cells[k],
		    k + 1 < ncols ? " " : "\n");
}

/*
 * Every cell first, then each column as wide as its widest cell (at
 * least its heading and the table's width, at most a cell's 511
 * bytes), so the columns line up whatever the nodes and values are.
 */
static void
daemon_table(const char *verb, json_t *docs)
{
	const struct col *cols = NULL;
	size_t i, k, n = json_array_size(docs), ncols = 0;
	char cell[512], **cells, *head[8];
	int width[8];

	for (i = 0; i < sizeof(daemon_tables) / sizeof(daemon_tables[0]); i++)
		if (strcmp(daemon_tables[i].verb, verb) == 0)
			cols = daemon_tables[i].cols;
	if (cols == NULL)
		errx(EXIT_USAGE, "daemon_table: %s", verb);
	while (ncols < 8 && cols[ncols].head != NULL) {
		head[ncols] = (char *)cols[ncols].head;
		width[ncols] = (int)strlen(cols[ncols].head) > cols[ncols].width ?
		    (int)strlen(cols[ncols].head) : cols[ncols].width;
		ncols++;
	}
	if ((cells = calloc(n * ncols + 1, sizeof(*cells))) == NULL)
		err(EXIT_USAGE, "calloc");
	for (i = 0; i < n; i++)
		for (k = 0; k < ncols; k++) {
			daemon_cell(json_array_get(docs, i), &cols[k], cell,
			    sizeof(cell));
			if ((cells[i * ncols + k] = strdup(cell)) == NULL)
				err(EXIT_USAGE, "strdup");
			if ((int)strlen(cell) > width[k])
				width[k] = (int)strlen(cell);
		}
	daemon_row(head, width, ncols);
	for (i = 0; i < n; i++)
		daemon_row(&cells[i * ncols], width, ncols);
	for (i = 0; i < n * ncols; i++)
		free(cells[i]);
	free(cells);
}

int
cli_daemon_query(struct cli_ctx *ctx, json_t *req, int json_out,
    const char *verb)
{
	long long deadline = mqtt_now_ms() + DAEMON_REPLY_MS;
	char *buf = malloc(DAEMON_MSG_MAX), *s;
	json_t *o, *docs = json_array();
	int fd, rc = EXIT_BROKER;

	if (buf == NULL || docs == NULL)
		err(EXIT_USAGE, "malloc");
	if (ctx->cfg.heartbeat_interval > 0)
		daemon_beat = ctx->cfg.heartbeat_interval;
	if ((fd = daemon_connect(ctx)) == -1 || daemon_write(fd, req) == -1) {
		if (fd == -1)
			json_decref(req);
		free(buf);
		json_decref(docs);
		return EXIT_BROKER;
	}
	while ((o = daemon_read(fd, deadline, buf)) != NULL) {
		if (json_object_get(o, "ok") != NULL &&
		    !json_is_true(json_object_get(o, "ok"))) {
			rc = daemon_refused(o);
			json_decref(o);
			break;
		}
		if (json_object_get(o, "doc") != NULL)
			json_array_append(docs, json_object_get(o, "doc"));
		if (json_object_get(o, "done") != NULL)
			rc = EXIT_VALID;
		json_decref(o);
		if (rc == EXIT_VALID)
			break;
	}
	if (rc == EXIT_VALID && json_out) {
		if ((s = json_dumps(docs, JSON_INDENT(2))) == NULL)
			errx(EXIT_USAGE, "json_dumps");
		printf("%s\n", s);
		free(s);
	} else if (rc == EXIT_VALID)
		daemon_table(verb, docs);
	else if (rc == EXIT_BROKER)
		warnx("hive-daemon: no complete answer");
	json_decref(docs);
	close(fd);
	free(buf);
	return rc;
}

/*
 * pubmany.c - publish many messages, each to its own topic, in one
 * connection: the floods of the state-plane tests (thousands of
 * retained documents, one mosquitto_pub each would take minutes).
 *
 * Reads "TOPIC<TAB>PAYLOAD" lines on stdin; publishes each at QoS 1,
 * retained with -r; exits 0 once the broker has acknowledged every one.
 *
 * usage: hive-test-pubmany [-r] HOST PORT <lines
 * exit: 0 all acknowledged, 1 a publish failed or timed out, 2 usage
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

static int acked;

static void
on_publish(struct mosquitto *m, void *arg, int mid)
{
	(void)m, (void)arg, (void)mid;
	acked++;
}

/* until every publication is acknowledged, for at most 60 s */
static int
drain(struct mosquitto *m, int sent)
{
	time_t end = time(NULL) + 60;

	while (acked < sent && time(NULL) < end)
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			return -1;
	return acked == sent ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	struct mosquitto *m;
	char *line = NULL, *tab;
	size_t cap = 0;
	ssize_t n;
	int retain = 0, sent = 0;

	if (argc > 1 && strcmp(argv[1], "-r") == 0)
		retain = 1, argc--, argv++;
	if (argc != 3)
		errx(2, "usage: hive-test-pubmany [-r] HOST PORT <lines");
	mosquitto_lib_init();
	if ((m = mosquitto_new(NULL, 1, NULL)) == NULL)
		errx(2, "mosquitto_new");
	mosquitto_publish_callback_set(m, on_publish);
	if (mosquitto_connect(m, argv[1], atoi(argv[2]), 30) != MOSQ_ERR_SUCCESS)
		errx(1, "connect %s:%s", argv[1], argv[2]);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			errx(2, "line %d: no TAB", sent + 1);
		*tab++ = '\0';
		if (mosquitto_publish(m, NULL, line, (int)strlen(tab), tab, 1,
		    retain) != MOSQ_ERR_SUCCESS)
			errx(1, "publish %s", line);
		sent++;
		/* keep the in-flight window moving */
		if (mosquitto_loop(m, 0, 1) != MOSQ_ERR_SUCCESS)
			errx(1, "loop");
	}
	free(line);
	if (drain(m, sent) == -1)
		errx(1, "%d of %d acknowledged", acked, sent);
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	printf("published %d\n", sent);
	return 0;
}

/*
 * test_config.c - hive.conf keywords, errors with file:line, round trip.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "t.h"

static int
parse(const char *text, struct config *c, char *err, size_t errlen)
{
	config_defaults(c);
	return config_parse(c, text, strlen(text), "t.conf", err, errlen);
}

static void
test_keywords(void)
{
	struct config c;
	char err[256];
	const char *text =
	    "# comment\n"
	    "host broker.example   # trailing comment\n"
	    "\tport 8883\n"
	    "prefix turq/hive\n"
	    "cafile /etc/ca.pem\ncapath /etc/ssl/certs\n"
	    "certfile /c.pem\nkeyfile /k.pem\n"
	    "username turq\npassword_file /etc/hive/pw\n"
	    "keys /k\nsign_key /k/n.key\nstate_dir /s\n"
	    "window_capacity 5000\nwindow_share 300\nmax_ttl 7200\n"
	    "max_skew 30\n"
	    "node turq-18789,mini1-18889\nsecret_dir /sec\nuser hivex\n"
	    "heartbeat_interval 2\nopenclaw /opt/oc/bin/openclaw\n"
	    "openclaw_port 18789\n";
	char nodes[CONFIG_MAX_NODES][NODE_MAX + 1];

	CHECK(parse(text, &c, err, sizeof(err)) == 0);
	CHECK_STR(c.host, "broker.example");
	CHECK(c.port == 8883);
	CHECK_STR(c.prefix, "turq/hive");
	CHECK_STR(c.cafile, "/etc/ca.pem");
	CHECK_STR(c.capath, "/etc/ssl/certs");
	CHECK_STR(c.certfile, "/c.pem");
	CHECK_STR(c.keyfile, "/k.pem");
	CHECK_STR(c.username, "turq");
	CHECK_STR(c.password_file, "/etc/hive/pw");
	CHECK_STR(c.keys_dir, "/k");
	CHECK_STR(c.sign_key, "/k/n.key");
	CHECK_STR(c.state_dir, "/s");
	CHECK(c.window_capacity == 5000);
	CHECK(c.window_share == 300);
	CHECK(c.limits.max_ttl == 7200);
	CHECK(c.limits.max_skew == 30);
	CHECK(config_nodes(&c, nodes) == 2);
	CHECK_STR(nodes[0], "turq-18789");
	CHECK_STR(nodes[1], "mini1-18889");
	CHECK_STR(c.secret_dir, "/sec");
	CHECK_STR(c.user, "hivex");
	CHECK(c.heartbeat_interval == 2);
	CHECK_STR(c.openclaw, "/opt/oc/bin/openclaw");
	CHECK(c.openclaw_port == 18789);
}

static void
test_errors(void)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "port 1\nbogus 2\n", "t.conf:2: unknown keyword 'bogus'" },
		{ "port 1\n\nport 2\n", "t.conf:3: duplicate keyword 'port'" },
		{ "port 0\n", "t.conf:1: bad value for 'port' "
		    "(an integer in 1..65535)" },
		{ "port 65536\n", "t.conf:1: bad value for 'port' "
		    "(an integer in 1..65535)" },
		{ "port 12x\n", "t.conf:1: bad value for 'port' "
		    "(an integer in 1..65535)" },
		{ "port\n", "t.conf:1: expected 'keyword value'" },
		{ "host a b\n", "t.conf:1: expected 'keyword value'" },
		{ "prefix a/+/b\n", "t.conf:1: bad value for 'prefix' "
		    "(printable ASCII levels, no + or #, none empty)" },
		{ "prefix a/#\n", "t.conf:1: bad value for 'prefix' "
		    "(printable ASCII levels, no + or #, none empty)" },
		{ "prefix /a\n", "t.conf:1: bad value for 'prefix' "
		    "(printable ASCII levels, no + or #, none empty)" },
		{ "prefix a//b\n", "t.conf:1: bad value for 'prefix' "
		    "(printable ASCII levels, no + or #, none empty)" },
		{ "max_ttl 0\n", "t.conf:1: bad value for 'max_ttl' "
		    "(an integer in 1..2592000)" },
		{ "max_skew -1\n", "t.conf:1: bad value for 'max_skew' "
		    "(an integer in 0..3600)" },
		{ "window_capacity 1\n",
		    "t.conf:1: bad value for 'window_capacity' "
		    "(an integer in 16..100000000)" },
		{ "window_share -1\n",
		    "t.conf:1: bad value for 'window_share' "
		    "(an integer in 0..100000000)" },
		{ "window_capacity 64\n\nwindow_share 65\n",
		    "t.conf:3: window_share 65 is more than window_capacity 64" },
		{ "window_share 2000000\n",
		    "t.conf:1: window_share 2000000 is more than "
		    "window_capacity 1000000" },
		{ "node a,,b\n", "t.conf:1: bad value for 'node' "
		    "(1 to 8 distinct node ids, comma-separated)" },
		{ "node a,a\n", "t.conf:1: bad value for 'node' "
		    "(1 to 8 distinct node ids, comma-separated)" },
		{ "node all\n", "t.conf:1: bad value for 'node' "
		    "(1 to 8 distinct node ids, comma-separated)" },
		{ "node a,\n", "t.conf:1: bad value for 'node' "
		    "(1 to 8 distinct node ids, comma-separated)" },
		{ "node A\n", "t.conf:1: bad value for 'node' "
		    "(1 to 8 distinct node ids, comma-separated)" },
		{ "node a,b,c,d,e,f,g,h,i\n", "t.conf:1: bad value for 'node' "
		    "(1 to 8 distinct node ids, comma-separated)" },
		{ "openclaw bin/openclaw\n",
		    "t.conf:1: bad value for 'openclaw' "
		    "(an absolute path of at most 1023 bytes)" },
		{ "heartbeat_interval 0\n",
		    "t.conf:1: bad value for 'heartbeat_interval' "
		    "(an integer in 1..3600)" },
	};
	struct config c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(parse(bad[i].text, &c, err, sizeof(err)) == -1);
		CHECK_STR(err, bad[i].msg);
	}
	config_defaults(&c);
	CHECK(config_parse(&c, "port 1\0x", 8, "t.conf", err, sizeof(err)) == -1);
}

/* window_share: absent or 0, a quarter of the capacity; printed */
static void
test_window_share(void)
{
	struct config c;
	char err[256], *p = NULL;
	size_t n = 0;
	FILE *f;

	config_defaults(&c);
	CHECK(config_window_share(&c) == 250000);
	CHECK(parse("host h\n", &c, err, sizeof(err)) == 0);
	CHECK(c.window_share == 250000);
	CHECK(parse("window_capacity 64\n", &c, err, sizeof(err)) == 0);
	CHECK(c.window_share == 16);
	CHECK(parse("window_share 0\nwindow_capacity 100\n", &c, err,
	    sizeof(err)) == 0);
	CHECK(c.window_share == 25);
	CHECK(parse("window_share 64\nwindow_capacity 64\n", &c, err,
	    sizeof(err)) == 0);
	CHECK(c.window_share == 64);
	f = open_memstream(&p, &n);
	config_print(&c, f);
	fclose(f);
	CHECK(strstr(p, "window_share 64\n") != NULL);
	free(p);
}

static void
test_roundtrip(void)
{
	struct config a, b;
	char err[256], *p1 = NULL, *p2 = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *f;

	CHECK(parse("host h\nprefix x/y\nmax_skew 5\nusername u\n", &a, err,
	    sizeof(err)) == 0);
	f = open_memstream(&p1, &n1);
	config_print(&a, f);
	fclose(f);
	CHECK(parse(p1, &b, err, sizeof(err)) == 0);
	f = open_memstream(&p2, &n2);
	config_print(&b, f);
	fclose(f);
	CHECK_STR(p1, p2);
	CHECK(strstr(p1, "max_skew 5\n") != NULL);
	CHECK(strstr(p1, "host h\n") != NULL);
	free(p1);
	free(p2);
}

static void
test_file_checks(void)
{
	char path[] = "/tmp/hive-test-conf-XXXXXX";
	struct config c;
	char err[256];
	int fd = mkstemp(path);

	CHECK(fd != -1);
	CHECK(write(fd, "port 1884\n", 10) == 10);
	close(fd);
	config_defaults(&c);
	CHECK(config_load(&c, path, 1, err, sizeof(err)) == 0 && c.port == 1884);
	chmod(path, 0664);
	config_defaults(&c);
	CHECK(config_load(&c, path, 1, err, sizeof(err)) == -1);
	CHECK(strstr(err, "writable by group or others") != NULL);
	unlink(path);
	config_defaults(&c);
	CHECK(config_load(&c, path, 0, err, sizeof(err)) == 0 && c.port == 1883);
	CHECK(config_load(&c, path, 1, err, sizeof(err)) == -1);
}

/* config_check_private_dir: state_dir, log_dir, secret_dir */
static void
test_private_dir(void)
{
	char top[] = "/tmp/hive-test-priv-XXXXXX", d[64], link[64];
	char err[256];

	CHECK(mkdtemp(top) != NULL);
	snprintf(d, sizeof(d), "%s/state", top);
	snprintf(link, sizeof(link), "%s/link", top);
	CHECK(config_check_private_dir(d, 0, err, sizeof(err)) == 1);
	CHECK(mkdir(d, 0700) == 0);
	CHECK(config_check_private_dir(d, 0, err, sizeof(err)) == 0);
	chmod(d, 0750);
	CHECK(config_check_private_dir(d, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "mode 0750, open to group or others") != NULL);
	chmod(d, 0700);
	/* owned by another account than root, us or user */
	if (geteuid() == 0 && chown(d, 65534, 65534) == 0) {
		CHECK(config_check_private_dir(d, 0, err, sizeof(err)) == -1);
		CHECK(strstr(err, "owned by uid 65534") != NULL);
		CHECK(config_check_private_dir(d, 65534, err, sizeof(err)) ==
		    0);
		CHECK(chown(d, 0, 0) == 0);
	}
	/* a parent anyone may write, and one with the sticky bit */
	chmod(top, 0777);
	CHECK(config_check_private_dir(d, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "its parent") != NULL);
	chmod(top, 01777);
	CHECK(config_check_private_dir(d, 0, err, sizeof(err)) == 0);
	chmod(top, 0700);
	CHECK(symlink("state", link) == 0);
	CHECK(config_check_private_dir(link, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "symbolic link") != NULL);
	unlink(link);
	rmdir(d);
	rmdir(top);
}

int
main(void)
{
	test_keywords();
	test_errors();
	test_window_share();
	test_roundtrip();
	test_file_checks();
	test_private_dir();
	return t_done();
}

/*
 * test_policy.c - hive.policy: every keyword, every error message with
 * file:line, first-match rules, defaults, groups, socket principals,
 * the print/parse round trip, file checks, and a crash-resistance loop
 * of random and mutated inputs (the suite also runs under ASan/UBSan).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "policy.h"
#include "t.h"

static struct config cfg;
static struct policy pol;	/* large: keep it off the stack */

static void
cfg_init(void)
{
	config_defaults(&cfg);
	snprintf(cfg.nodes, sizeof(cfg.nodes), "turq-18789,mini1-18889");
	snprintf(cfg.user, sizeof(cfg.user), "nobody");
	cfg.openclaw_port = -1;		/* auto: from the node id */
}

static int
parse(const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return policy_parse(&pol, &cfg, text, strlen(text), "t.policy", err,
	    errlen);
}

/* Print to a malloc'd string. */
static char *
print_str(const struct policy *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	policy_print(p, fp);
	fclose(fp);
	return buf;
}

static const char *full_text =
    "# a comment\n"
    "max-handlers 4\n"
    "group ops turq-18789 mini1-18889   # trailing\n"
    "group guests guest-1\tguest-2\r\n"
    "rate unknown 2.5/s burst 10\n"
    "rate from @ops 50/s burst 200\n"
    "rate from guest-1 30/m burst 5\n"
    "rate from * 10/s burst 40\n"
    "deny from @guests ch command\n"
    "allow from @ops ch command action git-sync\n"
    "allow from @ops ch sync action none\n"
    "allow from * ch alert\n"
    "deny from * ch * action reboot\n"
    "socket read * \n"
    "socket send root :root 65534\n"
    "socket reply :0\n"
    "\n"
    "instance turq-18789 {\n"
    "\turl wss://127.0.0.1:18789/ws\n"
    "\tuser root\n"
    "\ttoken-file /etc/hive/token\n"
    "\tpassword-file /etc/hive/pw\n"
    "\tinject agent-turn\n"
    "\tagent main_Agent-1\n"
    "\tsession S1\n"
    "\tlater-every 5m\n"
    "}\n"
    "handler git-sync {\n"
    "\tuser root\n"
    "\tgroup root\n"
    "\ttimeout 90s\n"
    "\tgrace 500ms\n"
    "\tcpu 1m\n"
    "\tmemory 1G\n"
    "\tprocesses 10\n"
    "\tfiles 128\n"
    "\tfsize 0\n"
    "\tseccomp git\n"
    "\tnetwork yes\n"
    "\tprivate-tmp yes\n"
    "\tread-only-root yes\n"
    "\tconcurrency 2\n"
    "\tqueue 0\n"
    "\tstdout 1M\n"
    "\tstderr 0\n"
    "\talert no\n"
    "\tevery 1h\n"
    "\tjitter 5m\n"
    "\twake mini1-18889\n"
    "}\n"
    "handler disk-check {\n"
    "\ttimeout 2500ms\n"
    "}\n";

static void
test_keywords(void)
{
	const struct policy_handler *h;
	const struct policy_instance *in;
	char err[512];

	CHECK(parse(full_text, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	CHECK(pol.max_handlers == 4);
	CHECK(pol.ngroups == 2);
	CHECK_STR(pol.groups[1].name, "guests");
	CHECK(pol.groups[1].nmembers == 2);
	CHECK_STR(pol.groups[1].members[1], "guest-2");
	CHECK(pol.groups[1].line == 4);
	CHECK(pol.rate_unknown.per_sec == 2.5 && pol.rate_unknown.burst == 10);
	CHECK(pol.rate_unknown.line == 5);
	CHECK(pol.nrates == 2);
	CHECK(pol.rates[0].from.kind == WHO_GROUP);
	CHECK(pol.rates[1].per_sec == 0.5 && pol.rates[1].burst == 5);
	CHECK(pol.rate_default.per_sec == 10 && pol.rate_default.line == 8);
	CHECK(pol.nrules == 5);
	CHECK(pol.rules[0].allow == 0 && pol.rules[0].ch == CH_COMMAND);
	CHECK(pol.rules[1].act == ACT_NAME);
	CHECK_STR(pol.rules[1].action, "git-sync");
	CHECK(pol.rules[2].act == ACT_NONE && pol.rules[2].ch == CH_SYNC);
	CHECK(pol.rules[3].from.kind == WHO_ANY && pol.rules[3].ch ==
	    CH_ALERT);
	CHECK(pol.rules[4].ch == -1 && pol.rules[4].line == 13);
	CHECK(pol.sock[SOCK_READ].n == 1 && pol.sock[SOCK_READ].p[0].any);
	CHECK(pol.sock[SOCK_SEND].n == 3 && pol.sock[SOCK_SEND].p[1].is_group);
	CHECK(pol.sock[SOCK_SEND].line == 15);
	CHECK(pol.sock[SOCK_REPLY].p[0].is_group &&
	    pol.sock[SOCK_REPLY].p[0].gid == 0);
	CHECK(pol.ninstances == 2);
	in = policy_instance_for(&pol, "turq-18789");
	CHECK(in != NULL && in->line == 18);
	if (in != NULL) {
		CHECK(in->port == 0);
		CHECK_STR(in->url, "wss://127.0.0.1:18789/ws");
		CHECK_STR(in->user, "root");
		CHECK(in->uid == 0);
		CHECK_STR(in->token_file, "/etc/hive/token");
		CHECK_STR(in->password_file, "/etc/hive/pw");
		CHECK(in->inject == INJECT_AGENT_TURN);
		CHECK_STR(in->agent, "main_Agent-1");
		CHECK_STR(in->session, "S1");
		CHECK(in->later_every_s == 300);
	}
	in = policy_instance_for(&pol, "mini1-18889");
	CHECK(in != NULL && in->line == 0 && in->port == 18889);
	CHECK(in != NULL && in->later_every_s == POLICY_LATER_EVERY_S);
	CHECK(policy_instance_for(&pol, "other-1") == NULL);
	CHECK(pol.nhandlers == 2);
	h = policy_handler_for(&pol, "git-sync");
	CHECK(h->line == 28);
	CHECK_STR(h->user, "root");
	CHECK_STR(h->group, "root");
	CHECK(h->uid == 0 && h->gid == 0);
	CHECK(h->timeout_ms == 90000 && h->grace_ms == 500);
	CHECK(h->cpu_s == 60);
	CHECK(h->memory == 1LL << 30);
	CHECK(h->processes == 10 && h->files == 128 && h->fsize == 0);
	CHECK_STR(h->seccomp, "git");
	CHECK(h->network && h->private_tmp && h->read_only_root);
	CHECK(h->concurrency == 2 && h->queue == 0);
	CHECK(h->stdout_max == 1 << 20 && h->stderr_max == 0);
	CHECK(h->alert == 0);
	CHECK(h->every_s == 3600 && h->jitter_s == 300);
	CHECK_STR(h->wake, "mini1-18889");
	h = policy_handler_for(&pol, "disk-check");
	CHECK(h->gid == getpwnam("nobody")->pw_gid);
	CHECK(h->timeout_ms == 2500 && h->cpu_s == 3);	/* rounded up */
	CHECK_STR(h->wake, "turq-18789");
	CHECK_STR(h->user, "nobody");
	CHECK_STR(h->group, "");
	policy_free(&pol);
	CHECK(pol.rules == NULL && pol.nrules == 0);
}

static void
test_defaults(void)
{
	const struct policy_handler *h;
	struct passwd *pw = getpwnam("nobody");
	char err[256];

	CHECK(parse("", err, sizeof(err)) == 0);
	CHECK(pol.max_handlers == 8);
	CHECK(pol.rate_unknown.unknown && pol.rate_unknown.per_sec == 5 &&
	    pol.rate_unknown.burst == 20 && pol.rate_unknown.line == 0);
	CHECK(pol.rate_default.per_sec == 20 && pol.rate_default.burst == 100);
	CHECK(policy_rate_for(&pol, NULL) == &pol.rate_unknown);
	CHECK(policy_rate_for(&pol, "x") == &pol.rate_default);
	CHECK(pol.ninstances == 2);
	CHECK(pol.instances[0].port == 18789);
	CHECK_STR(pol.instances[1].node, "mini1-18889");
	CHECK_STR(pol.instances[1].user, "nobody");
	CHECK(pw != NULL && pol.instances[1].uid == pw->pw_uid);
	CHECK(pol.instances[1].inject == INJECT_EVENT);
	CHECK_STR(pol.instances[1].session, "hive");
	h = policy_handler_for(&pol, "anything");
	CHECK(h != NULL && h->line == 0);
	CHECK_STR(h->user, "nobody");
	CHECK(h->timeout_ms == 30000 && h->grace_ms == 2000 && h->cpu_s == 30);
	CHECK(h->memory == 512LL << 20 && h->processes == 64 &&
	    h->files == 64 && h->fsize == 16LL << 20);
	CHECK_STR(h->seccomp, "default");
	CHECK(!h->network && !h->private_tmp && !h->read_only_root);
	CHECK(h->concurrency == 1 && h->queue == 8);
	CHECK(h->stdout_max == 64 << 10 && h->stderr_max == 8 << 10);
	CHECK(h->alert == 1 && h->every_s == 0 && h->jitter_s == 0);
	CHECK_STR(h->wake, "");
	/* group before user: the group stays */
	CHECK(parse("handler a {\ngroup root\nuser nobody\n}\n", err,
	    sizeof(err)) == 0);
	h = policy_handler_for(&pol, "a");
	CHECK(h->gid == 0 && h->uid == pw->pw_uid);
	policy_free(&pol);
	/* openclaw_port 0: no port; a fixed openclaw_port: that one */
	cfg.openclaw_port = 0;
	CHECK(parse("", err, sizeof(err)) == 0 && pol.instances[0].port == 0);
	cfg.openclaw_port = 9000;
	CHECK(parse("", err, sizeof(err)) == 0 && pol.instances[1].port ==
	    9000);
	cfg.openclaw_port = -1;
	policy_free(&pol);
}

static void
verdict(const char *from, enum envelope_ch ch, const char *action,
    int allow, const char *why)
{
	struct policy_verdict v;

	policy_check(&pol, from, ch, action, &v);
	CHECK(v.allow == allow);
	CHECK_STR(v.why, why);
}

static void
test_check(void)
{
	char err[256];
	const char *text =
	    "group ops turq-18789 mini1-18889\n"
	    "group guests guest-1 turq-18789\n"
	    "deny from @guests ch command\n"
	    "allow from @ops ch command action git-sync\n"
	    "allow from @ops ch sync action none\n"
	    "deny from mini1-18889 ch heartbeat\n"
	    "allow from * ch command action ping\n"
	    "deny from * ch * action reboot\n"
	    "allow from * ch *\n";

	CHECK(parse(text, err, sizeof(err)) == 0);
	/* first match wins: turq is in both groups, guests comes first */
	verdict("turq-18789", CH_COMMAND, "git-sync", 0,
	    "hive.policy:3: deny from @guests ch command");
	verdict("mini1-18889", CH_COMMAND, "git-sync", 1,
	    "hive.policy:4: allow from @ops ch command action git-sync");
	verdict("mini1-18889", CH_COMMAND, "other", 1,
	    "hive.policy:9: allow from * ch *");
	verdict("mini1-18889", CH_COMMAND, NULL, 1,
	    "hive.policy:9: allow from * ch *");
	verdict("mini1-18889", CH_SYNC, NULL, 1,
	    "hive.policy:5: allow from @ops ch sync action none");
	verdict("mini1-18889", CH_SYNC, "x", 1,
	    "hive.policy:9: allow from * ch *");
	verdict("mini1-18889", CH_HEARTBEAT, NULL, 0,
	    "hive.policy:6: deny from mini1-18889 ch heartbeat");
	verdict("stranger", CH_COMMAND, "ping", 1,
	    "hive.policy:7: allow from * ch command action ping");
	verdict("stranger", CH_SYNC, "reboot", 0,
	    "hive.policy:8: deny from * ch * action reboot");
	verdict("guest-1", CH_COMMAND, "ping", 0,
	    "hive.policy:3: deny from @guests ch command");
	/* no sender: only "*" rules can match */
	verdict(NULL, CH_COMMAND, NULL, 1, "hive.policy:9: allow from * ch *");
	policy_free(&pol);

	/* built-in defaults when nothing matches */
	CHECK(parse("allow from x ch command\n", err, sizeof(err)) == 0);
	verdict("a", CH_COMMAND, NULL, 0, "default: command needs an allow "
	    "rule");
	verdict("a", CH_SYNC, "s", 0, "default: sync needs an allow rule");
	verdict("a", CH_ALERT, NULL, 0, "default: alert needs an allow rule");
	verdict("a", CH_HEARTBEAT, NULL, 1, "default: heartbeat allowed");
	verdict("a", CH_STATUS, NULL, 1, "default: status allowed");
	verdict("a", CH_RESPONSE, NULL, 1, "default: response allowed");
	verdict("x", CH_COMMAND, "y", 1, "hive.policy:1: allow from x ch "
	    "command");
	policy_free(&pol);
}

static void
test_rates(void)
{
	const struct policy_rate *r;
	char err[256];
	const char *text =
	    "group ops a b\n"
	    "rate from b 1/s burst 1\n"
	    "rate from * 7/s burst 8\n"
	    "rate from @ops 0.01/s burst 2\n"
	    "rate from c 100000/m burst 1000000\n";

	CHECK(parse(text, err, sizeof(err)) == 0);
	r = policy_rate_for(&pol, "b");
	CHECK(r->line == 2 && r->per_sec == 1);
	r = policy_rate_for(&pol, "a");
	CHECK(r->line == 4 && r->per_sec == 0.01 && r->burst == 2);
	r = policy_rate_for(&pol, "c");
	CHECK(r->line == 5 && r->burst == 1000000);
	r = policy_rate_for(&pol, "z");	/* "rate from *" is the fallback */
	CHECK(r == &pol.rate_default && r->line == 3 && r->per_sec == 7);
	CHECK(policy_rate_for(&pol, NULL)->per_sec == 5);
	policy_free(&pol);
}

static void
test_fmt_rate(void)
{
	static const struct { const char *in, *out; } t[] = {
		{ "20/s", "20/s" }, { "0.5/s", "0.5/s" }, { "0.01/s", "0.01/s" },
		{ "1/m", "1/m" }, { "60/m", "1/s" }, { "90/m", "1.5/s" },
		{ "0.01/m", "0.01/m" }, { "100000/s", "100000/s" },
		{ "7.25/m", "7.25/m" }, { "33.33/s", "33.33/s" },
	};
	char text[128], out[32], err[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "rate unknown %s burst 1\n",
		    t[i].in);
		CHECK(parse(text, err, sizeof(err)) == 0);
		policy_fmt_rate(pol.rate_unknown.per_sec, out, sizeof(out));
		CHECK_STR(out, t[i].out);
		policy_free(&pol);
	}
}

static void
test_socket(void)
{
	struct group *gr = getgrnam("nogroup");
	gid_t sup[2] = { 4242, 0 };
	char err[256];

	CHECK(parse("", err, sizeof(err)) == 0);
	/* defaults: read anyone, send and reply root only */
	CHECK(policy_socket_allows(&pol, SOCK_READ, 1000, 1000, NULL, 0));
	CHECK(!policy_socket_allows(&pol, SOCK_SEND, 1000, 1000, NULL, 0));
	CHECK(!policy_socket_allows(&pol, SOCK_REPLY, 1000, 1000, NULL, 0));
	CHECK(policy_socket_allows(&pol, SOCK_SEND, 0, 0, NULL, 0));
	policy_free(&pol);

	CHECK(gr != NULL);
	CHECK(parse("socket read 1000 :4242\n"
	    "socket send nobody :nogroup\n"
	    "socket reply :7\n", err, sizeof(err)) == 0);
	CHECK(policy_socket_allows(&pol, SOCK_READ, 1000, 1, NULL, 0));
	CHECK(!policy_socket_allows(&pol, SOCK_READ, 1001, 1, NULL, 0));
	CHECK(policy_socket_allows(&pol, SOCK_READ, 1001, 4242, NULL, 0));
	CHECK(policy_socket_allows(&pol, SOCK_READ, 1001, 1, sup, 2));
	CHECK(!policy_socket_allows(&pol, SOCK_READ, 1001, 1, sup + 1, 1));
	CHECK(policy_socket_allows(&pol, SOCK_SEND, 65534, 1, NULL, 0));
	if (gr != NULL) {
		gid_t g = gr->gr_gid;

		CHECK(policy_socket_allows(&pol, SOCK_SEND, 5, g, NULL, 0));
		CHECK(policy_socket_allows(&pol, SOCK_SEND, 5, 1, &g, 1));
	}
	CHECK(!policy_socket_allows(&pol, SOCK_SEND, 5, 1, sup, 2));
	CHECK(policy_socket_allows(&pol, SOCK_REPLY, 9, 7, NULL, 0));
	CHECK(!policy_socket_allows(&pol, SOCK_REPLY, 7, 9, NULL, 0));
	/* uid 0 is always allowed */
	CHECK(policy_socket_allows(&pol, SOCK_REPLY, 0, 9, NULL, 0));
	CHECK(!policy_socket_allows(&pol, SOCK__COUNT, 7, 7, NULL, 0));
	policy_free(&pol);
}

static void
test_roundtrip_one(const char *text)
{
	char err[512], *a, *b;

	CHECK(parse(text, err, sizeof(err)) == 0);
	if (err[0] != '\0')
		fprintf(stderr, "  %s\n", err);
	a = print_str(&pol);
	policy_free(&pol);
	CHECK(a != NULL && parse(a, err, sizeof(err)) == 0);
	if (err[0] != '\0')
		fprintf(stderr, "  reparse: %s\n", err);
	b = print_str(&pol);
	policy_free(&pol);
	CHECK(a != NULL && b != NULL);
	if (a != NULL && b != NULL)
		CHECK_STR(a, b);
	free(a);
	free(b);
}

static void
test_roundtrip(void)
{
	char err[256], *a;

	test_roundtrip_one(full_text);
	test_roundtrip_one("");
	test_roundtrip_one("rate from x 1/m burst 1\nrate unknown 90/m burst "
	    "3\nhandler a { \n timeout 61s\n every 10s\n jitter 0s\n}\n");
	test_roundtrip_one("instance mini1-18889 {\nport 1\n}\n");
	/* what the printout says */
	CHECK(parse(full_text, err, sizeof(err)) == 0);
	a = print_str(&pol);
	CHECK(a != NULL && strstr(a, "\nmax-handlers 4\nrate unknown 2.5/s "
	    "burst 10\nrate from * 10/s burst 40\ngroup ops") != NULL);
	CHECK(a != NULL && strstr(a, "socket read *\nsocket send root :root "
	    "65534\nsocket reply :0\n") != NULL);
	CHECK(a != NULL && strstr(a, "\ttimeout 90s\n\tgrace 500ms\n\tcpu 1m\n"
	    "\tmemory 1G\n") != NULL);
	CHECK(a != NULL && strstr(a, "instance mini1-18889 {\n\tport 18889\n"
	    "\tuser nobody\n\tinject event\n}\n") != NULL);
	CHECK(a != NULL && strstr(a, "#\ttimeout 30s\n") != NULL);
	free(a);
	policy_free(&pol);
}

static void
test_errors(void)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "\n\nbogus 1\n", "t.policy:3: unknown keyword 'bogus'" },
		{ "Allow from * ch *\n", "t.policy:1: unknown keyword 'Allow'" },
		{ "a\033[2J\n", "t.policy:1: unknown keyword 'a?[2J'" },
		{ "x\0y", "t.policy:1: NUL byte" },
		{ "\n\nx\0y", "t.policy:3: NUL byte" },
		/* group */
		{ "group ops\n", "t.policy:1: expected 'group NAME NODE "
		    "[NODE...]'" },
		{ "group Ops a\n", "t.policy:1: bad group name 'Ops'" },
		{ "group -ops a\n", "t.policy:1: bad group name '-ops'" },
		{ "group a a\ngroup a b\n", "t.policy:2: duplicate group 'a' "
		    "(first at line 1)" },
		{ "group a B\n", "t.policy:1: bad node id 'B'" },
		{ "group a all\n", "t.policy:1: bad node id 'all'" },
		{ "group a x y x\n", "t.policy:1: node 'x' listed twice in "
		    "group 'a'" },
		/* rules */
		{ "allow from *\n", "t.policy:1: expected 'allow from SENDER "
		    "ch CH [action ACTION]'" },
		{ "deny to * ch x\n", "t.policy:1: expected 'deny from SENDER "
		    "ch CH [action ACTION]'" },
		{ "allow from * ch command act x\n", "t.policy:1: expected "
		    "'allow from SENDER ch CH [action ACTION]'" },
		{ "allow from @ops ch command\n", "t.policy:1: unknown group "
		    "'ops' (groups must be defined before use)" },
		{ "allow from Bad ch command\n", "t.policy:1: bad sender "
		    "'Bad'" },
		{ "allow from * ch cmd\n", "t.policy:1: unknown channel "
		    "'cmd'" },
		{ "allow from * ch alert action x\n", "t.policy:1: action "
		    "applies only to ch command, sync or *" },
		{ "allow from * ch command action X\n", "t.policy:1: bad "
		    "action 'X'" },
		{ "allow from * ch command\n\ndeny from * ch command\n",
		    "t.policy:3: duplicate rule (first at line 1)" },
		{ "allow from * ch * action none\ndeny from * ch * action "
		    "none\n", "t.policy:2: duplicate rule (first at line 1)" },
		/* rates */
		{ "rate from a 1/s\n", "t.policy:1: expected 'rate from "
		    "SENDER N/s burst B' or 'rate unknown N/s burst B'" },
		{ "rate unknown 1/s bust 1\n", "t.policy:1: expected 'rate "
		    "from SENDER N/s burst B' or 'rate unknown N/s burst B'" },
		{ "rate a 1/s burst 1\n", "t.policy:1: expected 'rate from "
		    "SENDER N/s burst B' or 'rate unknown N/s burst B'" },
		{ "rate from a 1/h burst 1\n", "t.policy:1: bad rate '1/h' "
		    "(0.01..100000 per s or m, as 20/s or 30/m)" },
		{ "rate from a 0.001/s burst 1\n", "t.policy:1: bad rate "
		    "'0.001/s' (0.01..100000 per s or m, as 20/s or 30/m)" },
		{ "rate from a 0/s burst 1\n", "t.policy:1: bad rate '0/s' "
		    "(0.01..100000 per s or m, as 20/s or 30/m)" },
		{ "rate from a 100000.01/s burst 1\n", "t.policy:1: bad rate "
		    "'100000.01/s' (0.01..100000 per s or m, as 20/s or "
		    "30/m)" },
		{ "rate from a 1/s burst 0\n", "t.policy:1: bad burst '0' "
		    "(1..1000000)" },
		{ "rate from a 1/s burst 1000001\n", "t.policy:1: bad burst "
		    "'1000001' (1..1000000)" },
		{ "rate unknown 1/s burst 1\nrate unknown 2/s burst 1\n",
		    "t.policy:2: duplicate rate for 'unknown' (first at line "
		    "1)" },
		{ "rate from * 1/s burst 1\nrate from * 2/s burst 1\n",
		    "t.policy:2: duplicate rate for '*' (first at line 1)" },
		{ "group g a\nrate from @g 1/s burst 1\nrate from @g 2/s "
		    "burst 1\n", "t.policy:3: duplicate rate for '@g' (first "
		    "at line 2)" },
		{ "rate from a 1/s burst 1\nrate from a 2/s burst 1\n",
		    "t.policy:2: duplicate rate for 'a' (first at line 1)" },
		/* max-handlers */
		{ "max-handlers\n", "t.policy:1: expected 'max-handlers N'" },
		{ "max-handlers 0\n", "t.policy:1: bad max-handlers '0' "
		    "(1..256)" },
		{ "max-handlers 257\n", "t.policy:1: bad max-handlers '257' "
		    "(1..256)" },
		{ "max-handlers 2\nmax-handlers 2\n", "t.policy:2: duplicate "
		    "max-handlers (first at line 1)" },
		/* socket */
		{ "socket read\n", "t.policy:1: expected 'socket "
		    "read|send|reply PRINCIPAL [PRINCIPAL...]'" },
		{ "socket write root\n", "t.policy:1: unknown socket verb "
		    "'write' (read, send or reply)" },
		{ "socket send root\nsocket send root\n", "t.policy:2: "
		    "duplicate socket send (first at line 1)" },
		{ "socket send no-such-user-xyz\n", "t.policy:1: unknown user "
		    "'no-such-user-xyz'" },
		{ "socket send :no-such-group-xyz\n", "t.policy:1: unknown "
		    "group 'no-such-group-xyz'" },
		{ "socket send a/b\n", "t.policy:1: bad principal 'a/b'" },
		{ "socket send :\n", "t.policy:1: bad principal ':'" },
		{ "socket send root 0\n", "t.policy:1: principal '0' listed "
		    "twice" },
		/* blocks */
		{ "}\n", "t.policy:1: '}' without a block" },
		{ "handler a {\n} x\n", "t.policy:2: '}' must be alone on its "
		    "line" },
		{ "handler a {\nhandler b {\n", "t.policy:2: blocks do not "
		    "nest (block opened at line 1)" },
		{ "handler a {\n\ntimeout 1s\n", "t.policy:3: unterminated "
		    "block (opened at line 1)" },
		{ "handler a\n", "t.policy:1: expected 'handler ACTION {'" },
		{ "handler a {x\n", "t.policy:1: expected 'handler ACTION {'" },
		{ "instance turq-18789\n", "t.policy:1: expected 'instance "
		    "NODE {'" },
		{ "handler A {\n}\n", "t.policy:1: bad action 'A'" },
		{ "handler a {\n}\nhandler a {\n}\n", "t.policy:3: duplicate "
		    "handler 'a' (first at line 1)" },
		{ "instance other-1 {\n}\n", "t.policy:1: 'other-1' is not a "
		    "local node (hive.conf 'node')" },
		{ "instance turq-18789 {\n}\ninstance turq-18789 {\n}\n",
		    "t.policy:3: duplicate instance 'turq-18789' (first at "
		    "line 1)" },
		/* handler keys */
		{ "handler a {\nbogus 1\n}\n", "t.policy:2: unknown handler "
		    "key 'bogus'" },
		{ "handler a {\ntimeout\n}\n", "t.policy:2: 'timeout' expects "
		    "one value" },
		{ "handler a {\ntimeout 1s 2s\n}\n", "t.policy:2: 'timeout' "
		    "expects one value" },
		{ "handler a {\ntimeout 1s\ntimeout 2s\n}\n", "t.policy:3: "
		    "duplicate key 'timeout' (first at line 2)" },
		{ "handler a {\ntimeout 10\n}\n", "t.policy:2: 'timeout' "
		    "expects a duration with a unit (ms, s, m, h, d) in "
		    "100ms..1h" },
		{ "handler a {\ntimeout 99ms\n}\n", "t.policy:2: 'timeout' "
		    "99ms is below the minimum, 100ms" },
		{ "handler a {\ntimeout 61m\n}\n", "t.policy:2: 'timeout' "
		    "61m is above the maximum, 1h" },
		{ "handler a {\ngrace 61s\n}\n", "t.policy:2: 'grace' "
		    "61s is above the maximum, 1m" },
		{ "handler a {\ncpu 1500ms\n}\n", "t.policy:2: 'cpu' expects "
		    "a duration with a unit (ms, s, m, h, d), whole seconds, "
		    "in 1s..1d" },
		{ "handler a {\nevery 9s\n}\n", "t.policy:2: 'every' "
		    "9s is below the minimum, 10s" },
		{ "handler a {\nevery 8d\n}\n", "t.policy:2: 'every' "
		    "8d is above the maximum, 7d" },
		{ "handler a {\nmemory 1023K\n}\n", "t.policy:2: 'memory' "
		    "1023K is below the minimum, 1M" },
		{ "handler a {\nmemory 65G\n}\n", "t.policy:2: 'memory' "
		    "65G is above the maximum, 64G" },
		{ "handler a {\nmemory 1T\n}\n", "t.policy:2: 'memory' "
		    "expects a size (bytes, or K, M, G) in 1M..64G" },
		{ "handler a {\nfsize -1\n}\n", "t.policy:2: 'fsize' "
		    "expects a size (bytes, or K, M, G) in 0..64G" },
		{ "handler a {\nstdout 1023\n}\n", "t.policy:2: 'stdout' "
		    "1023 is below the minimum, 1K" },
		{ "handler a {\nstderr 2M\n}\n", "t.policy:2: 'stderr' "
		    "2M is above the maximum, 1M" },
		{ "handler a {\nprocesses 0\n}\n", "t.policy:2: 'processes' "
		    "expects an integer in 1..4096" },
		{ "handler a {\nfiles 3\n}\n", "t.policy:2: 'files' expects "
		    "an integer in 4..65536" },
		{ "handler a {\nconcurrency 65\n}\n", "t.policy:2: "
		    "'concurrency' expects an integer in 1..64" },
		{ "handler a {\nqueue 1025\n}\n", "t.policy:2: 'queue' "
		    "expects an integer in 0..1024" },
		{ "handler a {\nnetwork true\n}\n", "t.policy:2: 'network' "
		    "expects yes or no" },
		{ "handler a {\nprivate-tmp 1\n}\n", "t.policy:2: "
		    "'private-tmp' expects yes or no" },
		{ "handler a {\nread-only-root Yes\n}\n", "t.policy:2: "
		    "'read-only-root' expects yes or no" },
		{ "handler a {\nalert maybe\n}\n", "t.policy:2: 'alert' "
		    "expects yes or no" },
		{ "handler a {\nuser no-such-user-xyz\n}\n", "t.policy:2: "
		    "unknown user 'no-such-user-xyz'" },
		{ "handler a {\ngroup no-such-group-xyz\n}\n", "t.policy:2: "
		    "unknown group 'no-such-group-xyz'" },
		{ "handler a {\nseccomp Big\n}\n", "t.policy:2: bad seccomp "
		    "profile name 'Big'" },
		{ "handler a {\nwake other-1\n}\n", "t.policy:2: 'other-1' is "
		    "not a local node (hive.conf 'node')" },
		{ "handler a {\njitter 1s\n}\n", "t.policy:2: jitter without "
		    "every" },
		{ "handler a {\nevery 10s\njitter 11s\n}\n", "t.policy:3: "
		    "jitter longer than every" },
		{ "handler a {\njitter 1500ms\n}\n", "t.policy:2: 'jitter' "
		    "expects a duration with a unit (ms, s, m, h, d), whole "
		    "seconds, in 0s..7d" },
		/* instance keys */
		{ "instance turq-18789 {\nbogus 1\n}\n", "t.policy:2: unknown "
		    "instance key 'bogus'" },
		{ "instance turq-18789 {\nport 0\n}\n", "t.policy:2: 'port' "
		    "expects an integer in 1..65535" },
		{ "instance turq-18789 {\nport 1\nurl ws://x\n}\n",
		    "t.policy:3: port and url are mutually exclusive" },
		{ "instance turq-18789 {\nurl ws://x\nport 1\n}\n",
		    "t.policy:3: port and url are mutually exclusive" },
		{ "instance turq-18789 {\nurl http://x\n}\n", "t.policy:2: bad "
		    "url (ws:// or wss:// then 1..1000 printable characters)" },
		{ "instance turq-18789 {\nurl ws://\n}\n", "t.policy:2: bad "
		    "url (ws:// or wss:// then 1..1000 printable characters)" },
		{ "instance turq-18789 {\nuser no-such-user-xyz\n}\n",
		    "t.policy:2: unknown user 'no-such-user-xyz'" },
		{ "instance turq-18789 {\ntoken-file rel/path\n}\n",
		    "t.policy:2: 'token-file' expects an absolute path" },
		{ "instance turq-18789 {\npassword-file x\n}\n",
		    "t.policy:2: 'password-file' expects an absolute path" },
		{ "instance turq-18789 {\ninject wake\n}\n", "t.policy:2: "
		    "'inject' expects event or agent-turn" },
		{ "instance turq-18789 {\ninject agent-turn\nagent a.b\n}\n",
		    "t.policy:3: bad agent id 'a.b' ([A-Za-z0-9_-], 1..63)" },
		{ "instance turq-18789 {\ninject agent-turn\nagent a\n"
		    "session s/1\n}\n", "t.policy:4: bad session id 's/1' "
		    "([A-Za-z0-9_-], 1..63)" },
		{ "instance turq-18789 {\n\ninject agent-turn\n}\n",
		    "t.policy:3: inject agent-turn needs an agent" },
		{ "instance turq-18789 {\nagent main\n}\n", "t.policy:2: "
		    "agent needs inject agent-turn" },
		{ "instance turq-18789 {\ninject event\nsession s\n}\n",
		    "t.policy:3: session needs inject agent-turn" },
		{ "instance turq-18789 {\nlater-every 1h\n}\n", "t.policy:2: "
		    "later-every needs inject agent-turn" },
		{ "instance turq-18789 {\ninject agent-turn\nagent a\n"
		    "later-every 500ms\n}\n", "t.policy:4: 'later-every' "
		    "expects a duration with a unit (ms, s, m, h, d), whole "
		    "seconds, in 1s..1d" },
	};
	char err[512];
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the NUL cases carry their length in the literal */
		len = strlen(bad[i].text);
		if (strcmp(bad[i].msg + strlen(bad[i].msg) - 8, "NUL byte") == 0)
			len += 2;
		err[0] = '\0';
		CHECK(policy_parse(&pol, &cfg, bad[i].text, len, "t.policy",
		    err, sizeof(err)) == -1);
		CHECK_STR(err, bad[i].msg);
		/* on error the policy is left empty */
		CHECK(pol.rules == NULL && pol.handlers == NULL &&
		    pol.nrules == 0 && pol.ninstances == 0);
	}
}

/* Errors that need a generated text: limits, long names, config. */
static void
test_errors_generated(void)
{
	char *text, err[512];
	size_t i, n;

	if ((text = malloc(256 * 1024)) == NULL)
		return;
	/* 65 members */
	n = (size_t)snprintf(text, 64, "group g");
	for (i = 0; i < 65; i++)
		n += (size_t)snprintf(text + n, 32, " n%zu", i);
	snprintf(text + n, 4, "\n");
	CHECK(parse(text, err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy:1: too many members (at most 64)");
	/* too many words */
	n = (size_t)snprintf(text, 64, "group g");
	for (i = 0; i < 80; i++)
		n += (size_t)snprintf(text + n, 32, " n%zu", i);
	CHECK(parse(text, err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy:1: too many words on one line");
	/* 65 groups */
	for (i = 0, n = 0; i <= POLICY_MAX_GROUPS; i++)
		n += (size_t)snprintf(text + n, 64, "group g%zu a\n", i);
	CHECK(parse(text, err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy:65: too many groups (at most 64)");
	/* 1025 rules */
	for (i = 0, n = 0; i <= POLICY_MAX_RULES; i++)
		n += (size_t)snprintf(text + n, 64, "allow from n%zu ch sync\n",
		    i);
	CHECK(parse(text, err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy:1025: too many rules (at most 1024)");
	/* exactly 1024 rules parse, and the last one decides */
	text[n - strlen("allow from n1024 ch sync\n")] = '\0';
	CHECK(parse(text, err, sizeof(err)) == 0 && pol.nrules == 1024);
	{
		struct policy_verdict v;

		policy_check(&pol, "n1023", CH_SYNC, NULL, &v);
		CHECK(v.allow && v.line == 1024);
	}
	policy_free(&pol);
	/* 257 rates */
	for (i = 0, n = 0; i <= POLICY_MAX_RATES; i++)
		n += (size_t)snprintf(text + n, 64, "rate from n%zu 1/s burst "
		    "1\n", i);
	CHECK(parse(text, err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy:257: too many rates (at most 256)");
	/* 129 handlers */
	for (i = 0, n = 0; i <= POLICY_MAX_HANDLERS; i++)
		n += (size_t)snprintf(text + n, 64, "handler h%zu {\n}\n", i);
	CHECK(parse(text, err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy:257: too many handlers (at most 128)");
	/* 33 principals */
	n = (size_t)snprintf(text, 64, "socket read");
	for (i = 0; i <= POLICY_MAX_PRINCIPALS; i++)
		n += (size_t)snprintf(text + n, 32, " %zu", i + 100);
	snprintf(text + n, 4, "\n");
	CHECK(parse(text, err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy:1: too many principals (at most 32)");
	/* a url of 1000 characters is fine, 1001 is not */
	n = (size_t)snprintf(text, 64, "instance turq-18789 {\nurl ws://");
	memset(text + n, 'x', 1000);
	snprintf(text + n + 1000, 8, "\n}\n");
	CHECK(parse(text, err, sizeof(err)) == 0);
	policy_free(&pol);
	memset(text + n, 'x', 1001);
	snprintf(text + n + 1001, 8, "\n}\n");
	CHECK(parse(text, err, sizeof(err)) == -1);
	free(text);

	/* from hive.conf: a user that does not exist, a port auto misses */
	snprintf(cfg.user, sizeof(cfg.user), "no-such-user-xyz");
	CHECK(parse("", err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy: instance turq-18789: unknown user "
	    "'no-such-user-xyz' (hive.conf 'user')");
	CHECK(parse("instance turq-18789 {\n}\n", err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy:1: instance turq-18789: unknown user "
	    "'no-such-user-xyz' (hive.conf 'user')");
	CHECK(parse("instance turq-18789 {\nuser root\n}\ninstance "
	    "mini1-18889 {\nuser root\n}\n", err, sizeof(err)) == 0);
	policy_free(&pol);
	snprintf(cfg.user, sizeof(cfg.user), "nobody");
	snprintf(cfg.nodes, sizeof(cfg.nodes), "noport");
	CHECK(parse("", err, sizeof(err)) == -1);
	CHECK_STR(err, "t.policy: instance noport: openclaw_port auto but "
	    "the node id has no -PORT suffix");
	CHECK(parse("instance noport {\nurl ws://h:1\n}\n", err,
	    sizeof(err)) == 0);
	policy_free(&pol);
	cfg_init();
}

/* ---- files ---------------------------------------------------------- */

static char dir[64];

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return;
	if (write(fd, text, strlen(text)) < 0)
		fprintf(stderr, "write %s failed\n", path);
	fchmod(fd, mode);
	close(fd);
}

/* Who a handler may not be, refused at the block's line. */
static void
test_load_identities(char *err, size_t errlen, char *want, size_t wantlen)
{
	static const struct {
		const char *policy, *why;
	} cases[] = {
		{ "max-handlers 3\nhandler a {\n seccomp strict\n user root\n}\n",
		  "2: handler a: user 'root' runs as root" },
		{ "handler b {\n seccomp strict\n user daemon\n}\n",
		  "1: handler b: user 'daemon' runs as uid 1, hive.conf's user "
		  "'daemon' (the router's)" },
		{ "instance turq-18789 {\n user bin\n}\n\nhandler c {\n"
		  " seccomp strict\n user bin\n}\n",
		  "5: handler c: user 'bin' runs as uid 2, the user of instance "
		  "turq-18789 (its injector's)" },
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file("hive.policy", cases[i].policy, 0644);
		CHECK(policy_load(&pol, &cfg, err, errlen) == -1);
		snprintf(want, wantlen, "%s/hive.policy:%s; a handler needs an "
		    "account of its own", dir, cases[i].why);
		CHECK_STR(err, want);
	}
	/* the same account for both is fine with another daemon user */
	write_file("hive.policy", cases[1].policy, 0644);
	snprintf(cfg.user, sizeof(cfg.user), "bin");
	CHECK(policy_load(&pol, &cfg, err, errlen) == 0);
	CHECK(policy_identity_refused(&pol, &cfg, 2, buf, sizeof(buf)) == 1);
	CHECK(policy_identity_refused(&pol, &cfg, 0, buf, sizeof(buf)) == 1);
	CHECK(policy_identity_refused(&pol, &cfg, 65534, buf, sizeof(buf)) ==
	    0);
	policy_free(&pol);
	/* policy_parse (tests, fuzzing) knows no system: not checked */
	CHECK(parse("handler a {\nuser root\n}\n", err, errlen) == 0);
	policy_free(&pol);
	snprintf(cfg.user, sizeof(cfg.user), "daemon");
}

static void
test_load(void)
{
	char err[512], want[512], path[256];

	snprintf(dir, sizeof(dir), "/tmp/test_policy.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(cfg.policy_dir, sizeof(cfg.policy_dir), "%s", dir);
	/* handlers run as nobody by default: the daemon is someone else */
	snprintf(cfg.user, sizeof(cfg.user), "daemon");
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s/hive.policy: no policy file", dir);
	CHECK_STR(err, want);

	write_file("hive.policy", "max-handlers 3\n", 0644);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == 0);
	CHECK(pol.max_handlers == 3);
	policy_free(&pol);

	write_file("hive.policy", "max-handlers 3\n", 0664);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s/hive.policy: writable by group or "
	    "others; refusing", dir);
	CHECK_STR(err, want);
	write_file("hive.policy", "max-handlers 3\n", 0646);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	CHECK_STR(err, want);

	/* errors name the path given */
	write_file("hive.policy", "max-handlers 3\nnope\n", 0600);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s/hive.policy:2: unknown keyword "
	    "'nope'", dir);
	CHECK_STR(err, want);

	/* seccomp profiles are checked by policy_load only */
	write_file("hive.policy", "handler a {\n seccomp strict\n}\n", 0600);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s/hive.policy:2: seccomp profile "
	    "'strict': %s/seccomp/strict is not a regular file", dir, dir);
	CHECK_STR(err, want);
	CHECK(parse("handler a {\n seccomp strict\n}\n", err, sizeof(err)) ==
	    0);
	policy_free(&pol);
	snprintf(path, sizeof(path), "%s/seccomp", dir);
	mkdir(path, 0755);
	write_file("seccomp/strict", "", 0644);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == 0);
	policy_free(&pol);
	/* a block without a seccomp key needs the "default" profile */
	write_file("hive.policy", "\nhandler a {\n}\n", 0600);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s/hive.policy:2: seccomp profile "
	    "'default': %s/seccomp/default is not a regular file", dir, dir);
	CHECK_STR(err, want);
	write_file("seccomp/default", "", 0644);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == 0);
	policy_free(&pol);
	snprintf(path, sizeof(path), "%s/seccomp/default", dir);
	unlink(path);

	/* a directory, a symlink to a file (followed), too large */
	snprintf(path, sizeof(path), "%s/hive.policy", dir);
	unlink(path);
	mkdir(path, 0755);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s/hive.policy: not a regular file",
	    dir);
	CHECK_STR(err, want);
	rmdir(path);
	write_file("real", "max-handlers 5\n", 0644);
	CHECK(symlink("real", path) == 0);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s/hive.policy: a symbolic link; "
	    "refusing", dir);
	CHECK_STR(err, want);
	unlink(path);
	/* a FIFO: refused at once, not waited on for a writer */
	CHECK(mkfifo(path, 0644) == 0);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s/hive.policy: not a regular file",
	    dir);
	CHECK_STR(err, want);
	unlink(path);
	/* policy_dir itself: as keys/ and handlers.d/ */
	write_file("hive.policy", "max-handlers 3\n", 0644);
	chmod(dir, 0777);
	CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s: not owned by root (or us), or "
	    "group/world writable; refusing", dir);
	CHECK_STR(err, want);
	chmod(dir, 0700);
	test_load_identities(err, sizeof(err), want, sizeof(want));
	unlink(path);
	{
		char *big = malloc(POLICY_FILE_MAX + 2);

		if (big != NULL) {
			memset(big, '#', POLICY_FILE_MAX + 1);
			big[POLICY_FILE_MAX + 1] = '\0';
			write_file("hive.policy", big, 0644);
			free(big);
			CHECK(policy_load(&pol, &cfg, err, sizeof(err)) == -1);
			snprintf(want, sizeof(want), "%s/hive.policy: too "
			    "large", dir);
			CHECK_STR(err, want);
		}
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/seccomp/strict", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/seccomp", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/real", dir);
	unlink(path);
	rmdir(dir);
	cfg_init();
}

/* ---- crash resistance ----------------------------------------------- */

static const char *const fuzz_words[] = {
	"allow", "deny", "from", "ch", "action", "none", "*", "@ops",
	"@nope", "group", "ops", "turq-18789", "mini1-18889", "rate",
	"unknown", "burst", "1/s", "0.5/m", "100000/s", "max-handlers", "8",
	"socket", "read", "send", "reply", "root", ":root", "0", "handler",
	"instance", "{", "}", "timeout", "1s", "every", "10s", "jitter",
	"wake", "port", "url", "ws://x", "inject", "agent-turn", "agent",
	"session", "later-every", "user", "nobody", "memory", "1G", "command",
	"sync",
	"heartbeat", "#", "\n", "\n", "\n", "\t", "\r", "git-sync",
};

static unsigned long long fuzz_state = 0x9e3779b97f4a7c15ULL;

static unsigned
fuzz_rand(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return (unsigned)(fuzz_state >> 11);
}

static int fuzz_parsed;

static void
fuzz_one(const char *text, size_t len)
{
	char err[256];
	char *a;

	if (policy_parse(&pol, &cfg, text, len, "f", err, sizeof(err)) == 0) {
		fuzz_parsed++;
		/* whatever parses must print and re-parse */
		a = print_str(&pol);
		policy_free(&pol);
		CHECK(a != NULL && policy_parse(&pol, &cfg, a, strlen(a), "f",
		    err, sizeof(err)) == 0);
		policy_free(&pol);
		free(a);
	} else {
		CHECK(strncmp(err, "f", 1) == 0 && pol.rules == NULL);
	}
}

/* full_text with about one line in twelve left out */
static size_t
fuzz_drop_lines(char *buf, size_t size)
{
	const char *line = full_text, *nl;
	size_t n = 0, len;

	for (; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		len = (size_t)(nl - line) + 1;
		if (fuzz_rand() % 12 == 0 || n + len >= size)
			continue;
		memcpy(buf + n, line, len);
		n += len;
	}
	return n;
}

static void
test_fuzz(void)
{
	size_t flen = strlen(full_text), n, i, j, k;
	char buf[4096];
	int fails = t_fail;

	for (i = 0; i < 3000; i++) {
		if (i % 4 == 3) {	/* the full policy, lines dropped */
			n = fuzz_drop_lines(buf, sizeof(buf));
		} else if (i % 4 == 0) {	/* random bytes */
			n = fuzz_rand() % 200;
			for (j = 0; j < n; j++)
				buf[j] = (char)fuzz_rand();
		} else if (i % 4 == 1) {	/* random words */
			for (n = 0, k = fuzz_rand() % 40; k > 0; k--) {
				const char *w = fuzz_words[fuzz_rand() %
				    (sizeof(fuzz_words) / sizeof(fuzz_words[0]))];

				if (n + strlen(w) + 2 >= sizeof(buf))
					break;
				n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				    "%s%s", w, fuzz_rand() % 2 ? " " : "");
			}
		} else {		/* the full policy, mutated */
			memcpy(buf, full_text, flen);
			n = flen;
			for (k = fuzz_rand() % 6 + 1; k > 0; k--) {
				j = fuzz_rand() % n;
				switch (fuzz_rand() % 3) {
				case 0:
					buf[j] = (char)fuzz_rand();
					break;
				case 1:		/* delete */
					memmove(buf + j, buf + j + 1, n - j - 1);
					n--;
					break;
				default:	/* duplicate a span */
					if (n + 40 < sizeof(buf)) {
						memmove(buf + j + 40, buf + j,
						    n - j);
						n += 40;
					}
				}
			}
		}
		fuzz_one(buf, n);
	}
	CHECK(t_fail == fails);
	/* enough inputs parsed for the round trip to have been exercised */
	CHECK(fuzz_parsed > 200);
	printf("fuzz: %d of 3000 inputs parsed\n", fuzz_parsed);
}

int
main(void)
{
	cfg_init();
	test_keywords();
	test_defaults();
	test_check();
	test_rates();
	test_fmt_rate();
	test_socket();
	test_roundtrip();
	test_errors();
	test_errors_generated();
	test_load();
	test_fuzz();
	return t_done();
}

/*
 * policy.c - the hive.policy parser, the decisions made from it, and
 * its normalised printout.
 *
 * Why the grammar looks like this: the file is read by auditors more
 * often than it is written, so every statement reads as an English
 * sentence ("deny from @guests ch command"), one statement per line,
 * no quoting, no includes, no variables, no nesting beyond one level
 * of "handler"/"instance" block.  A reader must never need to know
 * parser subtleties to know what a line does: hence first match wins
 * in file order (as in pf and OpenSMTPD), groups exist before they are
 * used, a second rule that can never fire is an error rather than
 * dead text, and every value has an explicit unit.  Anything unknown,
 * repeated or out of range stops the parse at the first error with
 * "file:line: why", and the daemon then refuses to start (or keeps the
 * old policy on reload): a policy that is half understood is worse
 * than none.  policy_print() writes back every effective setting,
 * defaults included, so what the daemon will do can be read without
 * knowing any default; its output parses to the same policy.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "keys.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define POLICY_MAX_WORDS	(POLICY_MAX_MEMBERS + 4)
#define POLICY_MAX_KEYS		24	/* keys of one block type */
#define POLICY_MS_S		1000LL
#define POLICY_MS_D		(86400LL * POLICY_MS_S)
#define POLICY_RATE_MIN		1LL		/* hundredths: 0.01 */
#define POLICY_RATE_MAX		10000000LL	/* hundredths: 100000 */

enum policy_block { BLK_NONE = 0, BLK_HANDLER, BLK_INSTANCE };

/* What an action without a handler block gets (policy_handler_for),
 * resolved by the last successful parse. */
static struct policy_handler	policy_static_defaults;
static int			policy_static_ready;

/* What the parser knows while it walks the file. */
struct policy_parser {
	struct policy		*p;
	const struct config	*cfg;
	const char		*name;
	int			 lineno;
	int			 check_files;	/* policy_load: seccomp/ */
	char			*err;
	size_t			 errlen;
	char			 nodes[CONFIG_MAX_NODES][NODE_MAX + 1];
	size_t			 nnodes;
	enum policy_block	 blk;
	int			 blk_line;
	void			*blk_obj;
	int			 key_line[POLICY_MAX_KEYS];
	int			 max_handlers_line;
	int			 rate_unknown_line;
	int			 rate_any_line;
	int			 sock_line[SOCK__COUNT];
};

static int
policy_err(struct policy_parser *pp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
policy_err(struct policy_parser *pp, const char *fmt, ...)
{
	char msg[512], *c;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* words from the file may hold control bytes: not on a terminal */
	for (c = msg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	if (pp->lineno > 0)
		(void)snprintf(pp->err, pp->errlen, "%s:%d: %s", pp->name,
		    pp->lineno, msg);
	else
		(void)snprintf(pp->err, pp->errlen, "%s: %s", pp->name, msg);
	return -1;
}

static void policy_fmt_dur_ms(int64_t, char *, size_t);
static void policy_fmt_size(int64_t, char *, size_t);

/* ---- values ---------------------------------------------------------- */

/* A decimal integer without sign or blanks, at most 15 digits. */
static int
policy_digits(const char *s, const char **end, long long *out)
{
	long long n = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 15)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -1;
	*end = s + i;
	*out = n;
	return 0;
}

static int
policy_int(const char *s, long long lo, long long hi, long long *out)
{
	const char *end;

	if (policy_digits(s, &end, out) == -1 || *end != '\0')
		return -1;
	return *out >= lo && *out <= hi ? 0 : -1;
}

/* DUR: integer + ms|s|m|h|d, in milliseconds. */
static int
policy_dur(const char *s, long long lo, long long hi, long long *ms)
{
	static const struct { const char *u; long long mul; } units[] = {
		{ "ms", 1 }, { "s", POLICY_MS_S }, { "m", 60 * POLICY_MS_S },
		{ "h", 3600 * POLICY_MS_S }, { "d", POLICY_MS_D },
	};
	const char *end;
	long long n;
	size_t i;

	if (policy_digits(s, &end, &n) == -1)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].u) != 0)
			continue;
		if (n > LLONG_MAX / units[i].mul)
			return -1;
		*ms = n * units[i].mul;
		return *ms >= lo && *ms <= hi ? 0 : -1;
	}
	return -1;
}

/* SIZE: integer + optional K|M|G (1024-based), in bytes. */
static int
policy_size(const char *s, long long lo, long long hi, long long *out)
{
	const char *end;
	long long n, mul;

	if (policy_digits(s, &end, &n) == -1)
		return -1;
	if (strcmp(end, "") == 0)
		mul = 1;
	else if (strcmp(end, "K") == 0)
		mul = 1LL << 10;
	else if (strcmp(end, "M") == 0)
		mul = 1LL << 20;
	else if (strcmp(end, "G") == 0)
		mul = 1LL << 30;
	else
		return -1;
	if (n > LLONG_MAX / mul)
		return -1;
	*out = n * mul;
	return *out >= lo && *out <= hi ? 0 : -1;
}

/* "N/s" or "N/m", N decimal with at most two fraction digits. */
static int
policy_rate_value(const char *s, double *per_sec)
{
	const char *end;
	long long whole, frac = 0, h;

	if (policy_digits(s, &end, &whole) == -1 || whole > 100000)
		return -1;
	if (*end == '.') {
		if (end[1] < '0' || end[1] > '9')
			return -1;
		frac = (end[1] - '0') * 10;
		end += 2;
		if (*end >= '0' && *end <= '9')
			frac += *end++ - '0';
	}
	h = whole * 100 + frac;
	if (h < POLICY_RATE_MIN || h > POLICY_RATE_MAX)
		return -1;
	if (strcmp(end, "/s") == 0)
		*per_sec = (double)h / 100.0;
	else if (strcmp(end, "/m") == 0)
		*per_sec = (double)h / 6000.0;
	else
		return -1;
	return 0;
}

/* [a-z0-9][a-z0-9_-]{0,62}: group and seccomp profile names */
static int
policy_valid_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= POLICY_NAME_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return 1;
}

/* Account names as getpwnam sees them, kept to a safe charset. */
static int
policy_valid_account(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= POLICY_NAME_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	}
	return 1;
}

/* agent and session ids: [A-Za-z0-9_-]{1,63} */
static int
policy_valid_ident(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= POLICY_NAME_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return i > 0;
}

/* ws:// or wss:// then 1..1000 printable non-space ASCII */
static int
policy_valid_url(const char *s)
{
	size_t i;

	if (strncmp(s, "ws://", 5) == 0)
		s += 5;
	else if (strncmp(s, "wss://", 6) == 0)
		s += 6;
	else
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= 1000 || s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return i > 0;
}

static int
policy_is_local(const struct policy_parser *pp, const char *node)
{
	size_t i;

	for (i = 0; i < pp->nnodes; i++)
		if (strcmp(pp->nodes[i], node) == 0)
			return (int)i;
	return -1;
}

static const struct policy_group *
policy_group_find(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ngroups; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	return NULL;
}

/* SENDER: a node id, @GROUP (defined above) or "*" */
static int
policy_sender(struct policy_parser *pp, const char *w,
    struct policy_sender *s)
{
	memset(s, 0, sizeof(*s));
	if (strcmp(w, "*") == 0) {
		s->kind = WHO_ANY;
		return 0;
	}
	if (w[0] == '@') {
		if (policy_group_find(pp->p, w + 1) == NULL)
			return policy_err(pp, "unknown group '%.64s' (groups "
			    "must be defined before use)", w + 1);
		s->kind = WHO_GROUP;
		hive_strlcpy(s->name, w + 1, sizeof(s->name));
		return 0;
	}
	if (!valid_node(w))
		return policy_err(pp, "bad sender '%.64s'", w);
	s->kind = WHO_NODE;
	hive_strlcpy(s->name, w, sizeof(s->name));
	return 0;
}

static int
policy_sender_eq(const struct policy_sender *a, const struct policy_sender *b)
{
	return a->kind == b->kind && strcmp(a->name, b->name) == 0;
}

/* ---- top-level statements ------------------------------------------- */

static int
policy_st_group(struct policy_parser *pp, char **w, size_t nw)
{
	struct policy *p = pp->p;
	const struct policy_group *old;
	struct policy_group *g;
	size_t i, j;

	if (nw < 3)
		return policy_err(pp, "expected 'group NAME NODE [NODE...]'");
	if (!policy_valid_name(w[1]))
		return policy_err(pp, "bad group name '%.64s'", w[1]);
	if ((old = policy_group_find(p, w[1])) != NULL)
		return policy_err(pp, "duplicate group '%s' (first at line "
		    "%d)", w[1], old->line);
	if (p->ngroups == POLICY_MAX_GROUPS)
		return policy_err(pp, "too many groups (at most %d)",
		    POLICY_MAX_GROUPS);
	if (nw - 2 > POLICY_MAX_MEMBERS)
		return policy_err(pp, "too many members (at most %d)",
		    POLICY_MAX_MEMBERS);
	g = &p->groups[p->ngroups];
	memset(g, 0, sizeof(*g));
	for (i = 2; i < nw; i++) {
		if (!valid_node(w[i]))
			return policy_err(pp, "bad node id '%.64s'", w[i]);
		for (j = 0; j < g->nmembers; j++)
			if (strcmp(g->members[j], w[i]) == 0)
				return policy_err(pp, "node '%s' listed twice "
				    "in group '%s'", w[i], w[1]);
		hive_strlcpy(g->members[g->nmembers++], w[i], NODE_MAX + 1);
	}
	hive_strlcpy(g->name, w[1], sizeof(g->name));
	g->line = pp->lineno;
	p->ngroups++;
	return 0;
}

static int
policy_rule_dup(struct policy_parser *pp, const struct policy_rule *r)
{
	const struct policy_rule *o;
	size_t i;

	for (i = 0; i < pp->p->nrules; i++) {
		o = &pp->p->rules[i];
		if (policy_sender_eq(&o->from, &r->from) && o->ch == r->ch &&
		    o->act == r->act && strcmp(o->action, r->action) == 0)
			return policy_err(pp, "duplicate rule (first at line "
			    "%d)", o->line);
	}
	return 0;
}

static int
policy_rule_push(struct policy_parser *pp, const struct policy_rule *r)
{
	struct policy *p = pp->p;
	struct policy_rule *n;
	size_t cap;

	if (p->nrules == POLICY_MAX_RULES)
		return policy_err(pp, "too many rules (at most %d)",
		    POLICY_MAX_RULES);
	/* capacity doubles from 8: grow when nrules is 0 or a power of two */
	if (p->nrules == 0 || (p->nrules >= 8 &&
	    (p->nrules & (p->nrules - 1)) == 0)) {
		cap = p->nrules == 0 ? 8 : p->nrules * 2;
		if ((n = reallocarray(p->rules, cap, sizeof(*n))) == NULL)
			fatal("policy_rule_push");
		p->rules = n;
	}
	p->rules[p->nrules++] = *r;
	return 0;
}

/* allow|deny from SENDER ch CH [action ACTION|none] */
static int
policy_st_rule(struct policy_parser *pp, char **w, size_t nw)
{
	struct policy_rule r;
	enum envelope_ch ch;

	if ((nw != 5 && nw != 7) || strcmp(w[1], "from") != 0 ||
	    strcmp(w[3], "ch") != 0 || (nw == 7 && strcmp(w[5], "action") != 0))
		return policy_err(pp, "expected '%s from SENDER ch CH "
		    "[action ACTION]'", w[0]);
	memset(&r, 0, sizeof(r));
	r.allow = strcmp(w[0], "allow") == 0;
	r.line = pp->lineno;
	if (policy_sender(pp, w[2], &r.from) == -1)
		return -1;
	if (strcmp(w[4], "*") == 0)
		r.ch = -1;
	else if (envelope_ch_parse(w[4], &ch) == 0)
		r.ch = (int)ch;
	else
		return policy_err(pp, "unknown channel '%.64s'", w[4]);
	if (nw == 7) {
		if (r.ch != -1 && r.ch != CH_COMMAND && r.ch != CH_SYNC)
			return policy_err(pp, "action applies only to ch "
			    "command, sync or *");
		if (strcmp(w[6], "none") == 0)
			r.act = ACT_NONE;
		else if (envelope_valid_action(w[6])) {
			r.act = ACT_NAME;
			hive_strlcpy(r.action, w[6], sizeof(r.action));
		} else
			return policy_err(pp, "bad action '%.64s'", w[6]);
	}
	if (policy_rule_dup(pp, &r) == -1)
		return -1;
	return policy_rule_push(pp, &r);
}

/* the two single buckets: "rate unknown" and "rate from *" */
static int
policy_rate_single(struct policy_parser *pp, struct policy_rate *dst,
    int *seen_line, const struct policy_rate *r, const char *what)
{
	if (*seen_line)
		return policy_err(pp, "duplicate rate for '%s' (first at line "
		    "%d)", what, *seen_line);
	*seen_line = pp->lineno;
	*dst = *r;
	return 0;
}

/*
 * rate from SENDER N/s burst B | rate unknown N/s burst B.  "rate from
 * *" sets the fallback wherever it stands: a catch-all that shadowed
 * every later line would be a trap for the reader.
 */
static int
policy_st_rate(struct policy_parser *pp, char **w, size_t nw)
{
	struct policy *p = pp->p;
	struct policy_rate r;
	size_t i, v;
	long long b;

	memset(&r, 0, sizeof(r));
	r.line = pp->lineno;
	r.unknown = nw == 5 && strcmp(w[1], "unknown") == 0;
	v = r.unknown ? 2 : 3;
	if (!(r.unknown || (nw == 6 && strcmp(w[1], "from") == 0)) ||
	    strcmp(w[v + 1], "burst") != 0)
		return policy_err(pp, "expected 'rate from SENDER N/s burst B' "
		    "or 'rate unknown N/s burst B'");
	if (!r.unknown && policy_sender(pp, w[2], &r.from) == -1)
		return -1;
	if (policy_rate_value(w[v], &r.per_sec) == -1)
		return policy_err(pp, "bad rate '%.64s' (0.01..100000 per s or "
		    "m, as 20/s or 30/m)", w[v]);
	if (policy_int(w[v + 2], 1, 1000000, &b) == -1)
		return policy_err(pp, "bad burst '%.64s' (1..1000000)",
		    w[v + 2]);
	r.burst = (uint32_t)b;
	if (r.unknown)
		return policy_rate_single(pp, &p->rate_unknown,
		    &pp->rate_unknown_line, &r, "unknown");
	if (r.from.kind == WHO_ANY)
		return policy_rate_single(pp, &p->rate_default,
		    &pp->rate_any_line, &r, "*");
	for (i = 0; i < p->nrates; i++)
		if (policy_sender_eq(&p->rates[i].from, &r.from))
			return policy_err(pp, "duplicate rate for '%s%s' "
			    "(first at line %d)", r.from.kind == WHO_GROUP ?
			    "@" : "", r.from.name, p->rates[i].line);
	if (p->nrates == POLICY_MAX_RATES)
		return policy_err(pp, "too many rates (at most %d)",
		    POLICY_MAX_RATES);
	p->rates[p->nrates++] = r;
	return 0;
}

static int
policy_st_max_handlers(struct policy_parser *pp, char **w, size_t nw)
{
	long long n;

	if (nw != 2)
		return policy_err(pp, "expected 'max-handlers N'");
	if (pp->max_handlers_line)
		return policy_err(pp, "duplicate max-handlers (first at line "
		    "%d)", pp->max_handlers_line);
	if (policy_int(w[1], 1, 256, &n) == -1)
		return policy_err(pp, "bad max-handlers '%.64s' (1..256)",
		    w[1]);
	pp->max_handlers_line = pp->lineno;
	pp->p->max_handlers = (int)n;
	return 0;
}

/* *, USER, UID, :GROUP or :GID; names must exist now */
static int
policy_principal(struct policy_parser *pp, const char *w,
    struct policy_principal *pr)
{
	const char *s = w[0] == ':' ? w + 1 : w;
	struct passwd *pw;
	struct group *gr;
	long long id;

	memset(pr, 0, sizeof(*pr));
	if (strcmp(w, "*") == 0) {
		pr->any = 1;
		hive_strlcpy(pr->name, "*", sizeof(pr->name));
		return 0;
	}
	pr->is_group = w[0] == ':';
	if (!policy_valid_account(s))
		return policy_err(pp, "bad principal '%.64s'", w);
	hive_strlcpy(pr->name, s, sizeof(pr->name));
	if (policy_int(s, 0, (long long)UINT32_MAX - 1, &id) == 0) {
		pr->uid = (uid_t)id;
		pr->gid = (gid_t)id;
	} else if (pr->is_group) {
		if ((gr = getgrnam(s)) == NULL)
			return policy_err(pp, "unknown group '%s'", s);
		pr->gid = gr->gr_gid;
	} else {
		if ((pw = getpwnam(s)) == NULL)
			return policy_err(pp, "unknown user '%s'", s);
		pr->uid = pw->pw_uid;
	}
	return 0;
}

static int
policy_principal_eq(const struct policy_principal *a,
    const struct policy_principal *b)
{
	if (a->any || b->any)
		return a->any == b->any;
	if (a->is_group != b->is_group)
		return 0;
	return a->is_group ? a->gid == b->gid : a->uid == b->uid;
}

static const char *const policy_sock_names[SOCK__COUNT] = {
	[SOCK_READ] = "read", [SOCK_SEND] = "send", [SOCK_REPLY] = "reply",
};

/* socket read|send|reply PRINCIPAL... */
static int
policy_st_socket(struct policy_parser *pp, char **w, size_t nw)
{
	struct policy_socket s;
	size_t i, j;
	int v;

	if (nw < 3)
		return policy_err(pp, "expected 'socket read|send|reply "
		    "PRINCIPAL [PRINCIPAL...]'");
	for (v = 0; v < SOCK__COUNT; v++)
		if (strcmp(w[1], policy_sock_names[v]) == 0)
			break;
	if (v == SOCK__COUNT)
		return policy_err(pp, "unknown socket verb '%.64s' (read, send "
		    "or reply)", w[1]);
	if (pp->sock_line[v])
		return policy_err(pp, "duplicate socket %s (first at line %d)",
		    w[1], pp->sock_line[v]);
	if (nw - 2 > POLICY_MAX_PRINCIPALS)
		return policy_err(pp, "too many principals (at most %d)",
		    POLICY_MAX_PRINCIPALS);
	memset(&s, 0, sizeof(s));
	for (i = 2; i < nw; i++) {
		if (policy_principal(pp, w[i], &s.p[s.n]) == -1)
			return -1;
		for (j = 0; j < s.n; j++)
			if (policy_principal_eq(&s.p[j], &s.p[s.n]))
				return policy_err(pp, "principal '%.64s' "
				    "listed twice", w[i]);
		s.n++;
	}
	s.line = pp->lineno;
	pp->sock_line[v] = pp->lineno;
	pp->p->sock[v] = s;
	return 0;
}

/* ---- blocks --------------------------------------------------------- */

enum policy_ktype { KT_DUR, KT_DUR_S, KT_SIZE, KT_INT, KT_INT64, KT_BOOL,
	KT_USER, KT_GROUP, KT_PROFILE, KT_WAKE, KT_URL, KT_ABSPATH, KT_INJECT,
	KT_IDENT };

struct policy_key {
	const char		*name;
	enum policy_ktype	 type;
	size_t			 off;
	size_t			 size;	/* strings: buffer size */
	long long		 min, max;
};

#define HK(n, t, f, lo, hi) { n, t, offsetof(struct policy_handler, f), \
	sizeof(((struct policy_handler *)0)->f), lo, hi }
#define IK(n, t, f, lo, hi) { n, t, offsetof(struct policy_instance, f), \
	sizeof(((struct policy_instance *)0)->f), lo, hi }

/* Sorted by name: policy_key_find() uses bsearch. */
static const struct policy_key policy_handler_keys[] = {
	HK("alert", KT_BOOL, alert, 0, 1),
	HK("concurrency", KT_INT, concurrency, 1, 64),
	HK("cpu", KT_DUR_S, cpu_s, POLICY_MS_S, POLICY_MS_D),
	HK("every", KT_DUR_S, every_s, 10 * POLICY_MS_S, 7 * POLICY_MS_D),
	HK("files", KT_INT64, files, 4, 65536),
	HK("fsize", KT_SIZE, fsize, 0, 64LL << 30),
	HK("grace", KT_DUR, grace_ms, 0, 60 * POLICY_MS_S),
	HK("group", KT_GROUP, group, 0, 0),
	HK("jitter", KT_DUR_S, jitter_s, 0, 7 * POLICY_MS_D),
	HK("memory", KT_SIZE, memory, 1LL << 20, 64LL << 30),
	HK("network", KT_BOOL, network, 0, 1),
	HK("private-tmp", KT_BOOL, private_tmp, 0, 1),
	HK("processes", KT_INT64, processes, 1, 4096),
	HK("queue", KT_INT, queue, 0, 1024),
	HK("read-only-root", KT_BOOL, read_only_root, 0, 1),
	HK("seccomp", KT_PROFILE, seccomp, 0, 0),
	HK("stderr", KT_SIZE, stderr_max, 0, 1LL << 20),
	HK("stdout", KT_SIZE, stdout_max, 1LL << 10, 16LL << 20),
	HK("timeout", KT_DUR, timeout_ms, 100, 3600 * POLICY_MS_S),
	HK("user", KT_USER, user, 0, 0),
	HK("wake", KT_WAKE, wake, 0, 0),
};
#define POLICY_NHKEYS (sizeof(policy_handler_keys) / \
	sizeof(policy_handler_keys[0]))

static const struct policy_key policy_instance_keys[] = {
	IK("agent", KT_IDENT, agent, 0, 0),
	IK("inject", KT_INJECT, inject, 0, 0),
	IK("later-every", KT_DUR_S, later_every_s, POLICY_MS_S, POLICY_MS_D),
	IK("password-file", KT_ABSPATH, password_file, 0, 0),
	IK("port", KT_INT, port, 1, 65535),
	IK("session", KT_IDENT, session, 0, 0),
	IK("token-file", KT_ABSPATH, token_file, 0, 0),
	IK("url", KT_URL, url, 0, 0),
	IK("user", KT_USER, user, 0, 0),
};
#define POLICY_NIKEYS (sizeof(policy_instance_keys) / \
	sizeof(policy_instance_keys[0]))

static int
policy_keycmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct policy_key *)elem)->name);
}

static const struct policy_key *
policy_key_find(const struct policy_key *tab, size_t n, const char *name)
{
	return bsearch(name, tab, n, sizeof(tab[0]), policy_keycmp);
}

/* the line a key of the open block was set on, 0 if not set */
static int
policy_key_line(const struct policy_parser *pp, const char *name)
{
	const struct policy_key *tab = pp->blk == BLK_HANDLER ?
	    policy_handler_keys : policy_instance_keys;
	size_t n = pp->blk == BLK_HANDLER ? POLICY_NHKEYS : POLICY_NIKEYS;
	const struct policy_key *k = policy_key_find(tab, n, name);

	if (k == NULL)
		fatalx("policy_key_line: no key %s", name);
	return pp->key_line[k - tab];
}

static int
policy_val_user(struct policy_parser *pp, const char *v, char *name,
    size_t size, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	if (!policy_valid_account(v) || (pw = getpwnam(v)) == NULL)
		return policy_err(pp, "unknown user '%.64s'", v);
	hive_strlcpy(name, v, size);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* {policy_dir}/seccomp/NAME must be a regular file (policy_load only) */
static int
policy_check_profile(struct policy_parser *pp, const char *v)
{
	char path[CONFIG_PATH_MAX + 128];
	struct stat st;
	int n;

	if (!pp->check_files)
		return 0;
	n = snprintf(path, sizeof(path), "%s/%s/%s", pp->cfg->policy_dir,
	    POLICY_SECCOMP_DIR, v);
	if (n < 0 || (size_t)n >= sizeof(path))
		return policy_err(pp, "seccomp profile path too long");
	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return policy_err(pp, "seccomp profile '%s': %s is not a "
		    "regular file", v, path);
	return 0;
}

/* user (both blocks): a handler's explicit group keeps its gid */
static int
policy_val_account(struct policy_parser *pp, const char *v)
{
	struct policy_handler *h = pp->blk_obj;
	struct policy_instance *in = pp->blk_obj;
	gid_t gid;

	if (pp->blk == BLK_INSTANCE)
		return policy_val_user(pp, v, in->user, sizeof(in->user),
		    &in->uid, &in->gid);
	gid = h->gid;
	if (policy_val_user(pp, v, h->user, sizeof(h->user), &h->uid,
	    &h->gid) == -1)
		return -1;
	if (policy_key_line(pp, "group"))	/* said above: keep it */
		h->gid = gid;
	return 0;
}

/* Handler keys that name things: group, seccomp profile, node. */
static int
policy_val_handler(struct policy_parser *pp, const struct policy_key *k,
    char *field, const char *v)
{
	struct policy_handler *h = pp->blk_obj;
	struct group *gr;

	switch (k->type) {
	case KT_GROUP:
		if (!policy_valid_account(v) || (gr = getgrnam(v)) == NULL)
			return policy_err(pp, "unknown group '%.64s'", v);
		hive_strlcpy(h->group, v, sizeof(h->group));
		h->gid = gr->gr_gid;
		return 0;
	case KT_PROFILE:
		if (!policy_valid_name(v))
			return policy_err(pp, "bad seccomp profile name "
			    "'%.64s'", v);
		hive_strlcpy(field, v, k->size);
		return policy_check_profile(pp, v);
	case KT_WAKE:
		if (policy_is_local(pp, v) == -1)
			return policy_err(pp, "'%.64s' is not a local node "
			    "(hive.conf 'node')", v);
		hive_strlcpy(field, v, k->size);
		return 0;
	default:
		fatalx("policy_val_handler: type %d", (int)k->type);
	}
}

/* Instance keys that are text: url, files, inject mode, ids. */
static int
policy_val_instance(struct policy_parser *pp, const struct policy_key *k,
    char *field, const char *v)
{
	struct policy_instance *in = pp->blk_obj;

	switch (k->type) {
	case KT_URL:
		if (!policy_valid_url(v))
			return policy_err(pp, "bad url (ws:// or wss:// then "
			    "1..1000 printable characters)");
		hive_strlcpy(field, v, k->size);
		return 0;
	case KT_ABSPATH:
		if (v[0] != '/' || hive_strlcpy(field, v, k->size) >= k->size)
			return policy_err(pp, "'%s' expects an absolute path",
			    k->name);
		return 0;
	case KT_INJECT:
		if (strcmp(v, "event") == 0)
			in->inject = INJECT_EVENT;
		else if (strcmp(v, "agent-turn") == 0)
			in->inject = INJECT_AGENT_TURN;
		else
			return policy_err(pp, "'inject' expects event or "
			    "agent-turn");
		return 0;
	case KT_IDENT:
		if (!policy_valid_ident(v))
			return policy_err(pp, "bad %s id '%.64s' "
			    "([A-Za-z0-9_-], 1..63)", k->name, v);
		hive_strlcpy(field, v, k->size);
		return 0;
	default:
		fatalx("policy_val_instance: type %d", (int)k->type);
	}
}

static int
policy_val_number(struct policy_parser *pp, const struct policy_key *k,
    char *field, const char *v)
{
	char lo[32], hi[32];
	long long n;

	switch (k->type) {
	case KT_DUR:
	case KT_DUR_S:
		if (policy_dur(v, k->min, k->max, &n) == -1 ||
		    (k->type == KT_DUR_S && n % POLICY_MS_S != 0)) {
			policy_fmt_dur_ms(k->min, lo, sizeof(lo));
			policy_fmt_dur_ms(k->max, hi, sizeof(hi));
			/* well formed, only out of range: name the limit */
			if (policy_dur(v, 0, LLONG_MAX, &n) == 0 &&
			    (k->type == KT_DUR || n % POLICY_MS_S == 0))
				return policy_err(pp, "'%s' %.32s is %s, %s",
				    k->name, v, n < k->min ? "below the "
				    "minimum" : "above the maximum",
				    n < k->min ? lo : hi);
			return policy_err(pp, "'%s' expects a duration with a "
			    "unit (ms, s, m, h, d)%s in %s..%s", k->name,
			    k->type == KT_DUR_S ? ", whole seconds," : "", lo,
			    hi);
		}
		*(int64_t *)(void *)field = k->type == KT_DUR ? n :
		    n / POLICY_MS_S;
		return 0;
	case KT_SIZE:
		if (policy_size(v, k->min, k->max, &n) == -1) {
			policy_fmt_size(k->min, lo, sizeof(lo));
			policy_fmt_size(k->max, hi, sizeof(hi));
			if (policy_size(v, 0, LLONG_MAX, &n) == 0)
				return policy_err(pp, "'%s' %.32s is %s, %s",
				    k->name, v, n < k->min ? "below the "
				    "minimum" : "above the maximum",
				    n < k->min ? lo : hi);
			return policy_err(pp, "'%s' expects a size (bytes, or "
			    "K, M, G) in %s..%s", k->name, lo, hi);
		}
		*(int64_t *)(void *)field = n;
		return 0;
	case KT_INT:
	case KT_INT64:
		if (policy_int(v, k->min, k->max, &n) == -1)
			return policy_err(pp, "'%s' expects an integer in "
			    "%lld..%lld", k->name, k->min, k->max);
		if (k->type == KT_INT)
			*(int *)(void *)field = (int)n;
		else
			*(int64_t *)(void *)field = n;
		return 0;
	case KT_BOOL:
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return policy_err(pp, "'%s' expects yes or no",
			    k->name);
		*(int *)(void *)field = strcmp(v, "yes") == 0;
		return 0;
	case KT_USER:
		return policy_val_account(pp, v);
	default:
		if (pp->blk == BLK_HANDLER)
			return policy_val_handler(pp, k, field, v);
		return policy_val_instance(pp, k, field, v);
	}
}

/* One "key value" line inside the open block. */
static int
policy_block_line(struct policy_parser *pp, char **w, size_t nw)
{
	const struct policy_key *tab = pp->blk == BLK_HANDLER ?
	    policy_handler_keys : policy_instance_keys;
	size_t n = pp->blk == BLK_HANDLER ? POLICY_NHKEYS : POLICY_NIKEYS;
	const char *what = pp->blk == BLK_HANDLER ? "handler" : "instance";
	const struct policy_key *k;

	if (strcmp(w[nw - 1], "{") == 0)
		return policy_err(pp, "blocks do not nest (block opened at "
		    "line %d)", pp->blk_line);
	if ((k = policy_key_find(tab, n, w[0])) == NULL)
		return policy_err(pp, "unknown %s key '%.64s'", what, w[0]);
	if (nw != 2)
		return policy_err(pp, "'%s' expects one value", k->name);
	if (pp->key_line[k - tab])
		return policy_err(pp, "duplicate key '%s' (first at line %d)",
		    k->name, pp->key_line[k - tab]);
	if ((strcmp(k->name, "port") == 0 && policy_key_line(pp, "url")) ||
	    (strcmp(k->name, "url") == 0 && policy_key_line(pp, "port")))
		return policy_err(pp, "port and url are mutually exclusive");
	pp->key_line[k - tab] = pp->lineno;
	return policy_val_number(pp, k, (char *)pp->blk_obj + k->off, w[1]);
}

void
policy_handler_defaults(struct policy_handler *h)
{
	struct passwd *pw;

	memset(h, 0, sizeof(*h));
	hive_strlcpy(h->user, "nobody", sizeof(h->user));
	h->uid = (uid_t)-1;
	h->gid = (gid_t)-1;
	if ((pw = getpwnam(h->user)) != NULL) {
		h->uid = pw->pw_uid;
		h->gid = pw->pw_gid;
	}
	h->timeout_ms = 30 * POLICY_MS_S;
	h->grace_ms = 2 * POLICY_MS_S;
	h->cpu_s = 30;
	h->memory = 512LL << 20;
	h->processes = 64;
	h->files = 64;
	h->fsize = 16LL << 20;
	hive_strlcpy(h->seccomp, "default", sizeof(h->seccomp));
	h->concurrency = 1;
	h->queue = 8;
	h->stdout_max = 64LL << 10;
	h->stderr_max = 8LL << 10;
	h->alert = 1;
}

static int
policy_open_handler(struct policy_parser *pp, const char *action)
{
	struct policy *p = pp->p;
	struct policy_handler *h;
	size_t i;

	if (!envelope_valid_action(action))
		return policy_err(pp, "bad action '%.64s'", action);
	for (i = 0; i < p->nhandlers; i++)
		if (strcmp(p->handlers[i].action, action) == 0)
			return policy_err(pp, "duplicate handler '%s' (first "
			    "at line %d)", action, p->handlers[i].line);
	if (p->nhandlers == POLICY_MAX_HANDLERS)
		return policy_err(pp, "too many handlers (at most %d)",
		    POLICY_MAX_HANDLERS);
	if (p->handlers == NULL && (p->handlers = calloc(POLICY_MAX_HANDLERS,
	    sizeof(*p->handlers))) == NULL)
		fatal("policy_open_handler");
	h = &p->handlers[p->nhandlers++];
	policy_handler_defaults(h);
	if (h->uid == (uid_t)-1)
		return policy_err(pp, "unknown user 'nobody' (the handler "
		    "default)");
	hive_strlcpy(h->action, action, sizeof(h->action));
	if (pp->nnodes > 0)
		hive_strlcpy(h->wake, pp->nodes[0], sizeof(h->wake));
	h->line = pp->lineno;
	pp->blk_obj = h;
	return 0;
}

static int
policy_open_instance(struct policy_parser *pp, const char *node)
{
	struct policy_instance *in;
	int i;

	if ((i = policy_is_local(pp, node)) == -1)
		return policy_err(pp, "'%.64s' is not a local node (hive.conf "
		    "'node')", node);
	in = &pp->p->instances[i];
	if (in->line)
		return policy_err(pp, "duplicate instance '%s' (first at line "
		    "%d)", node, in->line);
	in->line = pp->lineno;
	pp->blk_obj = in;
	return 0;
}

/* handler ACTION { | instance NODE { */
static int
policy_st_block(struct policy_parser *pp, char **w, size_t nw)
{
	int rc;

	if (nw != 3 || strcmp(w[2], "{") != 0)
		return policy_err(pp, "expected '%s %s {'", w[0],
		    strcmp(w[0], "handler") == 0 ? "ACTION" : "NODE");
	memset(pp->key_line, 0, sizeof(pp->key_line));
	if (strcmp(w[0], "handler") == 0) {
		pp->blk = BLK_HANDLER;
		rc = policy_open_handler(pp, w[1]);
	} else {
		pp->blk = BLK_INSTANCE;
		rc = policy_open_instance(pp, w[1]);
	}
	pp->blk_line = pp->lineno;
	return rc;
}

/* What one key of a handler block may only say together with another. */
static int
policy_close_handler(struct policy_parser *pp)
{
	struct policy_handler *h = pp->blk_obj;
	int jl = policy_key_line(pp, "jitter");

	if (jl && !policy_key_line(pp, "every")) {
		pp->lineno = jl;
		return policy_err(pp, "jitter without every");
	}
	if (jl && h->jitter_s > h->every_s) {
		pp->lineno = jl;
		return policy_err(pp, "jitter longer than every");
	}
	if (!policy_key_line(pp, "cpu"))
		h->cpu_s = (h->timeout_ms + POLICY_MS_S - 1) / POLICY_MS_S;
	/* the implicit profile must exist as much as a named one */
	if (!policy_key_line(pp, "seccomp")) {
		pp->lineno = h->line;
		return policy_check_profile(pp, h->seccomp);
	}
	return 0;
}

/* Fill what no instance key said: port, user.  Also for nodes without
 * a block (line 0, the message then names the node). */
static int
policy_finish_instance(struct policy_parser *pp, struct policy_instance *in,
    int port_set, int user_set)
{
	const char *u = pp->cfg->user;
	struct passwd *pw;

	if (!port_set) {
		in->port = config_instance_port(pp->cfg, in->node);
		if (in->port < 0)
			return policy_err(pp, "instance %s: openclaw_port auto "
			    "but the node id has no -PORT suffix", in->node);
	}
	if (!user_set) {
		if (!policy_valid_account(u) || (pw = getpwnam(u)) == NULL)
			return policy_err(pp, "instance %s: unknown user "
			    "'%.64s' (hive.conf 'user')", in->node, u);
		hive_strlcpy(in->user, u, sizeof(in->user));
		in->uid = pw->pw_uid;
		in->gid = pw->pw_gid;
	}
	return 0;
}

static int
policy_close_instance(struct policy_parser *pp)
{
	struct policy_instance *in = pp->blk_obj;
	int al = policy_key_line(pp, "agent");
	int sl = policy_key_line(pp, "session");
	int il = policy_key_line(pp, "inject");
	int ll = policy_key_line(pp, "later-every");

	if (in->inject == INJECT_AGENT_TURN && !al) {
		pp->lineno = il;
		return policy_err(pp, "inject agent-turn needs an agent");
	}
	/* an event instance's `later` waits for OpenClaw's own heartbeat */
	if (in->inject != INJECT_AGENT_TURN && (al || sl || ll)) {
		pp->lineno = al ? al : sl ? sl : ll;
		return policy_err(pp, "%s needs inject agent-turn",
		    al ? "agent" : sl ? "session" : "later-every");
	}
	pp->lineno = in->line;
	return policy_finish_instance(pp, in, policy_key_line(pp, "port") ||
	    policy_key_line(pp, "url"), policy_key_line(pp, "user") != 0);
}

static int
policy_close_block(struct policy_parser *pp, size_t nw)
{
	int line = pp->lineno, rc;

	if (pp->blk == BLK_NONE)
		return policy_err(pp, "'}' without a block");
	if (nw != 1)
		return policy_err(pp, "'}' must be alone on its line");
	rc = pp->blk == BLK_HANDLER ? policy_close_handler(pp) :
	    policy_close_instance(pp);
	pp->lineno = line;
	pp->blk = BLK_NONE;
	pp->blk_obj = NULL;
	return rc;
}

/* ---- lines ---------------------------------------------------------- */

struct policy_statement {
	const char	*name;
	int		(*fn)(struct policy_parser *, char **, size_t);
};

/* Sorted by name: bsearch. */
static const struct policy_statement policy_statements[] = {
	{ "allow", policy_st_rule },
	{ "deny", policy_st_rule },
	{ "group", policy_st_group },
	{ "handler", policy_st_block },
	{ "instance", policy_st_block },
	{ "max-handlers", policy_st_max_handlers },
	{ "rate", policy_st_rate },
	{ "socket", policy_st_socket },
};
#define POLICY_NSTATEMENTS (sizeof(policy_statements) / \
	sizeof(policy_statements[0]))

static int
policy_stcmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct policy_statement *)elem)->name);
}

/* Words separated by blanks, comment and CR cut off; -1: too many. */
static int
policy_split(char *line, char **w, size_t *nw)
{
	char *save = NULL, *t;

	line[strcspn(line, "#\r")] = '\0';
	*nw = 0;
	for (t = strtok_r(line, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save)) {
		if (*nw == POLICY_MAX_WORDS)
			return -1;
		w[(*nw)++] = t;
	}
	return 0;
}

static int
policy_line(struct policy_parser *pp, char *line)
{
	char *w[POLICY_MAX_WORDS];
	size_t nw;
	const struct policy_statement *st;

	if (policy_split(line, w, &nw) == -1)
		return policy_err(pp, "too many words on one line");
	if (nw == 0)
		return 0;
	if (strcmp(w[0], "}") == 0)
		return policy_close_block(pp, nw);
	if (pp->blk != BLK_NONE)
		return policy_block_line(pp, w, nw);
	st = bsearch(w[0], policy_statements, POLICY_NSTATEMENTS,
	    sizeof(policy_statements[0]), policy_stcmp);
	if (st == NULL)
		return policy_err(pp, "unknown keyword '%.64s'", w[0]);
	return st->fn(pp, w, nw);
}

/* Built-in defaults, and an instance entry for every local node. */
static void
policy_defaults(struct policy_parser *pp)
{
	struct policy *p = pp->p;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->max_handlers = 8;
	p->rate_unknown.unknown = 1;
	p->rate_unknown.per_sec = 5;
	p->rate_unknown.burst = 20;
	p->rate_default.per_sec = 20;
	p->rate_default.burst = 100;
	for (i = 0; i < SOCK__COUNT; i++)
		p->sock[i].n = 1;
	p->sock[SOCK_READ].p[0].any = 1;
	hive_strlcpy(p->sock[SOCK_READ].p[0].name, "*", POLICY_NAME_MAX + 1);
	hive_strlcpy(p->sock[SOCK_SEND].p[0].name, "root", POLICY_NAME_MAX + 1);
	hive_strlcpy(p->sock[SOCK_REPLY].p[0].name, "root",
	    POLICY_NAME_MAX + 1);
	pp->nnodes = config_nodes(pp->cfg, pp->nodes);
	p->ninstances = pp->nnodes;
	for (i = 0; i < pp->nnodes; i++) {
		hive_strlcpy(p->instances[i].node, pp->nodes[i], NODE_MAX + 1);
		hive_strlcpy(p->instances[i].session, "hive",
		    POLICY_NAME_MAX + 1);
		p->instances[i].later_every_s = POLICY_LATER_EVERY_S;
	}
}

/*
 * Who a handler must never be.  The router (hive.conf's user) writes
 * the injection journal that is injected at the next start, and holds
 * the replay window; an injector holds its gateway token.  A handler
 * sharing one of their uids could write the one and signal or trace
 * the others; uid 0 could do anything.  1 and why in buf, or 0.
 */
int
policy_identity_refused(const struct policy *p, const struct config *cfg,
    uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;
	size_t i;

	if (uid == 0) {
		(void)snprintf(buf, len, "runs as root");
		return 1;
	}
	if ((pw = getpwnam(cfg->user)) != NULL && pw->pw_uid == uid) {
		(void)snprintf(buf, len, "runs as uid %u, hive.conf's user "
		    "'%.64s' (the router's)", (unsigned)uid, cfg->user);
		return 1;
	}
	for (i = 0; i < p->ninstances; i++)
		if (p->instances[i].uid == uid) {
			(void)snprintf(buf, len, "runs as uid %u, the user of "
			    "instance %s (its injector's)", (unsigned)uid,
			    p->instances[i].node);
			return 1;
		}
	return 0;
}

/* Every handler block, at its line (policy_load only: the accounts are
 * the system's).  Actions without a block are checked as they are
 * found (monitor_handlers.c), against the default user. */
static int
policy_check_identities(struct policy_parser *pp)
{
	const struct policy_handler *h;
	char why[256];
	size_t i;

	for (i = 0; i < pp->p->nhandlers; i++) {
		h = &pp->p->handlers[i];
		if (!policy_identity_refused(pp->p, pp->cfg, h->uid, why,
		    sizeof(why)))
			continue;
		pp->lineno = h->line;
		return policy_err(pp, "handler %s: user '%s' %s; a handler "
		    "needs an account of its own", h->action, h->user, why);
	}
	return 0;
}

/* After the last line: open blocks, the defaults of block-less
 * handlers and instances. */
static int
policy_finish(struct policy_parser *pp)
{
	size_t i;

	if (pp->blk != BLK_NONE)
		return policy_err(pp, "unterminated block (opened at line %d)",
		    pp->blk_line);
	pp->lineno = 0;
	policy_handler_defaults(&policy_static_defaults);
	if (policy_static_defaults.uid == (uid_t)-1)
		return policy_err(pp, "unknown user 'nobody' (the handler "
		    "default)");
	policy_static_ready = 1;
	for (i = 0; i < pp->p->ninstances; i++)
		if (pp->p->instances[i].line == 0 && policy_finish_instance(pp,
		    &pp->p->instances[i], 0, 0) == -1)
			return -1;
	return pp->check_files ? policy_check_identities(pp) : 0;
}

static int
policy_parse_text(struct policy_parser *pp, char *text, size_t len)
{
	char *line = text, *end = text + len, *nl;

	while (line < end) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		pp->lineno++;
		if (policy_line(pp, line) == -1)
			return -1;
		line = nl + 1;
	}
	return policy_finish(pp);
}

static int
policy_parse_flags(struct policy *p, const struct config *cfg,
    const char *text, size_t len, const char *name, int check_files,
    char *err, size_t errlen)
{
	struct policy_parser pp;
	const char *nul, *q;
	char *copy;
	int rc;

	memset(&pp, 0, sizeof(pp));
	pp.p = p;
	pp.cfg = cfg;
	pp.name = name;
	pp.check_files = check_files;
	pp.err = err;
	pp.errlen = errlen;
	policy_defaults(&pp);
	if ((nul = memchr(text, '\0', len)) != NULL) {
		pp.lineno = 1;
		for (q = text; q < nul; q++)
			pp.lineno += *q == '\n';
		policy_free(p);
		return policy_err(&pp, "NUL byte");
	}
	if ((copy = malloc(len + 1)) == NULL)
		fatal("policy_parse");
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = policy_parse_text(&pp, copy, len);
	free(copy);
	if (rc == -1)
		policy_free(p);
	return rc;
}

int
policy_parse(struct policy *p, const struct config *cfg, const char *text,
    size_t len, const char *name, char *err, size_t errlen)
{
	return policy_parse_flags(p, cfg, text, len, name, 0, err, errlen);
}

/*
 * hive.policy in a policy_dir that passes the directory checks of
 * keys/ and handlers.d/; never through a symbolic link, and O_NONBLOCK
 * so that a FIFO there cannot hang us before config_check_fd refuses
 * it as not a regular file.
 */
static int
policy_open_file(const char *dir, const char *path, char *err,
    size_t errlen)
{
	int dfd, fd, e;

	if ((dfd = config_open_dir(dir, err, errlen)) == -1)
		return -1;
	fd = openat(dfd, POLICY_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	e = errno;
	close(dfd);
	if (fd == -1)
		snprintf(err, errlen, "%s: %s", path, e == ENOENT ?
		    "no policy file" : e == ELOOP ? "a symbolic link; "
		    "refusing" : strerror(e));
	return fd;
}

int
policy_load(struct policy *p, const struct config *cfg, char *err,
    size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32], *text;
	ssize_t n;
	int fd, rc = -1;

	memset(p, 0, sizeof(*p));
	n = snprintf(path, sizeof(path), "%s/%s", cfg->policy_dir,
	    POLICY_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "%s: policy_dir too long",
		    cfg->policy_dir);
		return -1;
	}
	if ((fd = policy_open_file(cfg->policy_dir, path, err, errlen)) == -1)
		return -1;
	if ((text = malloc(POLICY_FILE_MAX + 1)) == NULL)
		fatal("policy_load");
	if (config_check_fd(fd, path, POLICY_FILE_MAX, err, errlen) == 0) {
		n = read(fd, text, POLICY_FILE_MAX + 1);
		if (n < 0 || n > POLICY_FILE_MAX)
			snprintf(err, errlen, "%s: read failed", path);
		else
			rc = policy_parse_flags(p, cfg, text, (size_t)n, path,
			    1, err, errlen);
	}
	free(text);
	close(fd);
	return rc;
}

void
policy_free(struct policy *p)
{
	free(p->rules);
	free(p->handlers);
	memset(p, 0, sizeof(*p));
}

/* ---- decisions ------------------------------------------------------ */

static int
policy_sender_match(const struct policy *p, const struct policy_sender *s,
    const char *from)
{
	const struct policy_group *g;
	size_t i;

	switch (s->kind) {
	case WHO_ANY:
		return 1;
	case WHO_NODE:
		return strcmp(s->name, from) == 0;
	case WHO_GROUP:
		if ((g = policy_group_find(p, s->name)) == NULL)
			return 0;
		for (i = 0; i < g->nmembers; i++)
			if (strcmp(g->members[i], from) == 0)
				return 1;
		return 0;
	}
	return 0;
}

static int
policy_rule_match(const struct policy *p, const struct policy_rule *r,
    const char *from, enum envelope_ch ch, const char *action)
{
	if (r->ch != -1 && r->ch != (int)ch)
		return 0;
	if (r->act == ACT_NONE && action != NULL)
		return 0;
	if (r->act == ACT_NAME && (action == NULL ||
	    strcmp(r->action, action) != 0))
		return 0;
	return policy_sender_match(p, &r->from, from);
}

static void
policy_fmt_sender(const struct policy_sender *s, char *buf, size_t len)
{
	if (s->kind == WHO_ANY)
		hive_strlcpy(buf, "*", len);
	else
		(void)snprintf(buf, len, "%s%s", s->kind == WHO_GROUP ? "@" :
		    "", s->name);
}

/* "allow from @ops ch command action git-sync", as written */
static void
policy_fmt_rule(const struct policy_rule *r, char *buf, size_t len)
{
	char who[NODE_MAX + 2];

	policy_fmt_sender(&r->from, who, sizeof(who));
	(void)snprintf(buf, len, "%s from %s ch %s%s%s", r->allow ? "allow" :
	    "deny", who, r->ch == -1 ? "*" :
	    envelope_ch_name((enum envelope_ch)r->ch),
	    r->act == ACT_ANY ? "" : " action ",
	    r->act == ACT_ANY ? "" : r->act == ACT_NONE ? "none" : r->action);
}

void
policy_check(const struct policy *p, const char *from, enum envelope_ch ch,
    const char *action, struct policy_verdict *v)
{
	char text[256];
	size_t i;

	memset(v, 0, sizeof(*v));
	if (from == NULL)
		from = "";	/* matches only "*" rules */
	for (i = 0; i < p->nrules; i++) {
		if (!policy_rule_match(p, &p->rules[i], from, ch, action))
			continue;
		v->allow = p->rules[i].allow;
		v->line = p->rules[i].line;
		policy_fmt_rule(&p->rules[i], text, sizeof(text));
		(void)snprintf(v->why, sizeof(v->why), "%s:%d: %.120s",
		    POLICY_FILE, v->line, text);
		return;
	}
	/* responses are gated by correlation, heartbeats and status are
	 * harmless state: open by default; everything that acts is not */
	v->allow = ch == CH_HEARTBEAT || ch == CH_STATUS || ch == CH_RESPONSE;
	if (v->allow)
		(void)snprintf(v->why, sizeof(v->why), "default: %s allowed",
		    envelope_ch_name(ch));
	else
		(void)snprintf(v->why, sizeof(v->why), "default: %s needs an "
		    "allow rule", envelope_ch_name(ch));
}

const struct policy_rate *
policy_rate_for(const struct policy *p, const char *from)
{
	size_t i;

	if (from == NULL)
		return &p->rate_unknown;
	for (i = 0; i < p->nrates; i++)
		if (policy_sender_match(p, &p->rates[i].from, from))
			return &p->rates[i];
	return &p->rate_default;
}

const struct policy_handler *
policy_handler_for(const struct policy *p, const char *action)
{
	size_t i;

	for (i = 0; i < p->nhandlers; i++)
		if (strcmp(p->handlers[i].action, action) == 0)
			return &p->handlers[i];
	if (!policy_static_ready)
		policy_handler_defaults(&policy_static_defaults);
	/* setresuid(-1) would keep our own uid: never hand that out */
	if (policy_static_defaults.uid == (uid_t)-1)
		fatalx("policy_handler_for: no user 'nobody'");
	policy_static_ready = 1;
	return &policy_static_defaults;
}

const struct policy_instance *
policy_instance_for(const struct policy *p, const char *node)
{
	size_t i;

	for (i = 0; i < p->ninstances; i++)
		if (strcmp(p->instances[i].node, node) == 0)
			return &p->instances[i];
	return NULL;
}

static int
policy_principal_match(const struct policy_principal *pr, uid_t uid,
    gid_t gid, const gid_t *groups, size_t ngroups)
{
	size_t i;

	if (pr->any)
		return 1;
	if (!pr->is_group)
		return pr->uid == uid;
	if (pr->gid == gid)
		return 1;
	for (i = 0; i < ngroups; i++)
		if (groups[i] == pr->gid)
			return 1;
	return 0;
}

int
policy_socket_allows(const struct policy *p, enum policy_sock_verb verb,
    uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	const struct policy_socket *s;
	size_t i;

	if ((unsigned)verb >= SOCK__COUNT)
		return 0;
	if (uid == 0)
		return 1;	/* root can read the keys anyway */
	s = &p->sock[verb];
	for (i = 0; i < s->n; i++)
		if (policy_principal_match(&s->p[i], uid, gid, groups,
		    ngroups))
			return 1;
	return 0;
}

void
policy_socket_why(const struct policy *p, enum policy_sock_verb verb,
    char *buf, size_t len)
{
	const char *name = (unsigned)verb < SOCK__COUNT ?
	    policy_sock_names[verb] : "?";
	int line = (unsigned)verb < SOCK__COUNT ? p->sock[verb].line : 0;

	if (line > 0)
		snprintf(buf, len, "%s:%d: socket %s does not name it",
		    POLICY_FILE, line, name);
	else
		snprintf(buf, len, "no 'socket %s' line in %s: the default, "
		    "root only", name, POLICY_FILE);
}

/* ---- printing ------------------------------------------------------- */

/* the largest unit that divides exactly: 90s, not 1m30s or 90000ms */
static void
policy_fmt_dur_ms(int64_t ms, char *buf, size_t len)
{
	static const struct { const char *u; int64_t mul; } units[] = {
		{ "d", POLICY_MS_D }, { "h", 3600 * POLICY_MS_S },
		{ "m", 60 * POLICY_MS_S }, { "s", POLICY_MS_S },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms != 0 && ms % units[i].mul == 0) {
			(void)snprintf(buf, len, "%lld%s",
			    (long long)(ms / units[i].mul), units[i].u);
			return;
		}
	}
	(void)snprintf(buf, len, "%lld%s", (long long)ms, ms ? "ms" : "s");
}

static void
policy_fmt_size(int64_t n, char *buf, size_t len)
{
	static const char units[] = "GMK";
	int i;

	for (i = 0; i < 3; i++) {
		int64_t mul = 1LL << (10 * (3 - i));

		if (n != 0 && n % mul == 0) {
			(void)snprintf(buf, len, "%lld%c",
			    (long long)(n / mul), units[i]);
			return;
		}
	}
	(void)snprintf(buf, len, "%lld", (long long)n);
}

/* per second when two decimals say it exactly, else per minute */
void
policy_fmt_rate(double per_sec, char *buf, size_t len)
{
	long long h = (long long)(per_sec * 100.0 + 0.5);
	const char *unit = "/s";

	if ((double)h / 100.0 != per_sec) {
		h = (long long)(per_sec * 6000.0 + 0.5);
		unit = "/m";
	}
	if (h % 100 == 0)
		(void)snprintf(buf, len, "%lld%s", h / 100, unit);
	else if (h % 10 == 0)
		(void)snprintf(buf, len, "%lld.%lld%s", h / 100, h % 100 / 10,
		    unit);
	else
		(void)snprintf(buf, len, "%lld.%02lld%s", h / 100, h % 100,
		    unit);
}

static void
policy_print_rate(const struct policy_rate *r, FILE *fp)
{
	char rate[32], who[NODE_MAX + 2];

	policy_fmt_rate(r->per_sec, rate, sizeof(rate));
	if (r->unknown) {
		fprintf(fp, "rate unknown %s burst %u\n", rate, r->burst);
		return;
	}
	policy_fmt_sender(&r->from, who, sizeof(who));
	fprintf(fp, "rate from %s %s burst %u\n", who, rate, r->burst);
}

static void
policy_print_socket(const struct policy *p, FILE *fp)
{
	const struct policy_principal *pr;
	size_t i;
	int v;

	for (v = 0; v < SOCK__COUNT; v++) {
		fprintf(fp, "socket %s", policy_sock_names[v]);
		for (i = 0; i < p->sock[v].n; i++) {
			pr = &p->sock[v].p[i];
			fprintf(fp, " %s%s", pr->is_group ? ":" : "", pr->name);
		}
		fprintf(fp, "\n");
	}
}

static void
policy_print_instance(const struct policy_instance *in, FILE *fp)
{
	char dur[32];

	fprintf(fp, "instance %s {\n", in->node);
	if (in->url[0] != '\0')
		fprintf(fp, "\turl %s\n", in->url);
	else if (in->port > 0)
		fprintf(fp, "\tport %d\n", in->port);
	else
		fprintf(fp, "\t# no port, no url: the openclaw default\n");
	fprintf(fp, "\tuser %s\n", in->user);
	if (in->token_file[0] != '\0')
		fprintf(fp, "\ttoken-file %s\n", in->token_file);
	if (in->password_file[0] != '\0')
		fprintf(fp, "\tpassword-file %s\n", in->password_file);
	if (in->inject == INJECT_AGENT_TURN) {
		fprintf(fp, "\tinject agent-turn\n\tagent %s\n\tsession %s\n",
		    in->agent, in->session);
		policy_fmt_dur_ms(in->later_every_s * POLICY_MS_S, dur,
		    sizeof(dur));
		fprintf(fp, "\tlater-every %s\n", dur);
	} else
		fprintf(fp, "\tinject event\n");
	fprintf(fp, "}\n");
}

/* user, group: the group by name, also when it is the user's primary */
static void
policy_print_handler_ids(const struct policy_handler *h, const char *pre,
    const char *c, FILE *fp)
{
	struct group *gr;

	fprintf(fp, "%suser %s\n", pre, h->user);
	if (h->group[0] != '\0')
		fprintf(fp, "%sgroup %s\n", pre, h->group);
	else if (h->gid != (gid_t)-1 && (gr = getgrgid(h->gid)) != NULL &&
	    policy_valid_account(gr->gr_name))
		fprintf(fp, "%sgroup %s\n", pre, gr->gr_name);
	else
		fprintf(fp, "%s%sgroup: the user's primary group\n", pre, c);
}

/* timeout, grace and the rlimits */
static void
policy_print_handler_limits(const struct policy_handler *h, const char *pre,
    FILE *fp)
{
	char b[64];

	policy_fmt_dur_ms(h->timeout_ms, b, sizeof(b));
	fprintf(fp, "%stimeout %s\n", pre, b);
	policy_fmt_dur_ms(h->grace_ms, b, sizeof(b));
	fprintf(fp, "%sgrace %s\n", pre, b);
	policy_fmt_dur_ms(h->cpu_s * POLICY_MS_S, b, sizeof(b));
	fprintf(fp, "%scpu %s\n", pre, b);
	policy_fmt_size(h->memory, b, sizeof(b));
	fprintf(fp, "%smemory %s\n", pre, b);
	fprintf(fp, "%sprocesses %lld\n%sfiles %lld\n", pre,
	    (long long)h->processes, pre, (long long)h->files);
	policy_fmt_size(h->fsize, b, sizeof(b));
	fprintf(fp, "%sfsize %s\n", pre, b);
}

/* every, jitter, wake: printed only where they mean something */
static void
policy_print_handler_schedule(const struct policy_handler *h,
    const char *pre, const char *c, FILE *fp)
{
	char b[64];

	if (h->every_s > 0) {
		policy_fmt_dur_ms(h->every_s * POLICY_MS_S, b, sizeof(b));
		fprintf(fp, "%severy %s\n", pre, b);
		policy_fmt_dur_ms(h->jitter_s * POLICY_MS_S, b, sizeof(b));
		fprintf(fp, "%sjitter %s\n", pre, b);
	} else
		fprintf(fp, "%s%snot scheduled (no every)\n", pre, c);
	if (h->wake[0] != '\0')
		fprintf(fp, "%swake %s\n", pre, h->wake);
	else
		fprintf(fp, "%s%swake: the first local node\n", pre, c);
}

/* The keys of a handler, one per line, each line prefixed with pre
 * ("\t" in a block, "#\t" in the defaults comment). */
static void
policy_print_handler_keys(const struct policy_handler *h, const char *pre,
    FILE *fp)
{
	const char *c = pre[0] == '#' ? "" : "# ";	/* comment lines */
	char b[64];

	policy_print_handler_ids(h, pre, c, fp);
	policy_print_handler_limits(h, pre, fp);
	fprintf(fp, "%sseccomp %s\n", pre, h->seccomp);
	fprintf(fp, "%snetwork %s\n%sprivate-tmp %s\n%sread-only-root %s\n",
	    pre, h->network ? "yes" : "no", pre, h->private_tmp ? "yes" : "no",
	    pre, h->read_only_root ? "yes" : "no");
	fprintf(fp, "%sconcurrency %d\n%squeue %d\n", pre, h->concurrency,
	    pre, h->queue);
	policy_fmt_size(h->stdout_max, b, sizeof(b));
	fprintf(fp, "%sstdout %s\n", pre, b);
	policy_fmt_size(h->stderr_max, b, sizeof(b));
	fprintf(fp, "%sstderr %s\n%salert %s\n", pre, b, pre,
	    h->alert ? "yes" : "no");
	policy_print_handler_schedule(h, pre, c, fp);
}

void
policy_print(const struct policy *p, FILE *fp)
{
	struct policy_handler def;
	char rule[256];
	size_t i, j;

	fprintf(fp, "# hive.policy, normalised: every effective setting\n");
	fprintf(fp, "max-handlers %d\n", p->max_handlers);
	policy_print_rate(&p->rate_unknown, fp);
	policy_print_rate(&p->rate_default, fp);
	/* groups before the rate and rule lines that may name them */
	for (i = 0; i < p->ngroups; i++) {
		fprintf(fp, "group %s", p->groups[i].name);
		for (j = 0; j < p->groups[i].nmembers; j++)
			fprintf(fp, " %s", p->groups[i].members[j]);
		fprintf(fp, "\n");
	}
	for (i = 0; i < p->nrates; i++)
		policy_print_rate(&p->rates[i], fp);
	for (i = 0; i < p->nrules; i++) {
		policy_fmt_rule(&p->rules[i], rule, sizeof(rule));
		fprintf(fp, "%s\n", rule);
	}
	policy_print_socket(p, fp);
	for (i = 0; i < p->ninstances; i++) {
		fprintf(fp, "\n");
		policy_print_instance(&p->instances[i], fp);
	}
	for (i = 0; i < p->nhandlers; i++) {
		fprintf(fp, "\nhandler %s {\n", p->handlers[i].action);
		policy_print_handler_keys(&p->handlers[i], "\t", fp);
		fprintf(fp, "}\n");
	}
	policy_handler_defaults(&def);
	fprintf(fp, "\n# an action without a handler block runs with:\n");
	policy_print_handler_keys(&def, "#\t", fp);
}

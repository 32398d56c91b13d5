/*
 * seccomp_profile.c - parse a handler seccomp profile and compile it,
 * once, into classic BPF.
 *
 * A profile is a list of lines (docs/handlers.md):
 *
 *	# comment
 *	default allow|kill|errno ERRNO
 *	kill NAME...
 *	errno ERRNO NAME...
 *	allow NAME...
 *	kill|errno ERRNO|allow NAME argN eq|has VALUE
 *	include PROFILE
 *	network deny
 *
 * Every mistake is an error with file:line: an unknown keyword or
 * syscall, a second rule for the same syscall, a rule that repeats the
 * default action, a bad number.  "kill" is SECCOMP_RET_KILL_PROCESS,
 * and so is a syscall from a foreign architecture (the x32 ABI
 * included).  Each program is also compiled in a notify form, every kill
 * a SECCOMP_RET_USER_NOTIF: the runner reads the syscall from the
 * listener, then kills the run itself (docs/handlers.md).  libseccomp
 * builds the filter and exports it to a memfd,
 * from which we read the program back (libseccomp 2.5.4 has no
 * seccomp_export_bpf_mem()).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/seccomp.h>

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "config.h"
#include "seccomp_profile.h"
#include "util.h"

struct sp_parse {
	struct seccomp_profile	*p;
	const char		*dir;
	const char		*stack[SECCOMP_PROFILE_DEPTH_MAX + 1];
	int			 depth;
	int			 have_default;
	char			*err;
	size_t			 errlen;
};

/* where we are, for messages */
struct sp_pos {
	const char	*file;
	int		 line;
};

static int sp_file(struct sp_parse *, const char *name, const char *text,
    size_t len);

static int
sp_error(struct sp_parse *ps, const struct sp_pos *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at != NULL)
		snprintf(ps->err, ps->errlen, "%s:%d: %s", at->file, at->line,
		    msg);
	else
		snprintf(ps->err, ps->errlen, "%s", msg);
	return -1;
}

static int
sp_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > SECCOMP_PROFILE_NAME_MAX || !(islower((unsigned char)
	    s[0]) || isdigit((unsigned char)s[0])))
		return 0;
	for (i = 1; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static const struct {
	const char	*name;
	int		 value;
} sp_errnos[] = {	/* sorted */
	{ "EACCES", EACCES }, { "EAFNOSUPPORT", EAFNOSUPPORT },
	{ "EINVAL", EINVAL }, { "ENOENT", ENOENT }, { "ENOSYS", ENOSYS },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "EPERM", EPERM }, { "EROFS", EROFS },
};

static int
sp_number(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
sp_errno(const char *s, uint32_t *action)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(sp_errnos) / sizeof(sp_errnos[0]); i++)
		if (strcmp(s, sp_errnos[i].name) == 0) {
			*action = SCMP_ACT_ERRNO(sp_errnos[i].value);
			return 0;
		}
	if (sp_number(s, 4095, &v) == -1 || v == 0)
		return -1;
	*action = SCMP_ACT_ERRNO((uint32_t)v);
	return 0;
}

static const char *
sp_action_name(uint32_t a)
{
	if (a == SCMP_ACT_ALLOW)
		return "allow";
	if (a == SCMP_ACT_KILL_PROCESS)
		return "kill";
	return "errno";
}

/* A second rule for a syscall: only more argument rules, same action,
 * different condition. */
static int
sp_conflict(struct sp_parse *ps, const struct sp_pos *at,
    const struct seccomp_rule *r, const char *name)
{
	const struct seccomp_profile *p = ps->p;
	size_t i;

	for (i = 0; i < p->nrules; i++) {
		const struct seccomp_rule *o = &p->rules[i];

		if (o->nr != r->nr)
			continue;
		if (o->arg == -1 || r->arg == -1 || o->action != r->action ||
		    (o->arg == r->arg && o->op == r->op &&
		    o->value == r->value))
			return sp_error(ps, at, "%s already has a rule at %s:%d",
			    name, o->file, o->line);
	}
	return 0;
}

static int
sp_add(struct sp_parse *ps, const struct sp_pos *at, const char *name,
    uint32_t action, int arg, int op, uint64_t value)
{
	struct seccomp_profile *p = ps->p;
	struct seccomp_rule r, *n;
	int nr;

	if (!ps->have_default)
		return sp_error(ps, at, "default must come before the rules");
	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
		return sp_error(ps, at, "unknown syscall '%s'", name);
	if (action == p->default_action)
		return sp_error(ps, at, "%s: %s is the default action", name,
		    sp_action_name(action));
	if (nr == seccomp_syscall_resolve_name("socket") && arg != -1)
		return sp_error(ps, at, "socket: argument rules are not "
		    "supported (use \"network deny\")");
	memset(&r, 0, sizeof(r));
	r.nr = nr;
	r.action = action;
	r.arg = arg;
	r.op = op;
	r.value = value;
	hive_strlcpy(r.file, at->file, sizeof(r.file));
	r.line = at->line;
	if (sp_conflict(ps, at, &r, name) == -1)
		return -1;
	if (p->nrules == SECCOMP_PROFILE_RULES_MAX)
		return sp_error(ps, at, "too many rules (at most %d)",
		    SECCOMP_PROFILE_RULES_MAX);
	if ((n = realloc(p->rules, (p->nrules + 1) * sizeof(*n))) == NULL)
		return sp_error(ps, at, "out of memory");
	p->rules = n;
	p->rules[p->nrules++] = r;
	return 0;
}

/* NAME argN eq|has VALUE */
static int
sp_cond(struct sp_parse *ps, const struct sp_pos *at, uint32_t action,
    char **tok, int ntok)
{
	uint64_t v;
	int op;

	if (ntok != 4)
		return sp_error(ps, at, "an argument rule is: NAME argN eq|has "
		    "VALUE");
	if (strlen(tok[1]) != 4 || tok[1][3] < '0' || tok[1][3] > '5')
		return sp_error(ps, at, "'%s': arguments are arg0 to arg5",
		    tok[1]);
	if (strcmp(tok[2], "eq") == 0)
		op = SECCOMP_OP_EQ;
	else if (strcmp(tok[2], "has") == 0)
		op = SECCOMP_OP_HAS;
	else
		return sp_error(ps, at, "'%s': the test is eq or has", tok[2]);
	if (sp_number(tok[3], UINT32_MAX, &v) == -1 ||
	    (op == SECCOMP_OP_HAS && v == 0))
		return sp_error(ps, at, "'%s': a number from 0 to 0xffffffff "
		    "(not 0 for has)", tok[3]);
	return sp_add(ps, at, tok[0], action, tok[1][3] - '0', op, v);
}

/* allow|kill NAME... / errno ERRNO NAME... */
static int
sp_rule(struct sp_parse *ps, const struct sp_pos *at, char **tok, int ntok)
{
	uint32_t action = strcmp(tok[0], "allow") == 0 ? SCMP_ACT_ALLOW :
	    SCMP_ACT_KILL_PROCESS;
	int i, first = 1;

	if (strcmp(tok[0], "errno") == 0) {
		if (ntok < 2 || sp_errno(tok[1], &action) == -1)
			return sp_error(ps, at, "errno needs an error name "
			    "(EPERM, ENOSYS, ...) or a number 1-4095");
		first = 2;
	}
	if (ntok <= first)
		return sp_error(ps, at, "%s: no syscall named", tok[0]);
	for (i = first; i < ntok; i++)
		if (strncmp(tok[i], "arg", 3) == 0)
			return sp_cond(ps, at, action, tok + first, ntok - first);
	for (i = first; i < ntok; i++)
		if (sp_add(ps, at, tok[i], action, -1, 0, 0) == -1)
			return -1;
	return 0;
}

static int
sp_default(struct sp_parse *ps, const struct sp_pos *at, char **tok,
    int ntok)
{
	uint32_t a;

	if (ps->depth == 0 && ps->have_default)
		return sp_error(ps, at, "a second default");
	if (ntok == 2 && strcmp(tok[1], "allow") == 0)
		a = SCMP_ACT_ALLOW;
	else if (ntok == 2 && strcmp(tok[1], "kill") == 0)
		a = SCMP_ACT_KILL_PROCESS;
	else if (ntok == 3 && strcmp(tok[1], "errno") == 0 &&
	    sp_errno(tok[2], &a) == 0)
		;
	else
		return sp_error(ps, at, "default allow, kill or errno ERRNO");
	if (ps->depth > 0) {	/* an included profile's must agree */
		if (!ps->have_default || a != ps->p->default_action)
			return sp_error(ps, at, "the included default differs "
			    "from the including profile's (or that has none "
			    "yet)");
		return 0;
	}
	if (ps->p->nrules > 0)
		return sp_error(ps, at, "default must come before the rules");
	ps->p->default_action = a;
	ps->have_default = 1;
	return 0;
}

static int
sp_network(struct sp_parse *ps, const struct sp_pos *at, char **tok,
    int ntok)
{
	if (ntok != 2 || strcmp(tok[1], "deny") != 0)
		return sp_error(ps, at, "network deny is the only form");
	ps->p->network_deny = 1;
	return 0;
}

static int
sp_read(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO there is refused below, not waited on */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "a symbolic link; refusing" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 022) != 0 || st.st_size > SECCOMP_PROFILE_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file owned by root "
		    "(or us), not group/world-writable, at most %d bytes",
		    path, SECCOMP_PROFILE_FILE_MAX);
		close(fd);
		return -1;
	}
	if ((*text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = read(fd, *text, (size_t)st.st_size + 1);
	close(fd);
	if (n != st.st_size) {
		free(*text);
		snprintf(err, errlen, "%s: short read", path);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

static int
sp_include(struct sp_parse *ps, const struct sp_pos *at, char **tok,
    int ntok)
{
	char path[4096], *text;
	size_t len;
	int i, rc;

	if (ntok != 2 || !sp_name_ok(tok[1]))
		return sp_error(ps, at, "include needs one profile name");
	if (ps->dir == NULL)
		return sp_error(ps, at, "include: no profile directory");
	if (ps->depth == SECCOMP_PROFILE_DEPTH_MAX)
		return sp_error(ps, at, "include nested too deep");
	for (i = 0; i <= ps->depth; i++)
		if (strcmp(ps->stack[i], tok[1]) == 0)
			return sp_error(ps, at, "include loop: %s", tok[1]);
	snprintf(path, sizeof(path), "%s/%s", ps->dir, tok[1]);
	if (sp_read(path, &text, &len, ps->err, ps->errlen) == -1) {
		char why[512];

		hive_strlcpy(why, ps->err, sizeof(why));
		return sp_error(ps, at, "include: %s", why);
	}
	ps->depth++;
	rc = sp_file(ps, tok[1], text, len);
	ps->depth--;
	free(text);
	return rc;
}

static const struct {
	const char	*word;
	int		(*fn)(struct sp_parse *, const struct sp_pos *,
			    char **, int);
} sp_keywords[] = {	/* sorted */
	{ "allow", sp_rule },
	{ "default", sp_default },
	{ "errno", sp_rule },
	{ "include", sp_include },
	{ "kill", sp_rule },
	{ "network", sp_network },
};

#define SP_TOKENS	256

static int
sp_line(struct sp_parse *ps, const struct sp_pos *at, char *s)
{
	char *tok[SP_TOKENS], *save = NULL, *t, *hash;
	int ntok = 0;
	size_t i;

	if ((hash = strchr(s, '#')) != NULL)
		*hash = '\0';
	for (t = strtok_r(s, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save)) {
		if (ntok == SP_TOKENS)
			return sp_error(ps, at, "too many words");
		tok[ntok++] = t;
	}
	if (ntok == 0)
		return 0;
	for (i = 0; i < sizeof(sp_keywords) / sizeof(sp_keywords[0]); i++)
		if (strcmp(tok[0], sp_keywords[i].word) == 0)
			return sp_keywords[i].fn(ps, at, tok, ntok);
	return sp_error(ps, at, "unknown keyword '%s'", tok[0]);
}

static int
sp_file(struct sp_parse *ps, const char *name, const char *text, size_t len)
{
	char line[SECCOMP_PROFILE_LINE_MAX + 1];
	struct sp_pos at = { name, 0 };
	size_t i = 0, n;

	ps->stack[ps->depth] = name;
	while (i < len) {
		at.line++;
		for (n = 0; i + n < len && text[i + n] != '\n'; n++) {
			unsigned char c = (unsigned char)text[i + n];

			if ((c < 0x20 && c != '\t') || c >= 0x7f)
				return sp_error(ps, &at, "a control or "
				    "non-ASCII byte");
		}
		if (n > SECCOMP_PROFILE_LINE_MAX)
			return sp_error(ps, &at, "line longer than %d bytes",
			    SECCOMP_PROFILE_LINE_MAX);
		memcpy(line, text + i, n);
		line[n] = '\0';
		i += n + 1;
		if (sp_line(ps, &at, line) == -1)
			return -1;
	}
	return 0;
}

/* ---- compiling ---- */

/* A profile's action in the program: in the notify form, a kill is a
 * user notification (the runner kills, having read the syscall). */
static uint32_t
sp_act(uint32_t a, int notify)
{
	return notify && a == SCMP_ACT_KILL_PROCESS ? SCMP_ACT_NOTIFY : a;
}

static int
sp_rule_add(scmp_filter_ctx ctx, const struct seccomp_rule *r, int notify)
{
	uint32_t act = sp_act(r->action, notify);
	struct scmp_arg_cmp c;
	unsigned int b;
	int rc;

	if (r->arg == -1)
		return seccomp_rule_add_exact(ctx, act, r->nr, 0);
	memset(&c, 0, sizeof(c));
	c.arg = (unsigned int)r->arg;
	c.op = SCMP_CMP_MASKED_EQ;
	if (r->op == SECCOMP_OP_EQ) {	/* the low 32 bits, as ioctl() */
		c.datum_a = 0xffffffffU;
		c.datum_b = r->value;
		return seccomp_rule_add_exact_array(ctx, act, r->nr, 1, &c);
	}
	for (b = 0; b < 32; b++) {	/* has: any of these bits set */
		if ((r->value & (1ULL << b)) == 0)
			continue;
		c.datum_a = c.datum_b = 1ULL << b;
		if ((rc = seccomp_rule_add_exact_array(ctx, act, r->nr, 1,
		    &c)) != 0)
			return rc;
	}
	return 0;
}

/* network "no": socket() only for AF_UNIX, EAFNOSUPPORT otherwise.  A
 * profile that kills or refuses socket() entirely already does that. */
static int
sp_nonet(scmp_filter_ctx ctx, uint32_t def, const struct seccomp_rule *sock)
{
	struct scmp_arg_cmp unix_eq = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU,
	    AF_UNIX);
	struct scmp_arg_cmp not_unix = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
	int nr = seccomp_syscall_resolve_name("socket"), rc;

	if (sock != NULL ? sock->action != SCMP_ACT_ALLOW :
	    def != SCMP_ACT_ALLOW)
		return 0;
	if (def != SCMP_ACT_ALLOW && (rc = seccomp_rule_add_exact_array(ctx,
	    SCMP_ACT_ALLOW, nr, 1, &unix_eq)) != 0)
		return rc;
	return seccomp_rule_add_exact_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
	    nr, 1, &not_unix);
}

static int
sp_export(scmp_filter_ctx ctx, struct sock_filter **insn, unsigned short *len)
{
	struct stat st;
	int fd, rc = -1;

	if ((fd = memfd_create("hive-seccomp", MFD_CLOEXEC)) == -1)
		return -1;
	if (seccomp_export_bpf(ctx, fd) != 0 || fstat(fd, &st) == -1 ||
	    st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		goto out;
	if ((*insn = malloc((size_t)st.st_size)) == NULL)
		goto out;
	if (pread(fd, *insn, (size_t)st.st_size, 0) != st.st_size) {
		free(*insn);
		*insn = NULL;
		goto out;
	}
	*len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	rc = 0;
out:
	close(fd);
	return rc;
}

static int
sp_compile_one(struct seccomp_profile *p, int nonet, int notify,
    struct sock_filter **insn, unsigned short *len)
{
	const struct seccomp_rule *sock = NULL;
	int socknr = seccomp_syscall_resolve_name("socket"), rc = -1;
	scmp_filter_ctx ctx;
	size_t i;

	if ((ctx = seccomp_init(sp_act(p->default_action, notify))) == NULL)
		return -1;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0 ||
	    /* a binary tree of syscall numbers, not a linear list: every
	     * syscall the handler makes runs this program */
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0)
		goto out;
	for (i = 0; i < p->nrules; i++) {
		if (p->rules[i].nr == socknr) {
			sock = &p->rules[i];
			if (nonet && sock->action == SCMP_ACT_ALLOW)
				continue;
		}
		if (sp_rule_add(ctx, &p->rules[i], notify) != 0)
			goto out;
	}
	if (nonet && sp_nonet(ctx, p->default_action, sock) != 0)
		goto out;
	rc = sp_export(ctx, insn, len);
out:
	seccomp_release(ctx);
	return rc;
}

/* Both forms; without the notify one (libseccomp refuses
 * SCMP_ACT_NOTIFY where the kernel lacks it) the runner kills with
 * SIGSYS and cannot name the syscall. */
static int
sp_compile(struct seccomp_profile *p, int nonet, struct handler_bpf *out)
{
	if (sp_compile_one(p, nonet, 0, &out->insn, &out->len) == -1)
		return -1;
	if (sp_compile_one(p, nonet, 1, &out->notify, &out->notify_len) == -1)
		out->notify_len = 0;
	return 0;
}

int
seccomp_profile_parse(struct seccomp_profile *p, const char *dir,
    const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	struct sp_parse ps;

	memset(p, 0, sizeof(*p));
	memset(&ps, 0, sizeof(ps));
	ps.p = p;
	ps.dir = dir;
	ps.err = err;
	ps.errlen = errlen;
	p->default_action = SCMP_ACT_KILL_PROCESS;
	if (!sp_name_ok(name)) {
		sp_error(&ps, NULL, "'%s': a profile name is [a-z0-9][a-z0-9_-]*",
		    name);
		goto fail;
	}
	hive_strlcpy(p->name, name, sizeof(p->name));
	if (sp_file(&ps, name, text, len) == -1)
		goto fail;
	if (!ps.have_default) {
		sp_error(&ps, NULL, "%s: no default line", name);
		goto fail;
	}
	if (sp_compile(p, 0, &p->bpf[0]) == -1 ||
	    sp_compile(p, 1, &p->bpf[1]) == -1) {
		sp_error(&ps, NULL, "%s: libseccomp cannot compile the profile",
		    name);
		goto fail;
	}
	return 0;
fail:
	seccomp_profile_free(p);
	return -1;
}

int
seccomp_profile_load(struct seccomp_profile *p, const char *dir,
    const char *name, char *err, size_t errlen)
{
	char path[4096], *text;
	size_t len;
	int dfd, rc;

	memset(p, 0, sizeof(*p));
	if (!sp_name_ok(name)) {
		snprintf(err, errlen, "'%s': a profile name is "
		    "[a-z0-9][a-z0-9_-]*", name);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* the directory as policy_dir itself: root's (or ours), not
	 * writable by others, who could swap a profile in */
	if ((dfd = config_open_dir(dir, err, errlen)) == -1)
		return -1;
	close(dfd);
	if (sp_read(path, &text, &len, err, errlen) == -1)
		return -1;
	rc = seccomp_profile_parse(p, dir, name, text, len, err, errlen);
	free(text);
	return rc;
}

const struct handler_bpf *
seccomp_profile_bpf(const struct seccomp_profile *p, int network)
{
	return &p->bpf[network && !p->network_deny ? 0 : 1];
}

void
seccomp_profile_free(struct seccomp_profile *p)
{
	free(p->rules);
	handler_bpf_free(&p->bpf[0]);
	handler_bpf_free(&p->bpf[1]);
	memset(p, 0, sizeof(*p));
}

static int
bpf_dup(struct sock_filter **dst, unsigned short *dlen,
    const struct sock_filter *src, unsigned short len)
{
	size_t sz = (size_t)len * sizeof(struct sock_filter);

	*dlen = 0;
	if ((*dst = malloc(sz == 0 ? 1 : sz)) == NULL)
		return -1;
	memcpy(*dst, src, sz);
	*dlen = len;
	return 0;
}

int
handler_bpf_copy(struct handler_bpf *dst, const struct handler_bpf *src)
{
	memset(dst, 0, sizeof(*dst));
	if (bpf_dup(&dst->insn, &dst->len, src->insn, src->len) == -1)
		return -1;
	if (src->notify_len > 0 && bpf_dup(&dst->notify, &dst->notify_len,
	    src->notify, src->notify_len) == -1) {
		handler_bpf_free(dst);
		return -1;
	}
	return 0;
}

/* the low and high halves of argument 0 in struct seccomp_data */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG0_LO		offsetof(struct seccomp_data, args[0])
#define ARG0_HI		(offsetof(struct seccomp_data, args[0]) + 4)
#else
#define ARG0_LO		(offsetof(struct seccomp_data, args[0]) + 4)
#define ARG0_HI		offsetof(struct seccomp_data, args[0])
#endif
#define HANDOFF_LEN	10	/* instructions of the prefix below */

int
handler_bpf_notify_handoff(struct handler_bpf *dst,
    const struct handler_bpf *src, int fd, int recv_too)
{
	int nr = seccomp_syscall_resolve_name("sendmsg");
	int nr2 = recv_too ? seccomp_syscall_resolve_name("recvmsg") : nr;
	/* a test that fails jumps to the profile's program, right after
	 * the prefix (a jump counts the instructions it skips); without
	 * recv_too the second test of the number repeats the first */
	struct sock_filter pre[HANDOFF_LEN] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, seccomp_arch_native(), 0, 8),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr2, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)fd, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_HI),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	memset(dst, 0, sizeof(*dst));
	if (src->notify_len == 0 || nr < 0 || nr2 < 0 || fd < 0 ||
	    src->notify_len + HANDOFF_LEN > BPF_MAXINSNS) {
		errno = EINVAL;
		return -1;
	}
	if ((dst->insn = calloc((size_t)src->notify_len + HANDOFF_LEN,
	    sizeof(*dst->insn))) == NULL)
		return -1;
	memcpy(dst->insn, pre, sizeof(pre));
	memcpy(dst->insn + HANDOFF_LEN, src->notify,
	    (size_t)src->notify_len * sizeof(*dst->insn));
	dst->len = (unsigned short)(src->notify_len + HANDOFF_LEN);
	return 0;
}

void
handler_bpf_free(struct handler_bpf *b)
{
	free(b->insn);
	free(b->notify);
	memset(b, 0, sizeof(*b));
}

/*
 * cli_trust.c - "admin keygen" and "trust show|add|remove|revoke".
 *
 * Only hive-cli ever holds an admin secret key; no daemon loads one.
 * The trust verbs work on files (--from, --out): publishing to the
 * bus is not done yet.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "keys.h"
#include "log.h"
#include "trust.h"

static void
admin_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli admin keygen [--dir DIR]\n"
	    "Writes DIR/admin.key (mode 0600) and DIR/admin.pub; never\n"
	    "overwrites.  Prints the admin key id (kid).  DIR defaults to '.'.\n"
	    "An admin key signs trust lists; keep it off the bus machines.\n"
	    "Its tags differ from a node key's: neither loads as the other.\n"
	    "Takes no common options and reads no configuration.\n"
	    "  --dir DIR    directory to write into (default .)\n"
	    "  --help       this help\n"
	    "exit: 0 ok, 2 usage, I/O or refusing to overwrite\n");
}

int
cmd_admin(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = ".";
	char kid[KID_HEX_LEN + 1], err[1024];
	int c;

	(void)ctx;
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		admin_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "keygen") != 0) {
		admin_usage(stderr);
		return EXIT_USAGE;
	}
	argc--, argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case OPT_HELP: admin_usage(stdout); return 0;
		default: admin_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		admin_usage(stderr);
		return EXIT_USAGE;
	}
	if (admin_key_generate(dir, kid, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return EXIT_USAGE;
	}
	printf("%s\n", kid);
	return 0;
}

/* --- trust show | add | remove | revoke, on files ------------------------ */

#define TRUST_PINS_MAX	8

enum trust_op { OP_SHOW, OP_ADD, OP_REMOVE, OP_REVOKE };

struct trust_args {
	enum trust_op	 op;
	const char	*from, *out, *admin_key, *role, *cluster;
	const char	*pubs[TRUST_PINS_MAX];
	int		 npubs, json;
	int64_t		 before;
};

static void
trust_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli trust show --from FILE [--json] "
	    "[--admin-pub F]... [--cluster C]\n"
	    "       hive-cli trust add PUBFILE... --admin-key F [--role R]\n"
	    "           (--from FILE | --cluster C) --out FILE "
	    "[--admin-pub F]...\n"
	    "       hive-cli trust remove NODE --admin-key F --from FILE "
	    "--out FILE\n"
	    "       hive-cli trust revoke NODE|KID [--before TS] "
	    "--admin-key F --from FILE\n"
	    "           --out FILE\n"
	    "Reads, edits and signs trust lists as files (publishing on the\n"
	    "bus is not done yet).  show verifies the list when --admin-pub\n"
	    "is given; an edit verifies its input against the admin key and\n"
	    "every --admin-pub, then writes serial+1 signed with --admin-key.\n"
	    "Takes no common options and reads no configuration.\n"
	    "  --from FILE       the trust list to read\n"
	    "  --out FILE        where to write the new list (may be --from)\n"
	    "  --cluster C       add: start a new list for cluster C; show:\n"
	    "                    refuse a list for another cluster\n"
	    "  --admin-key F     the admin secret key that signs\n"
	    "  --admin-pub F     a pinned admin public key (repeatable)\n"
	    "  --role R          add: the member's role (default member)\n"
	    "  --before TS       revoke: only what was signed before TS\n"
	    "  --json            show: print the list's canonical JSON\n"
	    "  --help            this help\n"
	    "exit: 0 ok, 1 refused (the reason is named), 2 usage or I/O\n");
}

static int
trust_parse_op(const char *s, enum trust_op *op)
{
	static const char *const names[] = { "show", "add", "remove",
	    "revoke" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*op = (enum trust_op)i;
			return 0;
		}
	return -1;
}

/* 1: parsed, 0: --help shown, -1: usage error */
static int
trust_getopt(int argc, char **argv, struct trust_args *a)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "cluster", required_argument, NULL, 'C' },
		{ "admin-key", required_argument, NULL, 'k' },
		{ "admin-pub", required_argument, NULL, 'P' },
		{ "role", required_argument, NULL, 'r' },
		{ "before", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	char *e;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': a->from = optarg; break;
		case 'o': a->out = optarg; break;
		case 'C': a->cluster = optarg; break;
		case 'k': a->admin_key = optarg; break;
		case 'r': a->role = optarg; break;
		case 'j': a->json = 1; break;
		case 'P':
			if (a->npubs == TRUST_PINS_MAX)
				return warnx("at most %d --admin-pub",
				    TRUST_PINS_MAX), -1;
			a->pubs[a->npubs++] = optarg;
			break;
		case 'b':
			errno = 0;
			a->before = strtoll(optarg, &e, 10);
			if (errno != 0 || e == optarg || *e != '\0' ||
			    a->before < 0 || a->before > TRUST_INT_MAX)
				return warnx("--before: not a time"), -1;
			break;
		case OPT_HELP: trust_usage(stdout); return 0;
		default: return -1;
		}
	}
	return 1;
}

/* Which options each operation takes: anything else is a usage error. */
static int
trust_args_ok(const struct trust_args *a, int nargs)
{
	switch (a->op) {
	case OP_SHOW:
		return a->from != NULL && nargs == 0 && a->out == NULL &&
		    a->admin_key == NULL && a->role == NULL && a->before < 0;
	case OP_ADD:
		return nargs > 0 && a->admin_key && a->out != NULL &&
		    (a->from == NULL) != (a->cluster == NULL) && !a->json &&
		    a->before < 0;
	case OP_REMOVE:
	case OP_REVOKE:
		return nargs == 1 && a->admin_key && a->out && a->from &&
		    a->cluster == NULL && a->role == NULL && !a->json &&
		    (a->op == OP_REVOKE || a->before < 0);
	}
	return 0;
}

static int
trust_read_file(const char *path, struct trust_list *t)
{
	char *text, detail[256];
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return warn("%s", path), -1;
	if ((text = malloc(TRUST_MAX_WIRE + 1)) == NULL)
		err(EXIT_USAGE, "malloc");
	while (len <= TRUST_MAX_WIRE && (n = read(fd, text + len,
	    TRUST_MAX_WIRE + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (trust_parse(text, len, t, detail, sizeof(detail)) != TRUST_OK) {
		warnx("%s: refused reason=trust-schema %s", path, detail);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

/* The pins: every --admin-pub, and the signing key's public half. */
static int
trust_pins(const struct trust_args *a, const struct seckey *sk,
    struct pubkey *pins, size_t *npins)
{
	char errbuf[1024];
	int i;

	*npins = 0;
	for (i = 0; i < a->npubs; i++)
		if (admin_pubkey_load(a->pubs[i], &pins[(*npins)++], errbuf,
		    sizeof(errbuf)) == -1)
			return warnx("%s", errbuf), -1;
	if (sk != NULL) {
		memset(&pins[*npins], 0, sizeof(pins[0]));
		memcpy(pins[*npins].pk, sk->pk, KEY_PUB_BYTES);
		memcpy(pins[*npins].kid, sk->kid, sizeof(sk->kid));
		(*npins)++;
	}
	return 0;
}

/* 0 verified, EXIT_REFUSED with the named reason on stderr */
static int
trust_check(const struct trust_list *t, const struct pubkey *pins,
    size_t npins, const char *cluster, const char *what)
{
	enum trust_result r;
	char detail[256];

	if ((r = trust_verify(t, pins, npins, cluster, detail,
	    sizeof(detail))) == TRUST_OK)
		return 0;
	printf("refused reason=%s %s (%s)\n", trust_result_name(r), detail,
	    what);
	return EXIT_REFUSED;
}

static void
trust_print(const struct trust_list *t, const char *verdict)
{
	char fp[80];
	size_t i, j, k;

	printf("cluster %s serial %lld ts %lld signer %s %s\n", t->cluster,
	    (long long)t->serial, (long long)t->ts,
	    t->has_sig ? t->kid : "-", verdict);
	printf("%-24s %-16s %-16s %-72s %s\n", "NODE", "ROLE", "KID",
	    "FINGERPRINT", "CAPABILITIES");
	for (i = 0; i < t->nmembers; i++) {
		const struct trust_member *m = &t->members[i];

		for (j = 0; j < m->nkeys; j++) {
			key_fingerprint(m->keys[j].pk, fp, sizeof(fp));
			printf("%-24s %-16s %-16s %-72s ", m->node, m->role,
			    m->keys[j].kid, fp);
			for (k = 0; k < m->ncaps; k++)
				printf("%s%s", k ? "," : "", m->caps[k]);
			printf("%s\n", m->ncaps ? "" : "-");
		}
	}
	for (i = 0; i < t->nrevs; i++) {
		printf("revoked %s %s", t->revs[i].node[0] ? "node" : "kid",
		    t->revs[i].node[0] ? t->revs[i].node : t->revs[i].kid);
		if (t->revs[i].before != TRUST_REVOKE_ALL)
			printf(" before %lld", (long long)t->revs[i].before);
		printf("\n");
	}
	printf("consumed invites %zu\n", t->nconsumed);
}

static int
trust_show(const struct trust_args *a)
{
	struct pubkey pins[TRUST_PINS_MAX];
	struct trust_list t;
	struct buf b;
	size_t npins;
	int rc = 0;

	if (trust_pins(a, NULL, pins, &npins) == -1 ||
	    trust_read_file(a->from, &t) == -1)
		return EXIT_USAGE;
	if (npins == 0 && a->cluster != NULL &&
	    strcmp(a->cluster, t.cluster) != 0) {
		printf("refused reason=%s cluster=%s (%s)\n",
		    trust_result_name(TRUST_CLUSTER), t.cluster, a->from);
		rc = EXIT_REFUSED;
	} else if (npins > 0)
		rc = trust_check(&t, pins, npins, a->cluster, a->from);
	if (rc != 0) {
		trust_free(&t);
		return rc;
	}
	if (a->json) {
		buf_init(&b, 2 * TRUST_MAX_WIRE);
		if (trust_canonical(&t, &b) == 0 && buf_cstr(&b) != NULL)
			printf("%s\n", b.p);
		buf_free(&b);
	} else
		trust_print(&t, npins > 0 ? "verified" : "not-verified");
	trust_free(&t);
	return 0;
}

/* Write to a temporary file beside path, fsync, rename over path. */
static int
trust_write(const struct trust_list *t, const char *path)
{
	char tmp[4096];
	struct buf b;
	int fd, ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= (int)sizeof(tmp))
		return warnx("%s: path too long", path), -1;
	buf_init(&b, 2 * TRUST_MAX_WIRE);
	if (trust_canonical(t, &b) == -1)
		errx(EXIT_USAGE, "trust: no canonical form");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1) {
		buf_free(&b);
		return warn("%s", tmp), -1;
	}
	ok = write(fd, b.p, b.len) == (ssize_t)b.len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
	buf_free(&b);
	if (!ok) {
		warn("%s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
trust_edit_add(struct trust_list *t, const struct trust_args *a, int n,
    char **files)
{
	struct pubkey pk;
	char errbuf[1024];
	int i;

	for (i = 0; i < n; i++) {
		if (pubkey_load(files[i], &pk, errbuf, sizeof(errbuf)) == -1 ||
		    trust_add_member(t, &pk, a->role, errbuf,
		    sizeof(errbuf)) == -1)
			return warnx("%s: %s", files[i], errbuf), -1;
		printf("added %s kid %s role %s\n", pk.node, pk.kid,
		    trust_find_member(t, pk.node)->role);
	}
	return 0;
}

static int
trust_edit(struct trust_list *t, const struct trust_args *a, int n,
    char **args)
{
	char detail[256];

	switch (a->op) {
	case OP_ADD:
		return trust_edit_add(t, a, n, args);
	case OP_REMOVE:
		if (trust_remove_member(t, args[0], detail,
		    sizeof(detail)) == -1)
			return warnx("%s", detail), -1;
		printf("removed %s\n", args[0]);
		return 0;
	case OP_REVOKE:
		if (trust_revoke(t, args[0], a->before, detail,
		    sizeof(detail)) == -1)
			return warnx("%s: %s", args[0], detail), -1;
		if (a->before >= 0)
			printf("revoked %s before %lld\n", args[0],
			    (long long)a->before);
		else
			printf("revoked %s\n", args[0]);
		return 0;
	case OP_SHOW:
		break;
	}
	fatalx("trust_edit: impossible op %d", (int)a->op);
}

/* Read (and verify) or start the list, edit it, sign serial+1, write. */
static int
trust_change(const struct trust_args *a, int n, char **args)
{
	struct pubkey pins[TRUST_PINS_MAX + 1];
	struct trust_list t;
	struct seckey sk;
	char errbuf[1024];
	size_t npins;
	int rc = EXIT_USAGE;

	if (admin_seckey_load(a->admin_key, &sk, errbuf, sizeof(errbuf)) == -1)
		return warnx("%s", errbuf), EXIT_USAGE;
	if (trust_pins(a, &sk, pins, &npins) == -1)
		goto out;
	if (a->cluster != NULL) {
		if (trust_new(&t, a->cluster) == -1) {
			warnx("--cluster: invalid name '%s'", a->cluster);
			goto out;
		}
	} else if (trust_read_file(a->from, &t) == -1)
		goto out;
	else if ((rc = trust_check(&t, pins, npins, NULL, a->from)) != 0)
		goto done;
	rc = EXIT_USAGE;
	if (trust_edit(&t, a, n, args) == -1 ||
	    trust_set_serial(&t, t.serial + 1) == -1 ||
	    trust_sign(&t, &sk, (int64_t)time(NULL)) == -1 ||
	    trust_write(&t, a->out) == -1)
		goto done;
	printf("serial %lld signed by %s written to %s\n",
	    (long long)t.serial, sk.kid, a->out);
	rc = 0;
done:
	trust_free(&t);
out:
	seckey_free(&sk);
	return rc;
}

int
cmd_trust(struct cli_ctx *ctx, int argc, char **argv)
{
	struct trust_args a;
	int r;

	(void)ctx;
	memset(&a, 0, sizeof(a));
	a.before = -1;
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		trust_usage(stdout);
		return 0;
	}
	if (argc < 2 || trust_parse_op(argv[1], &a.op) == -1) {
		trust_usage(stderr);
		return EXIT_USAGE;
	}
	argc--, argv++;
	if ((r = trust_getopt(argc, argv, &a)) <= 0) {
		if (r < 0)
			trust_usage(stderr);
		return r < 0 ? EXIT_USAGE : 0;
	}
	if (!trust_args_ok(&a, argc - optind)) {
		trust_usage(stderr);
		return EXIT_USAGE;
	}
	if (a.op == OP_SHOW)
		return trust_show(&a);
	return trust_change(&a, argc - optind, argv + optind);
}

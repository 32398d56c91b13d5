/*
 * test_seccomp_profile.c - the handler profile parser: every error
 * with its file:line, the shipped profiles, and the compiled programs
 * loaded in children that then make one call each.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/audit.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "bpf_eval.h"
#include "seccomp_profile.h"
#include "t.h"

static char tmpdir[] = "/tmp/hive-sp.XXXXXX";

static int
parse(const char *text, char *err, size_t errlen)
{
	struct seccomp_profile p;
	int rc;

	rc = seccomp_profile_parse(&p, tmpdir, "t", text, strlen(text), err,
	    errlen);
	if (rc == 0)
		seccomp_profile_free(&p);
	return rc;
}

/* text must fail with an error that contains want */
static void
bad(const char *text, const char *want, int line)
{
	char err[512] = "";

	if (parse(text, err, sizeof(err)) != -1 || strstr(err, want) == NULL) {
		t_fail++;
		fprintf(stderr, "FAIL line %d: %s\n  got: %s\n  want: %s\n",
		    line, text, err, want);
	} else
		t_pass++;
}
#define BAD(t, w)	bad((t), (w), __LINE__)

static void
good(const char *text, int line)
{
	char err[512] = "";

	if (parse(text, err, sizeof(err)) != 0) {
		t_fail++;
		fprintf(stderr, "FAIL line %d: %s\n  error: %s\n", line, text,
		    err);
	} else
		t_pass++;
}
#define GOOD(t)		good((t), __LINE__)

static void
put(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
test_errors(void)
{
	BAD("", "no default line");
	BAD("# only a comment\n", "no default line");
	BAD("default allow\nfrobnicate x\n", "t:2: unknown keyword 'frobnicate'");
	BAD("default maybe\n", "t:1: default allow, kill or errno");
	BAD("default errno EWHAT\n", "t:1: default allow, kill or errno");
	BAD("default allow\ndefault kill\n", "t:2: a second default");
	BAD("default allow\nkill not_a_syscall\n",
	    "t:2: unknown syscall 'not_a_syscall'");
	BAD("default allow\nallow read\n", "t:2: read: allow is the default");
	BAD("default kill\nkill read\n", "t:2: read: kill is the default");
	BAD("default allow\nkill ptrace\nkill ptrace\n",
	    "t:3: ptrace already has a rule at t:2");
	BAD("default allow\nkill ptrace\nerrno EPERM ptrace\n",
	    "t:3: ptrace already has a rule at t:2");
	BAD("default allow\nkill ioctl arg1 eq 1\nerrno EPERM ioctl arg1 eq 2\n",
	    "t:3: ioctl already has a rule at t:2");
	BAD("default allow\nkill ioctl arg1 eq 1\nkill ioctl arg1 eq 1\n",
	    "t:3: ioctl already has a rule at t:2");
	BAD("default allow\nkill ioctl arg1 eq 1\nkill ioctl\n",
	    "t:3: ioctl already has a rule at t:2");
	BAD("default allow\nkill\n", "t:2: kill: no syscall named");
	BAD("default allow\nerrno\n", "t:2: errno needs an error name");
	BAD("default allow\nerrno EWHAT read\n", "t:2: errno needs");
	BAD("default allow\nerrno 0 read\n", "t:2: errno needs");
	BAD("default allow\nerrno 4096 read\n", "t:2: errno needs");
	BAD("default allow\nerrno ptrace\n", "t:2: errno needs");
	BAD("default allow\nkill ioctl arg1 eq\n", "t:2: an argument rule is");
	BAD("default allow\nkill ioctl read arg1 eq 1\n",
	    "t:2: an argument rule is");
	BAD("default allow\nkill ioctl arg6 eq 1\n",
	    "t:2: 'arg6': arguments are arg0 to arg5");
	BAD("default allow\nkill ioctl argx eq 1\n", "arguments are arg0");
	BAD("default allow\nkill ioctl arg1 lt 1\n",
	    "t:2: 'lt': the test is eq or has");
	BAD("default allow\nkill ioctl arg1 eq 0x100000000\n",
	    "t:2: '0x100000000': a number");
	BAD("default allow\nkill ioctl arg1 eq -1\n", "t:2: '-1': a number");
	BAD("default allow\nkill ioctl arg1 eq 12z\n", "t:2: '12z': a number");
	BAD("default allow\nkill clone arg0 has 0\n", "t:2: '0': a number");
	BAD("default allow\nkill socket arg0 eq 2\n",
	    "t:2: socket: argument rules are not supported");
	BAD("kill ptrace\ndefault allow\n",
	    "t:1: default must come before the rules");
	BAD("default allow\nnetwork allow\n", "t:2: network deny is the only");
	BAD("default allow\nnetwork\n", "t:2: network deny is the only");
	BAD("default allow\nkill ptr\x01" "ace\n", "t:2: a control or non-ASCII");
	BAD("default allow\nkill ptrac\xc3\xa9\n", "t:2: a control or non-ASCII");
	BAD("default allow\ninclude\n", "t:2: include needs one profile name");
	BAD("default allow\ninclude ../etc\n", "t:2: include needs one profile");
	BAD("default allow\ninclude a b\n", "t:2: include needs one profile");
	BAD("default allow\ninclude missing\n", "t:2: include: ");
	BAD("default allow\ninclude t\n", "t:2: include loop: t");
	BAD("default allow\ninclude loopa\n", "include loop: loopa");
	BAD("default allow\ninclude killer\n", "killer:1: the included default "
	    "differs");
	BAD("default allow\ninclude writable\n", "group/world-writable");
	BAD("default allow\ninclude dup\nkill ptrace\n",
	    "t:3: ptrace already has a rule at dup:1");
	BAD("default allow\ninclude deep1\n", "include nested too deep");
	{
		char big[SECCOMP_PROFILE_LINE_MAX + 64];

		memset(big, 'a', sizeof(big));
		memcpy(big, "default allow\n", 14);
		big[sizeof(big) - 1] = '\0';
		BAD(big, "t:2: line longer than");
	}
}

static void
test_good(void)
{
	GOOD("default allow\n");
	GOOD("  # comment\n\ndefault allow # trailing\n\tkill ptrace  mount\n");
	GOOD("default kill\nallow read write exit_group execve\n");
	GOOD("default errno EPERM\nallow read\nkill ptrace\n");
	GOOD("default allow\nkill ioctl arg1 eq 0x5412\n"
	    "kill ioctl arg1 eq 0x541c\n");
	GOOD("default allow\nkill clone arg0 has 0x7e020000\n");
	GOOD("default allow\nerrno 38 clone3\nerrno EAFNOSUPPORT socket\n");
	GOOD("default allow\ninclude dup\n");
	GOOD("default allow\nnetwork deny\n");
	GOOD("default allow\nkill ptrace");	/* no final newline */
}

static int
shipped(const char *name)
{
	struct seccomp_profile p;
	char dir[512], err[512];

	snprintf(dir, sizeof(dir), "%s/policy/seccomp", HIVE_SRC);
	if (seccomp_profile_load(&p, dir, name, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	seccomp_profile_free(&p);
	return 0;
}

/* Load prog in a child, make one call, report how the child ended:
 * 1000 + errno if the call failed, 0 if it worked, -SIG if killed. */
enum { CALL_PTRACE, CALL_INET, CALL_UNIX, CALL_GETPID, CALL_CLONE_NS,
    CALL_I386, CALL_SENDMSG_77, CALL_SENDMSG_78, CALL_SENDMSG_77_HI,
    CALL_RECVMSG_77, CALL_RECVMSG_78 };

static int
try_call(const struct handler_bpf *b, int call)
{
	struct sock_fprog prog = { b->len, b->insn };
	int st, r = 0;
	pid_t pid;

	if ((pid = fork()) == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
			_exit(99);
		switch (call) {
		case CALL_PTRACE:
			r = (int)syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0);
			break;
		case CALL_INET:
			r = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
			break;
		case CALL_UNIX:
			r = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
			break;
		case CALL_GETPID:
			r = (int)syscall(SYS_getpid);
			break;
		case CALL_I386:		/* getpid through the i386 ABI */
#ifdef __x86_64__
		{
			long v;

			__asm__ volatile("int $0x80" : "=a"(v) : "a"(20L) :
			    "memory");
			r = (int)v;
		}
#endif
			break;
		case CALL_SENDMSG_77:	/* no such descriptor: EBADF */
		case CALL_SENDMSG_78:
			r = (int)syscall(SYS_sendmsg, call == CALL_SENDMSG_77 ?
			    77 : 78, NULL, 0);
			break;
		case CALL_RECVMSG_77:
		case CALL_RECVMSG_78:
			r = (int)syscall(SYS_recvmsg, call == CALL_RECVMSG_77 ?
			    77 : 78, NULL, 0);
			break;
		case CALL_SENDMSG_77_HI:	/* the kernel reads an int */
			r = (int)syscall(SYS_sendmsg, (1L << 32) | 77, NULL, 0);
			break;
		case CALL_CLONE_NS:
			r = (int)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0,
			    0, 0, 0);
			if (r == 0)
				_exit(0);
			break;
		}
		/* raw calls only: no sanitizer interceptor under an
		 * allowlist */
		syscall(SYS_exit_group, r == -1 ? (errno > 100 ? 100 : errno) :
		    0);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -999;
	if (WIFSIGNALED(st))
		return -WTERMSIG(st);
	return WEXITSTATUS(st) == 0 ? 0 : 1000 + WEXITSTATUS(st);
}

/* The same call as try_call makes, as struct seccomp_data. */
static void
call_data(int call, struct seccomp_data *d)
{
	memset(d, 0, sizeof(*d));
	d->arch = seccomp_arch_native();
	switch (call) {
	case CALL_PTRACE: d->nr = SYS_ptrace; break;
	case CALL_INET:
	case CALL_UNIX:
		d->nr = SYS_socket;
		d->args[0] = call == CALL_INET ? AF_INET : AF_UNIX;
		d->args[1] = SOCK_STREAM;
		break;
	case CALL_GETPID: d->nr = SYS_getpid; break;
	case CALL_I386: d->arch = AUDIT_ARCH_I386; d->nr = 20; break;
	case CALL_SENDMSG_77: d->nr = SYS_sendmsg; d->args[0] = 77; break;
	case CALL_SENDMSG_78: d->nr = SYS_sendmsg; d->args[0] = 78; break;
	case CALL_SENDMSG_77_HI:
		d->nr = SYS_sendmsg;
		d->args[0] = (1ULL << 32) | 77;
		break;
	case CALL_RECVMSG_77: d->nr = SYS_recvmsg; d->args[0] = 77; break;
	case CALL_RECVMSG_78: d->nr = SYS_recvmsg; d->args[0] = 78; break;
	case CALL_CLONE_NS:
		d->nr = SYS_clone;
		d->args[0] = CLONE_NEWUSER | SIGCHLD;
		break;
	}
}

/*
 * try_call, and bpf_eval (src/bpf_eval.c) asked the same: they must
 * agree.  A kill is SIGSYS, an errno that errno (as try_call reports
 * it), a notification without a listener ENOSYS, and an allowed call
 * anything but those three.
 */
static int
both(const struct handler_bpf *b, int call)
{
	struct seccomp_data d;
	uint32_t v;
	int r = try_call(b, call), e;

	call_data(call, &d);
	v = bpf_eval(b->insn, b->len, &d);
	switch (v & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS:
	case SECCOMP_RET_KILL_THREAD:
		CHECK(r == -SIGSYS);
		break;
	case SECCOMP_RET_ERRNO:
		e = (int)(v & SECCOMP_RET_DATA);
		CHECK(r == 1000 + (e > 100 ? 100 : e));
		break;
	case SECCOMP_RET_USER_NOTIF:
		CHECK(r == 1000 + ENOSYS);
		break;
	case SECCOMP_RET_ALLOW:
		CHECK(r != -SIGSYS && r != 1000 + ENOSYS);
		break;
	default:
		CHECK(!"an action the shipped programs do not use");
	}
	return r;
}

static void
test_programs(void)
{
	struct seccomp_profile p;
	char dir[512], err[512];

	CHECK(shipped("default") == 0);
	CHECK(shipped("nonet") == 0);
	CHECK(shipped("strict") == 0);
	snprintf(dir, sizeof(dir), "%s/policy/seccomp", HIVE_SRC);
	if (seccomp_profile_load(&p, dir, "default", err, sizeof(err)) != 0) {
		CHECK(!"default profile loads");
		return;
	}
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_GETPID) == 0);
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_PTRACE) == -SIGSYS);
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_CLONE_NS) == -SIGSYS);
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_INET) == 0);
	CHECK(both(seccomp_profile_bpf(&p, 0), CALL_INET) ==
	    1000 + EAFNOSUPPORT);
	CHECK(both(seccomp_profile_bpf(&p, 0), CALL_UNIX) == 0);
#ifdef __x86_64__
	/* a foreign architecture kills the process, even under "default
	 * allow" */
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_I386) == -SIGSYS);
#endif
	seccomp_profile_free(&p);
	if (seccomp_profile_load(&p, dir, "nonet", err, sizeof(err)) != 0) {
		CHECK(!"nonet profile loads");
		return;
	}
	/* "network deny": no network even when the policy says yes */
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_INET) ==
	    1000 + EAFNOSUPPORT);
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_UNIX) == 0);
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_PTRACE) == -SIGSYS);
	seccomp_profile_free(&p);
}

/*
 * The notify form: a kill is a user notification (with no listener, as
 * here, the call fails with ENOSYS), a foreign architecture still
 * kills; the handoff prefix lets sendmsg() through on its descriptor
 * number only, all 64 bits of it.
 */
static void
test_notify_form(void)
{
	struct seccomp_profile p;
	struct handler_bpf h;
	const char *text = "default kill\nallow exit_group getpid\n";
	char err[256];

	if (seccomp_profile_parse(&p, NULL, "n", text, strlen(text), err,
	    sizeof(err)) != 0) {
		CHECK(!"notify profile parses");
		return;
	}
	CHECK(seccomp_profile_bpf(&p, 1)->notify_len > 0);
	CHECK(handler_bpf_notify_handoff(&h, seccomp_profile_bpf(&p, 1), 77, 0)
	    == 0);
	CHECK(both(&h, CALL_GETPID) == 0);
	CHECK(both(&h, CALL_PTRACE) == 1000 + ENOSYS);
	CHECK(both(&h, CALL_SENDMSG_77) == 1000 + EBADF);
	CHECK(both(&h, CALL_SENDMSG_78) == 1000 + ENOSYS);
	CHECK(both(&h, CALL_SENDMSG_77_HI) == 1000 + ENOSYS);
	CHECK(both(&h, CALL_RECVMSG_77) == 1000 + ENOSYS);
	handler_bpf_free(&h);
	/* a zygote's: recvmsg there too, and still nowhere else */
	CHECK(handler_bpf_notify_handoff(&h, seccomp_profile_bpf(&p, 1), 77, 1)
	    == 0);
	CHECK(both(&h, CALL_RECVMSG_77) == 1000 + EBADF);
	CHECK(both(&h, CALL_SENDMSG_77) == 1000 + EBADF);
	CHECK(both(&h, CALL_RECVMSG_78) == 1000 + ENOSYS);
	CHECK(both(&h, CALL_SENDMSG_78) == 1000 + ENOSYS);
	CHECK(both(&h, CALL_GETPID) == 0);
#ifdef __x86_64__
	CHECK(both(&h, CALL_I386) == -SIGSYS);
#endif
	/* the kill program is untouched: no way through */
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_SENDMSG_77) == -SIGSYS);
	handler_bpf_free(&h);
	seccomp_profile_free(&p);
}

/* a kill-default profile: network "no" still allows AF_UNIX */
static void
test_allowlist_nonet(void)
{
	struct seccomp_profile p;
	const char *text = "default kill\nallow exit_group socket getpid\n";
	char err[256];

	if (seccomp_profile_parse(&p, NULL, "a", text, strlen(text), err,
	    sizeof(err)) != 0) {
		CHECK(!"allowlist parses");
		return;
	}
	CHECK(both(seccomp_profile_bpf(&p, 0), CALL_UNIX) == 0);
	CHECK(both(seccomp_profile_bpf(&p, 0), CALL_INET) ==
	    1000 + EAFNOSUPPORT);
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_INET) == 0);
	CHECK(both(seccomp_profile_bpf(&p, 1), CALL_PTRACE) == -SIGSYS);
	seccomp_profile_free(&p);
	CHECK(seccomp_profile_parse(&p, NULL, "a", "default allow\ninclude x\n",
	    24, err, sizeof(err)) == -1 && strstr(err, "no profile directory"));
	CHECK(seccomp_profile_load(&p, tmpdir, "Bad", err, sizeof(err)) == -1);
}

/* What the kernel's checker refuses, the evaluator treats as a kill:
 * it never answers "allowed" for a program the kernel would not run. */
static void
test_eval_malformed(void)
{
	struct seccomp_data d = { .nr = 39 };
	struct sock_filter ok[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
	};
	struct sock_filter oob[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, sizeof(d)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter odd[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter far[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter ja[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter noret[] = {
		BPF_STMT(BPF_LD | BPF_IMM, SECCOMP_RET_ALLOW),
	};
	struct sock_filter bad[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter div0[] = {
		BPF_STMT(BPF_LDX | BPF_IMM, 0),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter mem[] = {
		BPF_STMT(BPF_LD | BPF_IMM, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_ST, 3),
		BPF_STMT(BPF_LD | BPF_IMM, 0),
		BPF_STMT(BPF_LDX | BPF_MEM, 3),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
#define N(a)	(sizeof(a) / sizeof(a[0]))

	CHECK(bpf_eval(ok, N(ok), &d) == SECCOMP_RET_ALLOW);
	d.nr = 40;
	CHECK(bpf_eval(ok, N(ok), &d) == (SECCOMP_RET_ERRNO | 1));
	CHECK(bpf_eval(oob, N(oob), &d) == SECCOMP_RET_KILL_PROCESS);
	CHECK(bpf_eval(odd, N(odd), &d) == SECCOMP_RET_KILL_PROCESS);
	CHECK(bpf_eval(far, N(far), &d) == SECCOMP_RET_KILL_PROCESS);
	CHECK(bpf_eval(ja, N(ja), &d) == SECCOMP_RET_KILL_PROCESS);
	CHECK(bpf_eval(noret, N(noret), &d) == SECCOMP_RET_KILL_PROCESS);
	CHECK(bpf_eval(bad, N(bad), &d) == SECCOMP_RET_KILL_PROCESS);
	CHECK(bpf_eval(div0, N(div0), &d) == SECCOMP_RET_KILL_PROCESS);
	CHECK(bpf_eval(mem, N(mem), &d) == SECCOMP_RET_ALLOW);
#undef N
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	put("dup", "kill ptrace\n", 0644);
	put("killer", "default kill\n", 0644);
	put("writable", "kill ptrace\n", 0666);
	put("loopa", "include loopb\n", 0644);
	put("loopb", "include loopa\n", 0644);
	put("deep1", "include deep2\n", 0644);
	put("deep2", "include deep3\n", 0644);
	put("deep3", "include deep4\n", 0644);
	put("deep4", "include deep5\n", 0644);
	put("deep5", "kill ptrace\n", 0644);
	test_errors();
	test_good();
	test_programs();
	test_allowlist_nonet();
	test_notify_form();
	test_eval_malformed();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			t_fail++;
	}
	return t_done();
}

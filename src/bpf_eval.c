/*
 * bpf_eval.c - a classic-BPF interpreter for seccomp programs, with
 * exactly the instructions the kernel's seccomp_check_filter() admits:
 * loads of the 32-bit words of struct seccomp_data (aligned, in
 * bounds), immediate and scratch-memory loads and stores, ALU, jumps
 * and returns.  Anything else ends the evaluation as a kill: the
 * caller only ever learns "allowed" from a program that allows.
 */
#include <string.h>

#include "bpf_eval.h"

#define BPF_EVAL_KILL	SECCOMP_RET_KILL_PROCESS

static int
eval_load(const struct seccomp_data *d, uint32_t k, uint32_t *a)
{
	if (k % 4 != 0 || k > sizeof(*d) - 4)
		return -1;
	memcpy(a, (const char *)d + k, 4);
	return 0;
}

/* -1: division by zero or a shift out of range, which the checker
 * lets through only for X (and the kernel ends the program with 0) */
static int
eval_alu(uint16_t code, uint32_t *a, uint32_t v)
{
	switch (BPF_OP(code)) {
	case BPF_ADD: *a += v; break;
	case BPF_SUB: *a -= v; break;
	case BPF_MUL: *a *= v; break;
	case BPF_DIV: if (v == 0) return -1; *a /= v; break;
	case BPF_MOD: if (v == 0) return -1; *a %= v; break;
	case BPF_AND: *a &= v; break;
	case BPF_OR: *a |= v; break;
	case BPF_XOR: *a ^= v; break;
	case BPF_LSH: if (v >= 32) return -1; *a <<= v; break;
	case BPF_RSH: if (v >= 32) return -1; *a >>= v; break;
	case BPF_NEG: *a = -*a; break;
	default: return -1;
	}
	return 0;
}

static int
eval_jump(uint16_t code, uint32_t a, uint32_t v, int *taken)
{
	switch (BPF_OP(code)) {
	case BPF_JEQ: *taken = a == v; break;
	case BPF_JGT: *taken = a > v; break;
	case BPF_JGE: *taken = a >= v; break;
	case BPF_JSET: *taken = (a & v) != 0; break;
	default: return -1;
	}
	return 0;
}

uint32_t
bpf_eval(const struct sock_filter *f, size_t len,
    const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS];
	size_t pc = 0;
	int taken;

	memset(mem, 0, sizeof(mem));
	while (pc < len) {
		const struct sock_filter *i = &f[pc++];
		uint32_t k = i->k;

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (eval_load(d, k, &a) == -1)
				return BPF_EVAL_KILL;
			break;
		case BPF_LD | BPF_W | BPF_LEN: a = sizeof(*d); break;
		case BPF_LDX | BPF_W | BPF_LEN: x = sizeof(*d); break;
		case BPF_LD | BPF_IMM: a = k; break;
		case BPF_LDX | BPF_IMM: x = k; break;
		case BPF_MISC | BPF_TAX: x = a; break;
		case BPF_MISC | BPF_TXA: a = x; break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return BPF_EVAL_KILL;
			if (i->code == (BPF_LD | BPF_MEM))
				a = mem[k];
			else if (i->code == (BPF_LDX | BPF_MEM))
				x = mem[k];
			else
				mem[k] = i->code == BPF_ST ? a : x;
			break;
		case BPF_RET | BPF_K: return k;
		case BPF_RET | BPF_A: return a;
		case BPF_JMP | BPF_JA:
			if (k >= len - pc)
				return BPF_EVAL_KILL;
			pc += k;
			break;
		default:
			if (BPF_CLASS(i->code) == BPF_ALU) {
				if (eval_alu(i->code, &a, BPF_SRC(i->code) ==
				    BPF_X ? x : k) == -1)
					return BPF_EVAL_KILL;
				break;
			}
			if (BPF_CLASS(i->code) != BPF_JMP || eval_jump(i->code,
			    a, BPF_SRC(i->code) == BPF_X ? x : k, &taken) == -1)
				return BPF_EVAL_KILL;
			/* both targets, as the checker does at load */
			if ((size_t)i->jt >= len - pc ||
			    (size_t)i->jf >= len - pc)
				return BPF_EVAL_KILL;
			pc += taken ? i->jt : i->jf;
			break;
		}
	}
	return BPF_EVAL_KILL;	/* fell off the end */
}

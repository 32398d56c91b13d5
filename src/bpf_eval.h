/*
 * bpf_eval.h - run a seccomp classic-BPF program in user space, on a
 * system call we describe, and say what the kernel would return.
 *
 * The runner asks it, once per handler configuration, whether the
 * calls its zygote makes before a handler's execve are ones the
 * handler's own profile allows (src/handler_zygote.c): the zygote path
 * is taken only if every one of them is; a profile that would kill one
 * sends that handler down the cold path instead, so no handler run is
 * ever blamed for a call the daemon made on its behalf.
 */
#ifndef HIVE_BPF_EVAL_H
#define HIVE_BPF_EVAL_H

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <stddef.h>
#include <stdint.h>

/*
 * The program's return value for data (SECCOMP_RET_*, with its data
 * bits), or SECCOMP_RET_KILL_PROCESS for anything the kernel's own
 * checker would have refused to load (an unknown opcode, a load out of
 * bounds, a jump past the end, no return): fail closed.
 */
uint32_t bpf_eval(const struct sock_filter *, size_t len,
    const struct seccomp_data *);

#endif

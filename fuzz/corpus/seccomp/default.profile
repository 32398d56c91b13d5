# default - the deny-list every handler gets unless its policy names
# another profile.  Everything is allowed except what a handler never
# needs and an attacker wants for a kernel attack or an escape, in the
# spirit of container runtimes' default profiles.  "kill" ends the
# whole process with SIGSYS (outcome killed-by-seccomp).  Format:
# docs/handlers.md.
default allow

# other processes: tracing, their memory, comparing their fds
kill ptrace process_vm_readv process_vm_writev kcmp pidfd_getfd

# filesystems and namespaces (old and new mount APIs)
kill mount umount2 pivot_root chroot
kill fsopen fsconfig fsmount fspick move_mount open_tree mount_setattr
kill unshare setns
# clone() with a namespace flag: NEWNS NEWCGROUP NEWUTS NEWIPC NEWUSER
# NEWPID NEWNET
kill clone arg0 has 0x7e020000
# clone3's flags live in memory seccomp cannot read: ENOSYS makes glibc
# fall back to clone(), whose flags are checked above
errno ENOSYS clone3

# the kernel itself: modules, kexec, BPF, perf, keyrings, userfaultfd
kill init_module finit_module delete_module kexec_load kexec_file_load
kill bpf perf_event_open keyctl add_key request_key userfaultfd
kill lookup_dcookie
# io_uring: a large attack surface; ENOSYS makes libraries fall back
errno ENOSYS io_uring_setup io_uring_enter io_uring_register

# the machine: reboot, swap, clocks, accounting, quotas, kernel log,
# raw I/O ports, obsolete calls
kill reboot swapon swapoff settimeofday clock_settime clock_adjtime
kill adjtimex acct quotactl quotactl_fd syslog iopl ioperm vhangup
kill nfsservctl uselib _sysctl open_by_handle_at name_to_handle_at
kill fanotify_init

# terminals: pushing input into another's terminal (TIOCSTI 0x5412,
# TIOCLINUX 0x541c)
kill ioctl arg1 eq 0x5412
kill ioctl arg1 eq 0x541c

# personality flags that weaken the program: READ_IMPLIES_EXEC,
# ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO, ADDR_COMPAT_LAYOUT.  Refused, not
# killed; the query personality(0xffffffff) is refused too (EPERM).
errno EPERM personality arg0 has 0x0740000

# strict - an allowlist: enough for /bin/sh running a script that reads
# stdin and prints JSON with common coreutils (cat, printf, sed, tr,
# head, cut, grep, wc).  Generated from strace -f of such scripts (dash
# and bash) and then tested enforcing (tests/integration/
# test_handlers.sh).  Anything else kills the process.
default kill

# loading and running a program
allow execve execveat brk mmap munmap mprotect mremap madvise
allow arch_prctl set_tid_address set_robust_list rseq futex getrandom
allow prlimit64 getrlimit uname sysinfo sched_getaffinity sched_yield
allow exit exit_group restart_syscall

# files: reading, writing, temporary files
allow read write readv writev pread64 pwrite64 lseek close close_range
allow openat open creat access faccessat faccessat2 newfstatat fstat
allow stat lstat statx statfs fstatfs readlink readlinkat getdents64
allow getcwd chdir fchdir umask fcntl dup dup2 dup3 pipe pipe2 ioctl
allow fadvise64 ftruncate unlink unlinkat rename renameat renameat2
allow mkdir mkdirat fchmod fchmodat

# processes and signals: the shell's pipelines and $(...)
allow clone fork vfork wait4 waitid kill tgkill getpid getppid gettid
allow getpgrp getpgid setpgid getsid rt_sigaction rt_sigprocmask
allow rt_sigreturn rt_sigsuspend sigaltstack alarm setitimer getitimer
allow getuid geteuid getgid getegid getresuid getresgid getgroups prctl
allow poll ppoll select pselect6 nanosleep clock_nanosleep
allow clock_gettime clock_getres gettimeofday time
errno ENOSYS clone3

# no network: refused, not killed (bash calls getpeername(0) at start)
errno EACCES socket connect getpeername getsockname

kill ptrace
default allow

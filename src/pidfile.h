/*
 * pidfile.h - hive-daemon's pid file (hive.conf pid_file): the
 * monitor's pid, written by the monitor once it is set up and read by
 * "hive-cli reload".  The router and the injectors carry the same
 * program name, so a pid found anywhere is checked to be a monitor's
 * before it is signalled.
 */
#ifndef HIVE_PIDFILE_H
#define HIVE_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* The pid in path ("PID\n"): 0, or -1 with why in err (errno ENOENT:
 * no such file). */
int pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen);

/* 1 if pid is a running hive-daemon monitor: /proc/PID/cmdline's
 * argv[0] ends in hive-daemon and no -P (a child's role) is given. */
int pidfile_is_monitor(pid_t pid);

/* pid, atomically (a temporary file renamed over path), mode 0644:
 * 0, or -1 with why in err. */
int pidfile_write(const char *path, pid_t pid, char *err, size_t errlen);

/* Remove path if it still names pid (a newer daemon's is left). */
void pidfile_remove(const char *path, pid_t pid);

#endif

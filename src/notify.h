/*
 * notify.h - systemd readiness and watchdog without libsystemd.
 *
 * The sd_notify(3) protocol is one datagram of "KEY=VALUE\n..." text
 * on an AF_UNIX socket named by $NOTIFY_SOCKET; a few lines of our own
 * avoid a dependency.  notify_init() captures NOTIFY_SOCKET,
 * WATCHDOG_USEC and WATCHDOG_PID once and removes them from the
 * environment, so no child (router, injector, handler) inherits them.
 */
#ifndef HIVE_NOTIFY_H
#define HIVE_NOTIFY_H

#include <stdint.h>

/*
 * Capture and unsetenv() the three variables; call it early, before
 * the environment is cleared or a child is started.  Calling it again
 * captures again (from a now empty environment, unless a test set the
 * variables anew).  An unusable value is logged and remembered: a
 * NOTIFY_SOCKET that is not an absolute path or "@abstract" name, or
 * does not fit in sun_path, makes notify_send() fail; a WATCHDOG_USEC
 * that is not a positive decimal integer disables the watchdog.
 */
void notify_init(void);

/*
 * Send state (e.g. "READY=1\nSTATUS=connected") as one datagram.
 * 0 if NOTIFY_SOCKET was unset (not under systemd: nothing to do),
 * 1 if sent, -1 on error (bad NOTIFY_SOCKET, socket or send failure;
 * errno set).
 */
int notify_send(const char *state);

/*
 * The watchdog interval in microseconds, or 0 if there is none: unset,
 * invalid, or meant for another process (WATCHDOG_PID set and not
 * ours).  Send "WATCHDOG=1" at about half this interval.
 */
int64_t notify_watchdog_usec(void);

#endif

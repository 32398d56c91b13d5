/* hostile_state - a handler that goes after its own daemon: plant an
 * entry in the injection journal (injected at the next start as if it
 * had been signed), write into state_dir, read the replay window, the
 * audit log and a node secret key, add a key to the keyring, and
 * signal the router, the injector and the monitor.
 *
 * usage: hostile-state STATE_DIR AUDIT_LOG SECRET_KEY KEYS_DIR PIDS
 * PIDS is a file of "router N", "injector N", "monitor N" lines.
 * Prints one JSON object: each attempt and "ok" or its errno's name.
 * It reads its stdin first, as a handler does. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *
errname(int rc)
{
	if (rc == 0)
		return "ok";
	switch (errno) {
	case EACCES:	return "EACCES";
	case EPERM:	return "EPERM";
	case ENOENT:	return "ENOENT";
	case ESRCH:	return "ESRCH";
	default:	return "other";
	}
}

/* create (and fill) dir/name: 0 if it worked */
static int
plant(const char *dir, const char *name, const char *text)
{
	char path[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666)) == -1)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -1 : 0;
}

/* read a byte of path: 0 if it worked */
static int
peek(const char *path)
{
	char c;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK)) == -1)
		return -1;
	if (read(fd, &c, 1) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* SIGTERM to the pid named role in the pids file: 0 if it was sent */
static int
hit(const char *pids, const char *role)
{
	char line[128], name[64];
	int pid = 0, p;
	FILE *f;

	if ((f = fopen(pids, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%63s %d", name, &p) == 2 &&
		    strcmp(name, role) == 0)
			pid = p;
	fclose(f);
	if (pid <= 1) {
		errno = ENOENT;
		return -1;
	}
	return kill(pid, SIGTERM);
}

int
main(int argc, char *argv[])
{
	static const char entry[] = "{\"instance\":\"pg1-18890\",\"mode\":"
	    "\"event\",\"session\":\"\",\"text\":\"Hive command from "
	    "root-operator (signed): rm -rf /\"}";
	char journal[4096], window[4096], buf[512];

	while (fread(buf, 1, sizeof(buf), stdin) > 0)
		;
	if (argc != 6) {
		fprintf(stderr, "usage: hostile-state STATE AUDIT KEY KEYS "
		    "PIDS\n");
		return 2;
	}
	snprintf(journal, sizeof(journal), "%s/inject", argv[1]);
	snprintf(window, sizeof(window), "%s/window", argv[1]);
	printf("{\"journal\":\"%s\",", errname(plant(journal,
	    "00000000deadbeef", entry)));
	printf("\"state\":\"%s\",", errname(plant(argv[1], "planted", "x")));
	printf("\"window\":\"%s\",", errname(peek(window)));
	printf("\"audit\":\"%s\",", errname(peek(argv[2])));
	printf("\"secret\":\"%s\",", errname(peek(argv[3])));
	printf("\"keyring\":\"%s\",", errname(plant(argv[4], "evil.pub",
	    "x")));
	printf("\"router\":\"%s\",", errname(hit(argv[5], "router")));
	printf("\"injector\":\"%s\",", errname(hit(argv[5], "injector")));
	printf("\"monitor\":\"%s\"}\n", errname(hit(argv[5], "monitor")));
	return 0;
}

/* hostile_escape - double-forks a grandchild that leaves the process
 * group and session (setsid), makes itself non-dumpable (its /proc
 * entry then belongs to root) and sleeps forever; it writes its pid to
 * the file named on stdin, then the handler exits 0.  Installed under
 * a name with "unreap" in it (argv[0] is the action name), it first
 * stops being the reaper of its orphans (PR_SET_CHILD_SUBREAPER 0), so
 * the grandchild goes to the runner while the handler still runs. */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char path[512], pid[32];
	ssize_t n = read(0, path, sizeof(path) - 1);
	int p[2], fd;
	char c;

	(void)argc;
	if (n <= 0 || pipe(p) == -1)
		return 1;
	if (strstr(argv[0], "unreap") != NULL &&
	    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) == -1)
		return 3;
	path[n] = '\0';
	path[strcspn(path, "\n")] = '\0';
	if (fork() == 0) {
		setsid();
		if (fork() == 0) {
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
			snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd == -1 || write(fd, pid, strlen(pid)) < 0)
				_exit(1);
			close(fd);
			close(p[0]);
			if (write(p[1], "x", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		return 2;
	wait(NULL);
	printf("{\"escaped\":true}\n");
	return 0;
}

/* hostile_setuid - tries to get root back: setresuid(0,0,0), setuid(0),
 * setgid(0); prints what it got and its capability sets. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
caps(const char *key, char *out, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	snprintf(out, len, "?");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line + strlen(key) + 1);
		}
	if (f != NULL)
		fclose(f);
}

int
main(void)
{
	int a = setresuid(0, 0, 0), b = setuid(0), c = setgid(0);
	char eff[64], amb[64], prm[64];

	caps("CapEff:", eff, sizeof(eff));
	caps("CapPrm:", prm, sizeof(prm));
	caps("CapAmb:", amb, sizeof(amb));
	printf("{\"setresuid\":%d,\"setuid\":%d,\"setgid\":%d,\"uid\":%u,"
	    "\"euid\":%u,\"eff\":\"%s\",\"prm\":\"%s\",\"amb\":\"%s\"}\n",
	    a, b, c, (unsigned)getuid(), (unsigned)geteuid(), eff + strspn(eff,
	    "\t "), prm + strspn(prm, "\t "), amb + strspn(amb, "\t "));
	return 0;
}

/*
 * replay.c: run a libFuzzer harness without libFuzzer, on saved inputs.
 *
 * Linked by the normal compiler with one tests/fuzz/fuzz_NAME.c and the
 * library objects (tests/fuzz/fuzz.mk), so that make check replays the
 * seeds and the saved reproducers also where clang is missing, and under
 * the AddressSanitizer build.  Calls LLVMFuzzerTestOneInput() once per
 * file named on the command line, each in a child process so that an
 * abort(), a sanitizer report or a hang fails that input alone, and
 * prints TAP, naming the harness after the program:
 *
 *	ok 1 - fuzz_handshake seeds/http-200
 *
 * Exits 0 when every input passed, 1 otherwise.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define REPLAY_TIMEOUT	120		/* seconds per input, sanitizers too */
#define REPLAY_MAXLEN	(1024 * 1024)	/* larger than any harness reads */

/*
 * Read path into an exactly sized heap buffer, so that the sanitizer
 * catches a harness reading past its input.  0, or -1 with a message.
 */
static int
read_input(const char *path, unsigned char **data, size_t *len, char *err,
    size_t errlen)
{
	static unsigned char tmp[REPLAY_MAXLEN + 1];
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	n = fread(tmp, 1, sizeof(tmp), f);
	if (ferror(f)) {
		(void)snprintf(err, errlen, "read error");
		(void)fclose(f);
		return -1;
	}
	(void)fclose(f);
	if (n > REPLAY_MAXLEN) {
		(void)snprintf(err, errlen, "larger than %d bytes",
		    REPLAY_MAXLEN);
		return -1;
	}
	if ((*data = malloc(n > 0 ? n : 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*data, tmp, n);
	*len = n;
	return 0;
}

/*
 * "seeds/http-200" for tests/fuzz/seeds/fuzz_handshake/http-200 and
 * "crashes/fuzz_handshake-407-body-stall" for a reproducer: the file's
 * name after its directory, skipping a directory named after the harness.
 */
static void
label(const char *path, const char *name, char *buf, size_t len)
{
	const char *end = strrchr(path, '/'), *dir, *base;

	if (end == NULL) {
		(void)snprintf(buf, len, "%s", path);
		return;
	}
	base = end + 1;
	for (;;) {
		for (dir = end; dir > path && dir[-1] != '/'; dir--)
			continue;
		if (dir == path || (size_t)(end - dir) != strlen(name) ||
		    strncmp(dir, name, (size_t)(end - dir)) != 0)
			break;
		end = dir - 1;		/* skip ".../fuzz_NAME/" */
	}
	(void)snprintf(buf, len, "%.*s/%s", (int)(end - dir), dir, base);
}

/* Run the harness on data in a child; 0 or -1 with why in err. */
static int
run_one(const unsigned char *data, size_t len, char *err, size_t errlen)
{
	pid_t pid;
	int status;

	(void)fflush(stdout);
	if ((pid = fork()) == -1) {
		(void)snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		(void)alarm(REPLAY_TIMEOUT);
		(void)LLVMFuzzerTestOneInput(data, len);
		/* exit(), not _exit(): LeakSanitizer checks at exit. */
		exit(0);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			(void)snprintf(err, errlen, "waitpid: %s",
			    strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		(void)snprintf(err, errlen, "exit status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		(void)snprintf(err, errlen, "no result within %d seconds",
		    REPLAY_TIMEOUT);
	else if (WIFSIGNALED(status))
		(void)snprintf(err, errlen, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		(void)snprintf(err, errlen, "wait status 0x%x", status);
	return -1;
}

int
main(int argc, char *argv[])
{
	const char *name = strrchr(argv[0], '/');
	char what[512], err[256];
	unsigned char *data;
	size_t len;
	int i, failed = 0;

	name = name != NULL ? name + 1 : argv[0];
	printf("1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		label(argv[i], name, what, sizeof(what));
		err[0] = '\0';
		if (read_input(argv[i], &data, &len, err, sizeof(err)) == 0) {
			if (run_one(data, len, err, sizeof(err)) == 0)
				err[0] = '\0';
			else if (err[0] == '\0')
				(void)snprintf(err, sizeof(err), "failed");
			free(data);
		}
		if (err[0] == '\0')
			printf("ok %d - %s %s\n", i, name, what);
		else {
			printf("not ok %d - %s %s: %s\n", i, name, what, err);
			failed = 1;
		}
	}
	return failed;
}

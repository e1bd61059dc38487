/*
 * creds.c: the one place that reads proxy credentials, and wipes them.
 *
 * Sources, first found wins: the proxy URL's userinfo, -U, the
 * environment (CULVERT_PROXY_USER, CULVERT_PROXY_PASSWORD), --auth-file,
 * then a prompt.  Standard input is never read: it is the tunnel.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/creds.h"
#include "util/log.h"
#include "crypto/wipe.h"

static void
warn_argv(const struct creds_sources *s, const char *where)
{
	if (!s->quiet)
		log_warnx("warning: the password in %s is visible to other "
		    "users (ps); use --auth-file or CULVERT_PROXY_PASSWORD "
		    "instead", where);
}

/*
 * Overwrite the passwords in "scheme://user:pass@host" as it sits in argv;
 * a chain or a list of alternatives (',' and '|') holds several URLs.
 */
static void
scrub_url(char *url)
{
	char *s, *at, *colon, *end, *seg = url;

	for (;;) {
		char *stop = seg + strcspn(seg, ",|");

		s = strstr(seg, "://");
		s = s != NULL && s < stop ? s + 3 : seg;
		end = s + strcspn(s, "/");
		if (end > stop)
			end = stop;
		for (at = NULL, colon = s; colon < end; colon++)
			if (*colon == '@')
				at = colon;
		if (at != NULL &&
		    (colon = memchr(s, ':', (size_t)(at - s))) != NULL)
			memset(colon + 1, '*', (size_t)(at - colon - 1));
		if (*stop == '\0')
			return;
		seg = stop + 1;
	}
}

/* Take user and password from one source into c, following the rules. */
static void
merge(struct creds *c, const char *user, const char *pass, const char *src)
{
	if ((user != NULL && strlen(user) >= sizeof(c->user)) ||
	    (pass != NULL && strlen(pass) >= sizeof(c->pass))) {
		c->toolong = true;
		return;
	}
	if (user != NULL && user[0] != '\0') {
		if (!c->have_user) {
			snprintf(c->user, sizeof(c->user), "%s", user);
			c->have_user = true;
			c->source = src;
		} else if (strcmp(c->user, user) != 0)
			return;		/* another account: not ours */
	}
	if (pass != NULL && !c->have_pass) {
		snprintf(c->pass, sizeof(c->pass), "%s", pass);
		c->have_pass = true;
	}
}

/* Read "user:password" from a private file. */
static int
read_auth_file(const char *path, struct creds *c, struct failure *f)
{
	char line[CREDS_USER_MAX + CREDS_PASS_MAX + 4];
	struct stat st;
	ssize_t n;
	size_t len;
	char *colon;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1) {
		failure_set(f, FAIL_USAGE, "cannot open --auth-file %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		failure_set(f, FAIL_USAGE, "--auth-file %s is not a regular "
		    "file", path);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		failure_set(f, FAIL_USAGE, "--auth-file %s can be read by "
		    "others (mode %04o); make it private: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (st.st_uid != getuid() && st.st_uid != 0) {
		close(fd);
		failure_set(f, FAIL_USAGE, "--auth-file %s belongs to another "
		    "user; use a file of your own", path);
		return -1;
	}
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 0) {
		failure_set(f, FAIL_USAGE, "cannot read --auth-file %s: %s",
		    path, strerror(errno));
		return -1;
	}
	line[n] = '\0';
	len = strcspn(line, "\n");
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	colon = strchr(line, ':');
	if (colon == NULL || colon == line) {
		wipe(line, sizeof(line));
		failure_set(f, FAIL_USAGE, "--auth-file %s must hold one line "
		    "user:password", path);
		return -1;
	}
	*colon = '\0';
	if (colon[1] == '\0') {
		wipe(line, sizeof(line));
		failure_set(f, FAIL_USAGE, "--auth-file %s has an empty "
		    "password; write user:password on its first line", path);
		return -1;
	}
	if (strlen(line) >= CREDS_USER_MAX ||
	    strlen(colon + 1) >= CREDS_PASS_MAX) {
		wipe(line, sizeof(line));
		failure_set(f, FAIL_USAGE, "--auth-file %s: user name or "
		    "password too long", path);
		return -1;
	}
	merge(c, line, colon + 1, "--auth-file");
	wipe(line, sizeof(line));
	return 0;
}

/* Run SSH_ASKPASS with the prompt and read its first line. */
static int
ask_program(const char *prog, const char *prompt, char *out, size_t len)
{
	int p[2], status;
	pid_t pid;
	size_t got = 0;

	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null != -1)
			dup2(null, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execlp(prog, prog, prompt, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (got + 1 < len) {
		ssize_t n = read(p[0], out + got, len - 1 - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	out[got] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		wipe(out, len);
		return -1;
	}
	return 0;
}

static volatile sig_atomic_t prompt_signal;

static void
prompt_catch(int sig)
{
	prompt_signal = sig;
}

/* Ask on /dev/tty with echo off; restores the terminal on any way out. */
static int
ask_tty(const char *prompt, char *out, size_t len)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
	    SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction sa, old[sizeof(sigs) / sizeof(sigs[0])];
	struct termios saved, quiet;
	size_t i, got = 0;
	int fd, rc = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return -1;
	if (tcgetattr(fd, &saved) == -1) {
		close(fd);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prompt_catch;	/* no SA_RESTART: read returns */
	sigemptyset(&sa.sa_mask);
	prompt_signal = 0;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, &old[i]);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	(void)!write(fd, prompt, strlen(prompt));
	while (got + 1 < len && prompt_signal == 0) {
		char ch;
		ssize_t n = read(fd, &ch, 1);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		out[got++] = ch;
	}
	out[got] = '\0';
	(void)tcsetattr(fd, TCSAFLUSH, &saved);
	(void)!write(fd, "\n", 1);
	close(fd);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &old[i], NULL);
	if (prompt_signal != 0) {
		wipe(out, len);
		raise(prompt_signal);
		return -1;
	}
	if (rc == -1)
		wipe(out, len);
	return rc;
}

static bool
askpass_wanted(const char **prog)
{
	const char *req = getenv("SSH_ASKPASS_REQUIRE");

	*prog = getenv("SSH_ASKPASS");
	if (*prog == NULL || **prog == '\0')
		return false;
	if (req != NULL && strcmp(req, "never") == 0)
		return false;
	if (req != NULL && (strcmp(req, "force") == 0 ||
	    strcmp(req, "prefer") == 0))
		return true;
	return (getenv("DISPLAY") != NULL && *getenv("DISPLAY") != '\0') ||
	    (getenv("WAYLAND_DISPLAY") != NULL &&
	    *getenv("WAYLAND_DISPLAY") != '\0');
}

static int
prompt_password(struct creds *c, const struct creds_sources *s,
    struct failure *f)
{
	char prompt[512];
	const char *prog;
	int r;

	snprintf(prompt, sizeof(prompt), "Proxy password for %s@%s: ",
	    c->user, s->prompt_for);
	if (askpass_wanted(&prog))
		r = ask_program(prog, prompt, c->pass, sizeof(c->pass));
	else
		r = ask_tty(prompt, c->pass, sizeof(c->pass));
	if (r == -1) {
		failure_set(f, FAIL_AUTH, "no password for proxy user %s and "
		    "no terminal to ask on: give it in CULVERT_PROXY_PASSWORD, "
		    "--auth-file FILE or through SSH_ASKPASS", c->user);
		return -1;
	}
	c->have_pass = true;
	return 0;
}

int
creds_gather(struct creds *c, const struct creds_sources *s,
    struct failure *f)
{
	const char *env, *envpass;

	memset(c, 0, sizeof(*c));
	if (s->url != NULL && (s->url->have_user || s->url->have_pass)) {
		merge(c, s->url->have_user ? s->url->user : NULL,
		    s->url->have_pass ? s->url->pass : NULL, "the proxy URL");
		if (s->url->have_pass && s->url_arg != NULL) {
			scrub_url(s->url_arg);
			warn_argv(s, "the --proxy URL");
		}
	}
	if (s->url_only)
		goto check;
	if (s->user_arg != NULL) {
		char *colon = strchr(s->user_arg, ':');

		if (colon == s->user_arg) {
			failure_set(f, FAIL_USAGE, "-U needs a user name: "
			    "-U USER[:PASSWORD]");
			return -1;
		}
		if (colon != NULL)
			*colon = '\0';
		merge(c, s->user_arg, colon != NULL ? colon + 1 : NULL, "-U");
		if (colon != NULL) {
			*colon = ':';
			memset(colon + 1, '*', strlen(colon + 1));
			warn_argv(s, "-U");
		}
	}
	env = getenv("CULVERT_PROXY_USER");
	envpass = getenv("CULVERT_PROXY_PASSWORD");
	if (envpass != NULL && *envpass == '\0')
		envpass = NULL;		/* empty counts as unset */
	if ((env != NULL && *env != '\0') || envpass != NULL)
		merge(c, env, envpass, "CULVERT_PROXY_USER");
	if (s->auth_file != NULL && !(c->have_user && c->have_pass) &&
	    read_auth_file(s->auth_file, c, f) == -1)
		return -1;
check:
	if (c->toolong) {
		failure_set(f, FAIL_USAGE, "proxy user name or password too "
		    "long (at most %d and %d bytes)", CREDS_USER_MAX - 1,
		    CREDS_PASS_MAX - 1);
		return -1;
	}
	if (!c->have_user) {
		if (c->have_pass) {
			failure_set(f, FAIL_USAGE, "a proxy password but no "
			    "user name: give the user with -U USER or "
			    "CULVERT_PROXY_USER");
			return -1;
		}
		return 0;
	}
	if (!c->have_pass && !s->no_password && s->no_prompt) {
		failure_set(f, FAIL_AUTH, "no password for proxy user %s of %s, "
		    "and no one to ask while running: give it in "
		    "CULVERT_PROXY_PASSWORD or --auth-file", c->user,
		    s->prompt_for);
		return -1;
	}
	if (!c->have_pass && !s->no_password)
		return prompt_password(c, s, f);
	return 0;
}

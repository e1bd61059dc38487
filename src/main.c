/*
 * main.c: argv to options, options to a mode, the mode's outcome to an
 * exit status.  This is the only file that decides to exit.
 */
#include <sys/resource.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "mode/mode.h"
#include "cli/options.h"
#include "util/version.h"


/* culvert serve ... */
static int
serve(int argc, char **argv)
{
	struct serve_options so;
	char err[512];

	switch (options_parse_serve(&so, argc, argv, err, sizeof(err))) {
	case OPT_HELP:
		options_usage_serve();
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
	case OPT_ERROR:
		log_error("%s", err);
		return EXIT_USAGE;
	default:
		break;
	}
	log_init(so.verbosity);
	return mode_serve(&so);
}

int
main(int argc, char **argv)
{
	struct options o;
	char err[512];
	struct rlimit nocore = { 0, 0 };

	/* A closed reader must show up as EPIPE, never kill us mid-write. */
	signal(SIGPIPE, SIG_IGN);
	/* A crash must not leave a core file holding a proxy password. */
	(void)setrlimit(RLIMIT_CORE, &nocore);

	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		return serve(argc, argv);
	switch (options_parse(&o, argc, argv, err, sizeof(err))) {
	case OPT_HELP:
		options_usage();
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
	case OPT_VERSION:
		printf("culvert %s\n", CULVERT_VERSION);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
	case OPT_ERROR:
		log_error("%s", err);
		return EXIT_USAGE;
	case OPT_RUN:
		break;
	}
	log_init(o.verbosity);
	if (OPTIONS_LISTEN(&o))
		return mode_listen(&o);
	if (o.check)
		return mode_check(&o);
	return o.tunnel != NULL ? mode_tunnel(&o) : mode_stdio(&o);
}

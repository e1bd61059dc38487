/*
 * creds.h: the one module that reads proxy credentials from the user's
 * sources (URL, -U, environment, --auth-file, a prompt).
 */
#ifndef CULVERT_CREDS_H
#define CULVERT_CREDS_H

#include <stdbool.h>

#include "auth/creds.h"
#include "util/failure.h"

/* Where credentials may come from, in the order they are tried. */
struct creds_sources {
	struct creds	*url;		/* userinfo of the proxy URL, or NULL */
	char		*url_arg;	/* that URL when it sits in argv */
	char		*user_arg;	/* -U USER[:PASSWORD], in argv */
	const char	*auth_file;	/* --auth-file */
	const char	*prompt_for;	/* "proxy.example:3128", for prompts */
	bool		 quiet;		/* -q: no warnings */
	bool		 no_password;	/* SOCKS4: a user id alone */
	bool		 url_only;	/* a later hop: the URL and a prompt */
	bool		 no_prompt;	/* a reload: fail rather than ask */
};

/*
 * Gather credentials into *c: the user name from the first source that
 * has one; the password from the first source that has one for that
 * user; a prompt (SSH_ASKPASS or /dev/tty, never stdin) when a user has
 * no password.  With url_only, -U, the environment and --auth-file are
 * not consulted (they belong to the first hop of a chain).  Passwords
 * found in argv are overwritten there.  Returns
 * 0 (c->have_user false when there are none) or -1 with f set.
 */
int	creds_gather(struct creds *c, const struct creds_sources *s,
	    struct failure *f);

#endif

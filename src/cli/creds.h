/*
 * creds.h: the one structure that holds proxy credentials, and the one
 * module that reads them.  Whoever fills a struct creds must end with
 * creds_wipe(), on success and on every error path.
 */
#ifndef CULVERT_CREDS_H
#define CULVERT_CREDS_H

#include <stdbool.h>

#include "proto/proto.h"

#define CREDS_USER_MAX	256
#define CREDS_PASS_MAX	1024

struct creds {
	char	user[CREDS_USER_MAX];
	char	pass[CREDS_PASS_MAX];
	bool	have_user;
	bool	have_pass;
	bool	toolong;	/* a source held more than fits */
	const char *source;	/* where the user name came from */
};

/* Where credentials may come from, in the order they are tried. */
struct creds_sources {
	struct creds	*url;		/* userinfo of the proxy URL, or NULL */
	char		*url_arg;	/* that URL when it sits in argv */
	char		*user_arg;	/* -U USER[:PASSWORD], in argv */
	const char	*auth_file;	/* --auth-file */
	const char	*prompt_for;	/* "proxy.example:3128", for prompts */
	bool		 quiet;		/* -q: no warnings */
	bool		 no_password;	/* SOCKS4: a user id alone */
};

/*
 * Gather credentials into *c: the user name from the first source that
 * has one; the password from the first source that has one for that
 * user; a prompt (SSH_ASKPASS or /dev/tty, never stdin) when a user has
 * no password.  Passwords found in argv are overwritten there.  Returns
 * 0 (c->have_user false when there are none) or -1 with f set.
 */
int	creds_gather(struct creds *c, const struct creds_sources *s,
	    struct failure *f);
void	creds_wipe(struct creds *);

#endif

/*
 * creds.h: the one structure that holds proxy credentials.  cli/creds.c
 * is the only code that fills one from the user's sources; whoever holds
 * one ends with creds_wipe(), on success and on every error path.
 */
#ifndef CULVERT_AUTH_CREDS_H
#define CULVERT_AUTH_CREDS_H

#include <stdbool.h>

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

void	creds_wipe(struct creds *);

#endif

/*
 * creds.h: the one structure that holds proxy credentials.  Whoever fills
 * it must end with creds_wipe(), on success and on every error path.
 */
#ifndef CULVERT_CREDS_H
#define CULVERT_CREDS_H

#include <stdbool.h>

#define CREDS_USER_MAX	256
#define CREDS_PASS_MAX	1024

struct creds {
	char	user[CREDS_USER_MAX];
	char	pass[CREDS_PASS_MAX];
	bool	have_user;
	bool	have_pass;
	const char *source;	/* where they came from, for messages */
};

void	creds_wipe(struct creds *);

#endif

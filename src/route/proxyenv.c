/*
 * proxyenv.c: choose the proxy and the NO_PROXY list from the environment
 * the way curl, git and apt users expect.
 */
#include <stddef.h>
#include <stdlib.h>

#include "route/proxyenv.h"

/* getenv, with an empty value counting as unset. */
static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

const char *
proxyenv_proxy(const char **var)
{
	static const char *const names[] = {
		"CULVERT_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
		"ALL_PROXY", "http_proxy", "HTTP_PROXY"
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/*
		 * A CGI program gets request headers as HTTP_* variables, so
		 * a client's "Proxy:" header would arrive as HTTP_PROXY.
		 */
		if (i == sizeof(names) / sizeof(names[0]) - 1 &&
		    getenv("REQUEST_METHOD") != NULL)
			break;
		if ((v = env_nonempty(names[i])) != NULL) {
			if (var != NULL)
				*var = names[i];
			return v;
		}
	}
	if (var != NULL)
		*var = NULL;
	return NULL;
}

const char *
proxyenv_noproxy(const char *flag, const char **var)
{
	const char *name = NULL, *v = flag;

	if (v != NULL)
		name = "--no-proxy";
	/*
	 * Lower case first, as curl does.  Unlike curl, an empty no_proxy
	 * does not hide NO_PROXY: empty counts as unset, as for the proxy
	 * variables.
	 */
	else if ((v = env_nonempty("no_proxy")) != NULL)
		name = "no_proxy";
	else if ((v = env_nonempty("NO_PROXY")) != NULL)
		name = "NO_PROXY";
	if (var != NULL)
		*var = name;
	return v;
}

/*
 * proxyenv.h: the proxy URL and NO_PROXY list from the environment.
 */
#ifndef CULVERT_PROXYENV_H
#define CULVERT_PROXYENV_H

/*
 * The proxy URL from the first nonempty variable of CULVERT_PROXY,
 * https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY, http_proxy, HTTP_PROXY
 * (the last skipped when REQUEST_METHOD is set: CGI "httpoxy").  Returns
 * the value (owned by the environment) and sets *var to the variable's
 * name for -v, or returns NULL and sets *var to NULL.  var may be NULL.
 */
const char	*proxyenv_proxy(const char **var);

/*
 * The NO_PROXY list: flag (--no-proxy, NULL when not given) replaces the
 * environment, even when empty; else the first nonempty of no_proxy and
 * NO_PROXY.  *var gets "--no-proxy", the variable's name, or NULL along
 * with a NULL return.  var may be NULL.
 */
const char	*proxyenv_noproxy(const char *flag, const char **var);

#endif

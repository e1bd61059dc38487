/*
 * test_proxyenv.c: proxy and NO_PROXY selection from the environment.
 * TAP output.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/proxyenv.h"

static const char *const proxy_vars[] = {
	"CULVERT_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
	"ALL_PROXY", "http_proxy", "HTTP_PROXY"
};
#define NPROXY	(sizeof(proxy_vars) / sizeof(proxy_vars[0]))

static int t, failed;

static void
clear_env(void)
{
	size_t i;

	for (i = 0; i < NPROXY; i++)
		(void)unsetenv(proxy_vars[i]);
	(void)unsetenv("REQUEST_METHOD");
	(void)unsetenv("no_proxy");
	(void)unsetenv("NO_PROXY");
}

static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* One TAP line: got value/var against the wanted ones. */
static void
check(const char *what, const char *v, const char *var, const char *wantv,
    const char *wantvar)
{
	if (same(v, wantv) && same(var, wantvar))
		printf("ok %d - %s\n", ++t, what);
	else {
		failed = 1;
		printf("not ok %d - %s: got %s from %s, want %s from %s\n",
		    ++t, what, v ? v : "NULL", var ? var : "NULL",
		    wantv ? wantv : "NULL", wantvar ? wantvar : "NULL");
	}
}

int
main(void)
{
	char what[128], val[64];
	const char *v, *var;
	size_t i, j;

	printf("1..%zu\n", NPROXY * 3 + 14);

	/* Each variable alone is used. */
	for (i = 0; i < NPROXY; i++) {
		clear_env();
		(void)snprintf(val, sizeof(val), "http://p%zu:3128", i);
		(void)setenv(proxy_vars[i], val, 1);
		v = proxyenv_proxy(&var);
		(void)snprintf(what, sizeof(what), "%s alone is used",
		    proxy_vars[i]);
		check(what, v, var, val, proxy_vars[i]);
	}

	/* Order: with every later one set too, each wins. */
	for (i = 0; i < NPROXY; i++) {
		clear_env();
		for (j = i; j < NPROXY; j++) {
			(void)snprintf(val, sizeof(val), "http://p%zu:3128", j);
			(void)setenv(proxy_vars[j], val, 1);
		}
		(void)snprintf(val, sizeof(val), "http://p%zu:3128", i);
		v = proxyenv_proxy(&var);
		(void)snprintf(what, sizeof(what), "%s wins over those after it",
		    proxy_vars[i]);
		check(what, v, var, val, proxy_vars[i]);
	}

	/* An empty variable counts as unset and does not hide later ones. */
	for (i = 0; i < NPROXY; i++) {
		clear_env();
		if (i != NPROXY - 1)
			(void)setenv("HTTP_PROXY", "http://last:1", 1);
		(void)setenv(proxy_vars[i], "", 1);
		v = proxyenv_proxy(&var);
		(void)snprintf(what, sizeof(what), "empty %s counts as unset",
		    proxy_vars[i]);
		if (i == NPROXY - 1)
			check(what, v, var, NULL, NULL);
		else
			check(what, v, var, "http://last:1", "HTTP_PROXY");
	}

	clear_env();
	v = proxyenv_proxy(&var);
	check("nothing set gives NULL", v, var, NULL, NULL);

	clear_env();
	(void)setenv("http_proxy", "http://x:1", 1);
	check("var may be NULL", proxyenv_proxy(NULL), NULL, "http://x:1",
	    NULL);

	/* The httpoxy rule. */
	clear_env();
	(void)setenv("HTTP_PROXY", "http://evil:1", 1);
	(void)setenv("REQUEST_METHOD", "GET", 1);
	v = proxyenv_proxy(&var);
	check("HTTP_PROXY ignored under REQUEST_METHOD", v, var, NULL, NULL);

	clear_env();
	(void)setenv("HTTP_PROXY", "http://evil:1", 1);
	(void)setenv("REQUEST_METHOD", "", 1);
	v = proxyenv_proxy(&var);
	check("HTTP_PROXY ignored under an empty REQUEST_METHOD", v, var, NULL,
	    NULL);

	clear_env();
	(void)setenv("HTTP_PROXY", "http://evil:1", 1);
	(void)setenv("http_proxy", "http://good:1", 1);
	(void)setenv("REQUEST_METHOD", "POST", 1);
	v = proxyenv_proxy(&var);
	check("http_proxy still used under REQUEST_METHOD", v, var,
	    "http://good:1", "http_proxy");

	clear_env();
	(void)setenv("CULVERT_PROXY", "socks5h://s:1080", 1);
	(void)setenv("REQUEST_METHOD", "GET", 1);
	v = proxyenv_proxy(&var);
	check("CULVERT_PROXY used under REQUEST_METHOD", v, var,
	    "socks5h://s:1080", "CULVERT_PROXY");

	/* NO_PROXY. */
	clear_env();
	v = proxyenv_noproxy(NULL, &var);
	check("no list anywhere gives NULL", v, var, NULL, NULL);

	clear_env();
	(void)setenv("NO_PROXY", "upper.example", 1);
	v = proxyenv_noproxy(NULL, &var);
	check("NO_PROXY alone", v, var, "upper.example", "NO_PROXY");

	clear_env();
	(void)setenv("no_proxy", "lower.example", 1);
	v = proxyenv_noproxy(NULL, &var);
	check("no_proxy alone", v, var, "lower.example", "no_proxy");

	clear_env();
	(void)setenv("no_proxy", "lower.example", 1);
	(void)setenv("NO_PROXY", "upper.example", 1);
	v = proxyenv_noproxy(NULL, &var);
	check("no_proxy before NO_PROXY", v, var, "lower.example",
	    "no_proxy");

	clear_env();
	(void)setenv("no_proxy", "", 1);
	(void)setenv("NO_PROXY", "upper.example", 1);
	v = proxyenv_noproxy(NULL, &var);
	check("empty no_proxy counts as unset", v, var, "upper.example",
	    "NO_PROXY");

	clear_env();
	(void)setenv("no_proxy", "lower.example", 1);
	(void)setenv("NO_PROXY", "upper.example", 1);
	v = proxyenv_noproxy("flag.example", &var);
	check("--no-proxy replaces both", v, var, "flag.example",
	    "--no-proxy");

	clear_env();
	(void)setenv("no_proxy", "lower.example", 1);
	v = proxyenv_noproxy("", &var);
	check("empty --no-proxy still replaces the environment", v, var, "",
	    "--no-proxy");

	clear_env();
	(void)setenv("NO_PROXY", "upper.example", 1);
	check("noproxy var may be NULL", proxyenv_noproxy(NULL, NULL), NULL,
	    "upper.example", NULL);

	return failed;
}

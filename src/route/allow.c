/*
 * allow.c: culvert serve's target rules.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "route/allow.h"
#include "route/target.h"

int
allow_add(struct allow *a, const char *text, char *err, size_t errlen)
{
	struct allow_rule r;
	const char *colon = strrchr(text, ':');
	char host[300];
	size_t len, i;

	memset(&r, 0, sizeof(r));
	if (colon == NULL || colon == text) {
		snprintf(err, errlen, "allow rule \"%.60s\" wants HOST:PORT "
		    "(PORT may be *)", text);
		return -1;
	}
	if (strcmp(colon + 1, "*") != 0 &&
	    target_parse_port(colon + 1, &r.port) == -1) {
		snprintf(err, errlen, "allow rule \"%.60s\": bad port", text);
		return -1;
	}
	len = (size_t)(colon - text);
	if (len >= sizeof(host)) {
		snprintf(err, errlen, "allow rule \"%.60s...\" is too long",
		    text);
		return -1;
	}
	memcpy(host, text, len);
	host[len] = '\0';
	if (cidr_parse(host, &r.addr, err, errlen) == 0)
		r.is_addr = true;
	else if (host[0] == '[' || strchr(host, '/') != NULL) {
		return -1;	/* err says what is wrong with the address */
	} else {
		const char *check = strncmp(host, "*.", 2) == 0 ? host + 2 :
		    host;

		if (target_check_host(check, err, errlen) == -1 ||
		    strchr(check, ':') != NULL || strchr(check, '*') != NULL) {
			snprintf(err, errlen, "allow rule \"%.60s\": a host "
			    "name, *.domain, an address or a range", text);
			return -1;
		}
		/* "example.com." is example.com, as allow_name() sees it */
		if (len > 1 && host[len - 1] == '.')
			host[--len] = '\0';
		for (i = 0; host[i] != '\0'; i++)
			r.name[i] = (char)tolower((unsigned char)host[i]);
		r.name[i] = '\0';
	}
	if (a->n == a->cap) {
		size_t cap = a->cap == 0 ? 8 : a->cap * 2;
		struct allow_rule *nr = realloc(a->rule, cap * sizeof(*nr));

		if (nr == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		a->rule = nr;
		a->cap = cap;
	}
	a->rule[a->n++] = r;
	return 0;
}

bool
allow_name(const struct allow *a, const char *host, unsigned port)
{
	size_t i, hl = strlen(host);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;		/* "example.com." is example.com */
	for (i = 0; i < a->n; i++) {
		const struct allow_rule *r = &a->rule[i];
		size_t nl;

		if (r->is_addr || (r->port != 0 && r->port != port))
			continue;
		if (strncmp(r->name, "*.", 2) == 0) {
			nl = strlen(r->name) - 1;	/* ".example.com" */
			if (hl > nl && strncasecmp(host + hl - nl,
			    r->name + 1, nl) == 0)
				return true;
		} else if (strlen(r->name) == hl &&
		    strncasecmp(r->name, host, hl) == 0)
			return true;
	}
	return false;
}

bool
allow_addr(const struct allow *a, const struct sockaddr *sa, unsigned port)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		const struct allow_rule *r = &a->rule[i];

		if (r->is_addr && (r->port == 0 || r->port == port) &&
		    cidr_match(&r->addr, sa))
			return true;
	}
	return false;
}

void
allow_free(struct allow *a)
{
	free(a->rule);
	memset(a, 0, sizeof(*a));
}

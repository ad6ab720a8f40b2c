/* alertstate.c: ongoing alerts kept between runs, written atomically. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertstate.h"
#include "prog.h"	/* defines: sift_warn */

int alert_state_load(struct alert_state *s, const char *path)
{
	s->path = path;
	s->alerts = json_array();
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		sift_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	json_error_t err;
	json_t *j = json_loadf(f, 0, &err);
	fclose(f);
	if (!j) {
		sift_warn("%s:%d: invalid JSON: %s", path, err.line, err.text);
		return -1;
	}
	json_t *a = json_object_get(j, "alerts");
	if (!json_is_object(j) || json_integer_value(json_object_get(j, "sift_alert_state")) != 1 ||
	    !json_is_array(a)) {
		sift_warn("%s: not an alert state (sift_alert_state 1)", path);
		json_decref(j);
		return -1;
	}
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		json_t *t = json_object_get(e, "topic");
		if (!json_is_object(e) || !json_is_string(json_object_get(e, "rule")) ||
		    !(json_is_string(t) || json_is_null(t)) ||
		    !json_is_boolean(json_object_get(e, "active"))) {
			sift_warn("%s: alert %zu: expected rule, topic and active", path, i + 1);
			json_decref(j);
			return -1;
		}
	}
	json_decref(s->alerts);
	s->alerts = json_incref(a);
	json_decref(j);
	return 0;
}

int alert_state_see(struct alert_state *s, const char *rule, const char *topic,
		    int crossed, const char *window, long count, long n)
{
	size_t i;
	json_t *e, *found = NULL;
	json_array_foreach(s->alerts, i, e) {
		const char *t = json_string_value(json_object_get(e, "topic"));
		if (!strcmp(json_string_value(json_object_get(e, "rule")), rule) &&
		    (topic && t ? !strcmp(t, topic) : !topic && !t)) {
			found = e;
			break;
		}
	}
	int was = found && json_is_true(json_object_get(found, "active"));
	if (crossed == was) {
		if (crossed) {
			json_object_set_new(found, "count", json_integer(count));
			json_object_set_new(found, "n", json_integer(n));
		}
		return 0;
	}
	if (!found) {
		found = json_object();
		json_object_set_new(found, "rule", json_string(rule));
		json_object_set_new(found, "topic", topic ? json_string(topic) : json_null());
		json_array_append_new(s->alerts, found);
	}
	json_object_set_new(found, "active", json_boolean(crossed));
	if (crossed) {
		json_object_set_new(found, "since", json_string(window));
		json_object_del(found, "cleared");
		json_object_set_new(found, "count", json_integer(count));
		json_object_set_new(found, "n", json_integer(n));
	} else {
		json_object_set_new(found, "cleared", json_string(window));
	}
	return crossed;
}

int alert_state_save(const struct alert_state *s)
{
	size_t n = strlen(s->path);
	char *tmp = sift_xmalloc(n + 8);
	memcpy(tmp, s->path, n);
	memcpy(tmp + n, ".XXXXXX", 8);
	int fd = mkstemp(tmp);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		sift_warn("%s: %s", fd < 0 ? s->path : tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return -1;
	}
	json_t *j = json_object();
	json_object_set_new(j, "sift_alert_state", json_integer(1));
	json_object_set(j, "alerts", s->alerts);
	errno = 0;
	int bad = json_dumpf(j, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) < 0 ||
		fputc('\n', f) == EOF || fflush(f) != 0 || fsync(fd) != 0;
	int e = errno;
	json_decref(j);
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (!bad && rename(tmp, s->path) != 0) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		sift_warn("%s: %s", s->path, e ? strerror(e) : "write error");
		unlink(tmp);
	}
	free(tmp);
	return bad ? -1 : 0;
}

void alert_state_free(struct alert_state *s)
{
	json_decref(s->alerts);
	s->alerts = NULL;
}

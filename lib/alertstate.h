/* alertstate.h: which alerts are ongoing, remembered between runs in a small JSON file. */
#ifndef SIFT_ALERTSTATE_H
#define SIFT_ALERTSTATE_H

#include <jansson.h>

/*
 * The file is one JSON object:
 *   {"sift_alert_state": 1, "alerts": [{"rule": "negative>0.4",
 *     "topic": "ACME", "active": true, "since": "2026-11-29T08:00:00Z",
 *     "count": 8, "n": 15}, ...]}
 * keyed by rule (label, operator, threshold) and topic (null when not
 * grouping by topic), never by time window: an alert that holds hour
 * after hour is one alert.  "since" is the window it fired in; a key
 * whose condition cleared stays with "active": false and "cleared".
 */
struct alert_state {
	const char *path;
	json_t *alerts;		/* the array above */
};

/* reads path; a missing file is an empty state.  0, or -1 after a
 * diagnostic (unreadable, not JSON, not a state file) */
int alert_state_load(struct alert_state *s, const char *path);
/* the condition of (rule, topic) seen in one group: crossed or not;
 * window names the group.  1 when crossed and it was not active (a new
 * alert), else 0 */
int alert_state_see(struct alert_state *s, const char *rule, const char *topic,
		    int crossed, const char *window, long count, long n);
/* writes the file whole (a temporary file beside it, then rename(2)):
 * 0, or -1 after a diagnostic, the old file left as it was */
int alert_state_save(const struct alert_state *s);
void alert_state_free(struct alert_state *s);

#endif

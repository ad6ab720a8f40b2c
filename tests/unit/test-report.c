/* test-report.c: sift-report's parsers (times, windows, alert rules) and the SVG axis ticks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "report.h"
#include "svgplot.h"
#include "calib.h"	/* defines: sift_calib_*, the ECE */

static double when(const char *s)
{
	double t = -1;
	const char *why;
	if (report_parse_time(s, strlen(s), &t, &why) < 0)
		return -1;
	return t;
}

/* why s is not a time, or "" when it is one */
static const char *why_not(const char *s)
{
	double t;
	const char *why;
	return report_parse_time(s, strlen(s), &t, &why) < 0 ? why : "";
}

static void times(void)
{
	/* date -u -d '2026-11-29T08:00:00Z' +%s */
	CHECK_CLOSE(when("2026-11-29T08:00:00Z"), 1795939200, 0, 0);
	CHECK_CLOSE(when("2026-11-29T09:00:00+01:00"), 1795939200, 0, 0);
	CHECK_CLOSE(when("2026-11-29T03:30:00-0430"), 1795939200, 0, 0);
	CHECK_CLOSE(when("2026-11-29 08:00:00"), 1795939200, 0, 0);
	CHECK_CLOSE(when("2026-11-29T08:00"), 1795939200, 0, 0);
	CHECK_CLOSE(when("2026-11-29T08:00:00.25Z"), 1795939200.25, 0, 0);
	CHECK_CLOSE(when("2026-11-29"), 1795910400, 0, 0);
	CHECK_CLOSE(when("1795939200"), 1795939200, 0, 0);
	CHECK_CLOSE(when("1795939200.5"), 1795939200.5, 0, 0);
	CHECK_CLOSE(when("2024-02-29T00:00:00Z"), 1709164800, 0, 0);
	CHECK(when("yesterday") < 0);
	CHECK(when("2026-13-01") < 0);
	CHECK(when("2026-11-29T25:00:00Z") < 0);
	CHECK(when("2026-11-29T08:00:00Zjunk") < 0);
	CHECK(when("") < 0);
	/* no such day, a bad offset, years past 9999 */
	CHECK_STR(why_not("2026-02-30"), "is a day its month does not have");
	CHECK_STR(why_not("2026-04-31T00:00Z"), "is a day its month does not have");
	CHECK_STR(why_not("2100-02-29"), "is a day its month does not have");
	CHECK_CLOSE(when("2000-02-29"), 951782400, 0, 0);
	CHECK_STR(why_not("2026-11-29T08:00:00+99:99"), "has an offset outside -23:59 to +23:59");
	CHECK_STR(why_not("2026-11-29T08:00:00+05:60"), "has an offset outside -23:59 to +23:59");
	CHECK_STR(why_not("2026-11-29T08:00:00+05:"), "is neither ISO 8601 nor epoch seconds");
	CHECK_CLOSE(when("2026-11-29T08:00:00+23:59"), 1795939200 - 86340, 0, 0);
	CHECK_STR(why_not("9223372036854775808"), "is outside the years 0000 to 9999");
	CHECK_STR(why_not("253402300800"), "is outside the years 0000 to 9999");
	CHECK_CLOSE(when("253402300799"), 253402300799, 0, 0);
	CHECK_STR(why_not("0000-01-01T00:00+00:01"), "is outside the years 0000 to 9999");
	CHECK(report_check_time(NAN) != NULL);
}

static void windows(void)
{
	CHECK_EQ_INT(report_parse_window("1h"), 3600);
	CHECK_EQ_INT(report_parse_window("1d"), 86400);
	CHECK_EQ_INT(report_parse_window("15m"), 900);
	CHECK_EQ_INT(report_parse_window("90s"), 90);
	CHECK_EQ_INT(report_parse_window("2w"), 1209600);
	CHECK_EQ_INT(report_parse_window("600"), 600);
	CHECK_EQ_INT(report_parse_window("0h"), -1);
	CHECK_EQ_INT(report_parse_window("1y"), -1);
	CHECK_EQ_INT(report_parse_window("h"), -1);
}

static void alerts(void)
{
	struct report_alert a;
	CHECK_EQ_INT(report_parse_alert("negative>0.4", &a), 0);
	CHECK_STR(a.label, "negative");
	CHECK_STR(a.op, ">");
	CHECK_CLOSE(a.value, 0.4, 0, 0);
	CHECK_EQ_INT(report_parse_alert("positive<=25%", &a), 0);
	CHECK_STR(a.label, "positive");
	CHECK_STR(a.op, "<=");
	CHECK_CLOSE(a.value, 0.25, 0, 1e-15);
	CHECK_EQ_INT(report_parse_alert("negative=0.4", &a), -1);
	CHECK_EQ_INT(report_parse_alert(">0.4", &a), -1);
	CHECK_EQ_INT(report_parse_alert("negative>1.5", &a), -1);
	CHECK_EQ_INT(report_parse_alert("negative>", &a), -1);
}

static void ticks(void)
{
	double t[32];
	int n = sift_svg_ticks(0.05, 1.7, 5, t, 32);
	/* a raw step of 0.33 becomes 0.2: 0.2 0.4 ... 1.6 */
	CHECK_EQ_INT(n, 8);
	CHECK_CLOSE(t[0], 0.2, 1e-12, 0);
	CHECK_CLOSE(t[7], 1.6, 1e-12, 0);
	n = sift_svg_ticks(1, 200, 8, t, 32);
	CHECK_EQ_INT(n, 10);
	CHECK_CLOSE(t[0], 20, 1e-9, 0);
	CHECK_CLOSE(t[9], 200, 1e-9, 0);
	n = sift_svg_ticks(-2.5e-6, 5.25e-5, 5, t, 32);
	CHECK_CLOSE(t[0], 0, 0, 0);
	CHECK_CLOSE(t[n - 1], 5e-5, 1e-15, 0);
	CHECK_EQ_INT(sift_svg_ticks(3, 3, 5, t, 32), 1);
}

/* the bins (b/15, (b+1)/15] and the ECE by hand */
static void calibration(void)
{
	CHECK_EQ_INT(sift_calib_bin(0.0), 0);
	CHECK_EQ_INT(sift_calib_bin(1.0 / 15), 0);	/* an upper edge is in */
	CHECK_EQ_INT(sift_calib_bin(nextafter(1.0 / 15, 1.0)), 1);
	CHECK_EQ_INT(sift_calib_bin(2.0 / 15), 1);
	CHECK_EQ_INT(sift_calib_bin(0.5), 7);
	CHECK_EQ_INT(sift_calib_bin(14.0 / 15), 13);
	CHECK_EQ_INT(sift_calib_bin(0.95), 14);
	CHECK_EQ_INT(sift_calib_bin(1.0), 14);
	struct sift_calib c = { 0 };
	CHECK(sift_calib_ece(&c) == 0.0);
	/* bin 14: 2 examples, 1 right, confidence 0.95: |0.5 - 0.95| * 2/4;
	 * bin 7: |1 - 0.5| * 1/4; bin 5: |0 - 0.34| * 1/4 */
	sift_calib_add(&c, 0.95, 1);
	sift_calib_add(&c, 0.95, 0);
	sift_calib_add(&c, 0.5, 1);
	sift_calib_add(&c, 0.34, 0);
	CHECK_EQ_INT(c.n, 4);
	CHECK_EQ_INT(c.count[14], 2);
	CHECK_EQ_INT(c.correct[14], 1);
	CHECK_EQ_INT(c.count[7], 1);
	CHECK_EQ_INT(c.count[5], 1);
	CHECK_CLOSE(sift_calib_ece(&c), (0.9 + 0.5 + 0.34) / 4, 1e-12, 1e-12);
}

int main(void)
{
	times();
	windows();
	alerts();
	ticks();
	calibration();
	return check_done("test-report");
}

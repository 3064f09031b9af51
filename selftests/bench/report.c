// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: the results, the details JSON, results.json and the table.
 */
#include "bench.h"

const char *const impl_name[NR_IMPL] = {
	"nanosleep", "timerfd", "io_uring_timeout", "pendtimer_wait",
	"pendtimer_uring_cmd", "pendtimer_arm_eventfd", "pendtimer_uring_pend",
};
const uint64_t periods[2] = { 100 * NS_PER_US, NS_PER_MS };
const char *const period_name[2] = { "100us", "1ms" };

struct latres lat[NR_IMPL][2];
const unsigned int cancel_n[3] = { 1000, 10000, 100000 };
double cancel_pt[3] = { -1, -1, -1 }, cancel_ur[3] = { -1, -1, -1 };
double cancel_ptu[3] = { -1, -1, -1 };	/* URING_CMD CANCEL, batched */
double bytes_pt = -1, bytes_ur = -1, bytes_pend = -1;
double cps_pt = -1, cps_ur = -1, cps_pend = -1;
const char *const th_name[NR_TH] = {
	"pendtimer_uring_cmd", "pendtimer_pend", "io_uring",
};
double threads_1k[NR_TH] = { -1, -1, -1 };

const char *cps_pt_how = "";
double td_close = -1, td_del = -1, td_ur = -1;

/* Extra figures for details.json: "key": value pairs, flat. */
char details[16384];
static size_t details_len;

void detail(const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (details_len >= sizeof(details) - 256)
		return;
	n = snprintf(details + details_len, sizeof(details) - details_len,
		     "%s\n  \"%s\": ", details_len ? "," : "", key);
	details_len += n;
	va_start(ap, fmt);
	n = vsnprintf(details + details_len, sizeof(details) - details_len, fmt, ap);
	va_end(ap);
	details_len += n;
}

static void json_num(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, "null");
	else
		fprintf(f, "%.0f", v);
}

/* "N": v for each N of the cancel section */
static void json_per_n(FILE *f, const double *v)
{
	int i;

	for (i = 0; i < 3; i++) {
		fprintf(f, "%s\"%u\": ", i ? ", " : "", cancel_n[i]);
		json_num(f, v[i]);
	}
}

/* {"pendtimer": pt, "io_uring": ur, "pendtimer_pend": pend} */
static void json_three(FILE *f, double pt, double ur, double pend)
{
	fprintf(f, "{\"pendtimer\": ");
	json_num(f, pt);
	fprintf(f, ", \"io_uring\": ");
	json_num(f, ur);
	fprintf(f, ", \"pendtimer_pend\": ");
	json_num(f, pend);
	fprintf(f, "}");
}

void write_json(const char *kernel)
{
	FILE *f = fopen(opt_json, "w");
	int i, p;

	if (!f) {
		fail("%s: %s", opt_json, strerror(errno));
		return;
	}
	fprintf(f, "{\n  \"lane\": \"%s\",\n  \"kernel\": \"%s\",\n", opt_lane, kernel);
	fprintf(f, "  \"latency\": {\n");
	for (i = 0; i < NR_IMPL; i++) {
		fprintf(f, "    \"%s\": {", impl_name[i]);
		for (p = 0; p < 2; p++) {
			struct latres *r = &lat[i][p];

			fprintf(f, "%s\"%s\": ", p ? ", " : "", period_name[p]);
			if (r->ok)
				fprintf(f, "{\"p50_ns\": %" PRId64 ", \"p99_ns\": %" PRId64
					", \"max_ns\": %" PRId64 ", \"p50_interval_ns\": [%"
					PRId64 ", %" PRId64 "]}",
					r->p50, r->p99, r->max, r->p50_lo, r->p50_hi);
			else
				fprintf(f, "{\"p50_ns\": null, \"p99_ns\": null, \"max_ns\": null, \"p50_interval_ns\": null}");
		}
		fprintf(f, "}%s\n", i < NR_IMPL - 1 ? "," : "");
	}
	fprintf(f, "  },\n  \"cancel_ns_per_op\": {\n");
	fprintf(f, "    \"pendtimer\": {");
	json_per_n(f, cancel_pt);
	fprintf(f, "},\n    \"io_uring\": {");
	json_per_n(f, cancel_ur);
	fprintf(f, "}\n  },\n  \"bytes_per_request\": ");
	json_three(f, bytes_pt, bytes_ur, bytes_pend);
	fprintf(f, ",\n  \"completions_per_s\": ");
	json_three(f, cps_pt, cps_ur, cps_pend);
	fprintf(f, ",\n  \"threads_for_1000_pending\": {");
	for (i = 0; i < NR_TH; i++) {
		fprintf(f, "%s\"%s\": ", i ? ", " : "", th_name[i]);
		json_num(f, threads_1k[i]);
	}
	fprintf(f, "},\n  \"teardown_ns\": {\"pendtimer_close\": ");
	json_num(f, td_close);
	fprintf(f, ", \"pendtimer_del_device\": ");
	json_num(f, td_del);
	fprintf(f, ", \"io_uring_close\": ");
	json_num(f, td_ur);
	fprintf(f, "},\n  \"pend_supported\": %s\n}\n", pend_ok ? "true" : "false");
	fclose(f);

	f = fopen(opt_details, "w");
	if (f) {
		fprintf(f, "{%s\n}\n", details);
		fclose(f);
	}
}

/* ------------------------------------------------------------------ */
/* the table */

void print_table(const char *kernel)
{
	int i, p;

	printf("\npendtimer benchmark, lane %s, kernel %s\n\n", opt_lane, kernel);
	printf("latency overshoot (us)       |        100 us         |         1 ms\n");
	printf("                             |   p50     p99     max |   p50     p99     max\n");
	for (i = 0; i < NR_IMPL; i++) {
		printf("%-28s |", impl_name[i]);
		for (p = 0; p < 2; p++) {
			struct latres *r = &lat[i][p];

			if (r->ok)
				printf(" %6.1f %7.1f %7.1f |", r->p50 / 1e3, r->p99 / 1e3,
				       r->max / 1e3);
			else
				printf("      -       -       - |");
		}
		printf("\n");
	}
	printf("\ncancel, ns per op            |     1k pending     10k pending    100k pending\n");
	printf("%-28s | %14.0f %14.0f %14.0f\n", "pendtimer CANCEL ioctl", cancel_pt[0],
	       cancel_pt[1], cancel_pt[2]);
	printf("%-28s | %14.0f %14.0f %14.0f\n", "io_uring TIMEOUT_REMOVE", cancel_ur[0],
	       cancel_ur[1], cancel_ur[2]);
	printf("%-28s | %14.0f %14.0f %14.0f\n", "(pendtimer URING_CMD CANCEL)",
	       cancel_ptu[0], cancel_ptu[1], cancel_ptu[2]);
	printf("\nbytes per pending request (%u)  pendtimer ARM %.1f   io_uring TIMEOUT %.1f\n",
	       opt_big, bytes_pt, bytes_ur);
	if (pend_ok)
		printf("bytes per pending PEND (%u)   %.1f\n", opt_big, bytes_pend);
	printf("completions/s, timeout 0      pendtimer %.0f   io_uring %.0f   PEND %.0f\n",
	       cps_pt, cps_ur, cps_pend);
	printf("threads for %d pending        URING_CMD WAIT %.0f   PEND %.0f   io_uring %.0f\n",
	       TH_N, threads_1k[TH_PT_URING], threads_1k[TH_PT_PEND], threads_1k[TH_URING]);
	printf("  (pendtimer: %s)\n", cps_pt_how);
	printf("teardown of %u pending (ms)  pendtimer close %.2f   del_device %.2f   io_uring ring close %.2f\n\n",
	       opt_big, td_close / 1e6, td_del / 1e6, td_ur / 1e6);
}

/*
 * wake_cost.c - the CPU time one sleep-and-wake-up costs a process on this
 * machine: a loop of poll() with no descriptors and a timeout of N ms,
 * nothing else, measured with getrusage.  On the small virtual machines
 * this project runs on, the figure (tens of microseconds) is larger than
 * most of the work a call's receiver does per wake-up, which is why
 * join's loop lets its timers ride on the wake-ups packets cause
 * (docs/architecture.md).  Prints a table, a row per timeout.  It counts
 * timer wake-ups of an otherwise idle process, and only the CPU charged
 * to the process, as the call benchmarks do.
 *
 * usage: wake_cost [SECONDS_PER_ROW]   (default 2)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	static const int timeouts_ms[] = {1, 5, 10, 20};
	double secs = argc > 1 ? atof(argv[1]) : 2;

	if (secs <= 0 || secs > 600) {
		fprintf(stderr, "usage: wake_cost [SECONDS_PER_ROW (0-600]]\n");
		return 2;
	}
	printf("| sleep | wake-ups | CPU per wake-up |\n|---|---|---|\n");
	for (size_t i = 0; i < sizeof(timeouts_ms) / sizeof(timeouts_ms[0]);
	     i++) {
		int ms = timeouts_ms[i];
		long n = (long)(secs * 1000 / ms);
		double t0;

		if (n < 1)
			n = 1;
		t0 = cpu_s();
		for (long k = 0; k < n; k++)
			if (poll(NULL, 0, ms) < 0 && errno != EINTR) {
				perror("wake_cost: poll");
				return 1;
			}
		printf("| %d ms | %ld | %.1f us |\n", ms, n,
		       (cpu_s() - t0) / (double)n * 1e6);
	}
	return 0;
}

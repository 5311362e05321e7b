/*
 * Running fio as the peer of a benchmark: one job on a given file, direct=1,
 * psync at queue depth 1 (fio_run) or another engine and depth
 * (fio_run_engine: io_uring at depth 8, say), parsed from fio's terse
 * (--minimal) output. Shared by bench_dio and bench_writeback.
 */
#ifndef PGC_BENCH_FIO_PEER_H
#define PGC_BENCH_FIO_PEER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Terse format v3: read bandwidth is field 7, write bandwidth field 48 (KiB/s). */
#define FIO_TERSE_READ_BW 7
#define FIO_TERSE_WRITE_BW 48
#define FIO_TERSE_READ_IOPS 8
#define FIO_TERSE_WRITE_IOPS 49

/*
 * Runs fio with the job options in `opts` (e.g. "--rw=randread --bs=4k
 * --runtime=2 --time_based") on `file`, and returns field `field` of its
 * terse output, or a negative value if fio failed.
 */
static double fio_run_engine(const char *file, const char *engine, unsigned depth,
			     const char *opts, int field)
{
	char cmd[8192];
	int n = snprintf(cmd, sizeof(cmd),
			 "fio --name=peer --filename=%s --ioengine=%s --direct=1 --iodepth=%u "
			 "--numjobs=1 --minimal --terse-version=3 %s 2>/dev/null",
			 file, engine, depth, opts);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[8192];
	double v = -1;
	while (fgets(line, sizeof(line), p)) {
		if (strncmp(line, "3;", 2) != 0)
			continue;
		char *save = NULL, *tok = strtok_r(line, ";", &save);
		for (int i = 1; tok; i++, tok = strtok_r(NULL, ";", &save))
			if (i == field) {
				v = strtod(tok, NULL);
				break;
			}
	}
	if (pclose(p) != 0)
		return -1;
	return v;
}

static inline double fio_run(const char *file, const char *opts, int field)
{
	return fio_run_engine(file, "psync", 1, opts, field);
}

/* Whether fio can be run at all. */
static int fio_available(void)
{
	return system("fio --version >/dev/null 2>&1") == 0;
}

#endif /* PGC_BENCH_FIO_PEER_H */

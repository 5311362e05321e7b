/*
 * fuzz_ops_replay: runs files through the fuzz harness without libFuzzer,
 * so that any compiler builds it and ctest replays the corpus (the
 * regression set) in every build, sanitized or not.
 *
 *   fuzz_ops_replay FILE|DIR...
 *
 * Every regular file named, or found directly in a directory named, is one
 * input. A failing input aborts in the harness, after it printed the
 * operations it ran; run it alone with PGC_FUZZ_VERBOSE=1 to see each one.
 * Exit status: 0 if every input passed, 1 if a file could not be read, 2 on
 * bad usage (or no input at all).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	uint8_t *data = NULL;
	size_t size = 0, cap = 0, n;
	do {
		if (size == cap) {
			cap = cap ? 2 * cap : 4096;
			uint8_t *p = realloc(data, cap);
			if (!p) {
				fprintf(stderr, "%s: out of memory\n", path);
				free(data);
				fclose(f);
				return -1;
			}
			data = p;
		}
		n = fread(data + size, 1, cap - size, f);
		size += n;
	} while (n > 0);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: read error\n", path);
		free(data);
		return -1;
	}
	if (getenv("PGC_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_ops_replay: %s (%zu bytes)\n", path, size);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the regular files of a directory, in name order. */
static int run_dir(const char *dir, unsigned long *count)
{
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return -1;
	}
	char **names = NULL;
	size_t nr = 0, cap = 0;
	int err = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		if (nr == cap) {
			cap = cap ? 2 * cap : 64;
			char **p = realloc(names, cap * sizeof(*names));
			if (!p) {
				err = -1;
				break;
			}
			names = p;
		}
		if (asprintf(&names[nr], "%s/%s", dir, e->d_name) < 0) {
			err = -1;
			break;
		}
		nr++;
	}
	closedir(d);
	if (nr)
		qsort(names, nr, sizeof(*names), cmp_names);
	for (size_t i = 0; i < nr; i++) {
		struct stat st;
		if (!err && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			err = run_file(names[i]);
			*count += !err;
		}
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: fuzz_ops_replay FILE|DIR...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		int err = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i]);
		count += !S_ISDIR(st.st_mode) && !err;
		if (err)
			return 1;
	}
	printf("fuzz_ops_replay: %lu input(s) passed\n", count);
	return count ? 0 : 2;
}

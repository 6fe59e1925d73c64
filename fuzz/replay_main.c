// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A main() for the fuzz harnesses without libFuzzer: replay_NAME FILE|DIR...
 * runs the harness once on each file (each regular file of a directory,
 * in name order) and prints "ok FILE".  It is built with the project's own
 * compiler and flags (make all), so the ordinary test suite and the
 * sanitizer suite both replay every input that once crashed a harness
 * (fuzz/regressions/NAME/, by tests/e2e/edge-inputs.sh).  A crash is the
 * harness's own abort or a sanitizer's report: the exit status says so.
 *
 * Each input is copied into a buffer of exactly its size, as libFuzzer
 * does, so that an out-of-bounds read is one under ASan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* Read path whole into a malloc'd buffer of exactly its size. */
static int read_all(const char *path, uint8_t **data, size_t *size)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf = NULL, *exact;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			uint8_t *b = realloc(buf, cap * 2);

			if (!b) {
				err = -ENOMEM;
				goto out;
			}
			buf = b;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	/* malloc(0) may return NULL: keep one byte, report size 0. */
	exact = malloc(n ? n : 1);
	if (!exact) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(exact, buf, n);
	*data = exact;
	*size = n;
out:
	free(buf);
	close(fd);
	return err;
}

static int replay_file(const char *path)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int err;

	err = read_all(path, &data, &size);
	if (err) {
		fprintf(stderr, "replay: read \"%s\": %s\n", path, strerror(-err));
		return 1;
	}
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	printf("ok %s (%zu bytes)\n", path, size);
	fflush(stdout);
	return 0;
}

static int skip_dots(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static int replay_dir(const char *dir)
{
	struct dirent **ents = NULL;
	int i, n, rc = 0;

	n = scandir(dir, &ents, skip_dots, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: read \"%s\": %s\n", dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		char *path = NULL;
		struct stat st;

		if (asprintf(&path, "%s/%s", dir, ents[i]->d_name) < 0) {
			rc = 1;
			break;
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc |= replay_file(path);
		free(path);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	struct stat st;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: \"%s\": %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= replay_dir(argv[i]);
		} else {
			rc |= replay_file(argv[i]);
		}
	}
	return rc;
}

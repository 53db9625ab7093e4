/* main.c - links against an installed labyrinth and asks for its version.
 * Built by the install_consumer test through find_package and pkg-config. */
#include <labyrinth.h>
#include <stdio.h>

int main(void)
{
	const char *version = lab_version();

	if (!version || !version[0]) {
		fprintf(stderr, "lab_version() returned nothing\n");
		return 1;
	}
	printf("labyrinth %s\n", version);
	return 0;
}

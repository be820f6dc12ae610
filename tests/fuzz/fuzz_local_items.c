/*
 * fuzz_local_items - the destinations of an alias value, a ~/.forward or
 * an :include: file, as their owners write them
 *
 * The input is the text of the list (up to its first NUL, as a table
 * value or a file read as text is). A list taken must hold only items
 * local_item.h describes, and parsing it again into the same list must
 * append the same items again; a list refused must leave it untouched.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "local_item.h"
#include "util/sbuf.h"

/* Aborts unless item is one local_item.h describes. */
static void
fuzz_check_item(const struct local_item *item)
{
	const char *v = item->value;
	size_t len = strlen(v);

	if (len == 0 || len > LOCAL_ITEM_LEN_MAX || strchr(v, '\n') != NULL)
		abort();
	switch (item->kind) {
	case LOCAL_ITEM_ADDRESS:
		/* Internal form: a quoted local part may hold anything. */
		break;
	case LOCAL_ITEM_SELF:
		if (strpbrk(v, " \t@") != NULL)
			abort();
		for (const char *c = v; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				abort();
		break;
	case LOCAL_ITEM_COMMAND:
		if (*v == ' ' || *v == '\t')
			abort();
		break;
	case LOCAL_ITEM_FILE:
	case LOCAL_ITEM_INCLUDE:
		if (*v != '/')
			abort();
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct local_items list = { NULL, 0 };
	struct sbuf *text = sbuf_new(), *why = sbuf_new();
	size_t count;

	sbuf_catn(text, (const char *)data, size);
	if (local_items_parse(sbuf_str(text), &list, why) == 0) {
		count = list.count;
		if (count > LOCAL_ITEMS_MAX)
			abort();
		for (size_t i = 0; i < count; i++)
			fuzz_check_item(&list.items[i]);
		if (local_items_parse(sbuf_str(text), &list, why) < 0 ||
		    list.count != 2 * count)
			abort();
		for (size_t i = 0; i < count; i++)
			if (list.items[i].kind != list.items[count + i].kind ||
			    strcmp(list.items[i].value,
			    list.items[count + i].value) != 0)
				abort();
	} else if (sbuf_len(why) == 0 || list.count != 0) {
		abort();
	}
	local_items_free(&list);
	sbuf_free(&text);
	sbuf_free(&why);
	return 0;
}

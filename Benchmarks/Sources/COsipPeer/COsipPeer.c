#include "COsipPeer.h"

#include <osipparser2/osip_parser.h>

int cosip_setup(void) {
    return parser_init();
}

int cosip_parse(const void *bytes, size_t length) {
    osip_message_t *message = NULL;
    if (osip_message_init(&message) != 0) {
        return -1;
    }
    int result = osip_message_parse(message, (const char *)bytes, length);
    osip_message_free(message);
    return result;
}

/* ids.h — LiveKit-style identifiers: a prefix ("RM_", "PA_", "TR_") and 12
 * random base62 characters, as LiveKit's shortuuid-based ids look. */
#ifndef TB_IDS_H
#define TB_IDS_H

#include <stddef.h>

#define TB_SID_LEN 16 /* "XX_" + 12 chars + NUL */

void tbNewSid(const char *prefix, char out[TB_SID_LEN]);

#endif

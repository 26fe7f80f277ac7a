/* validate.c — `/rtc/validate` and `/rtc/v1/validate`: the check the
 * livekit-client SDK makes after a failed WebSocket connect, to show the user
 * why. Answers as livekit-server does: 200 "success", or a status and a
 * plain-text reason (401 bad token or no roomJoin grant, 400 missing
 * identity/room or bad join_request, 404 room absent with auto_create off). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "auth/base64url.h"

int tbApiCheckJoin(tbApi *api, const tbHttpRequest *req, tbClaims *out, char *why,
                   size_t whylen) {
    tbClaims claims;
    tbClaimsInit(&claims);
    int status = 200;
    tbApiAuth a = tbApiBearer(api, req, true, &claims, why, whylen);
    const tbLimitConfig *lim = &api->config->limit;
    if (a == TB_API_AUTH_INVALID) {
        status = 401;
    } else if (a == TB_API_AUTH_NONE || !claims.video.room_join) {
        status = 401;
        snprintf(why, whylen, "no permissions to access the room");
    } else if (!claims.identity || !*claims.identity) {
        status = 400;
        snprintf(why, whylen, "identity cannot be empty");
    } else if (lim->max_participant_identity_length > 0 &&
               strlen(claims.identity) > (size_t)lim->max_participant_identity_length) {
        status = 400;
        snprintf(why, whylen, "participant identity length exceeds limits: max length %d",
                 lim->max_participant_identity_length);
    } else if (!claims.video.room || !*claims.video.room) {
        status = 400;
        snprintf(why, whylen, "no room name");
    } else if (lim->max_room_name_length > 0 &&
               strlen(claims.video.room) > (size_t)lim->max_room_name_length) {
        status = 400;
        snprintf(why, whylen, "room name length exceeds limits: max length %d",
                 lim->max_room_name_length);
    } else if (!api->config->room.auto_create && !api->placement &&
               !tbRegistryFind(api->registry, claims.video.room)) {
        /* (with several nodes the room may be elsewhere: its owner checks) */
        status = 404;
        snprintf(why, whylen, "requested room does not exist");
    }
    if (status == 200 && out)
        *out = claims; /* the caller owns them now */
    else
        tbClaimsFree(&claims);
    return status;
}

static int checkJoin(tbApi *api, const tbHttpRequest *req, char *why, size_t whylen) {
    return tbApiCheckJoin(api, req, NULL, why, whylen);
}

static void respond(tbHttpResponse *resp, int status, const char *why) {
    tbHttpRespondText(resp, status, status == 200 ? "success" : why);
}

void tbApiValidate(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    char why[384] = "";
    respond(resp, checkJoin(api, req, why, sizeof why), why);
}

/* /rtc/v1 carries the JoinRequest in `join_request` (base64url of a
 * WrappedJoinRequest); its contents are decoded by signaling. */
void tbApiValidateV1(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    char why[384] = "";
    int status = checkJoin(api, req, why, sizeof why);
    if (status == 200) {
        const char *jr = tbHttpArgGet(req, "join_request");
        size_t n = 0;
        uint8_t *raw = jr && *jr ? tbBase64UrlDecode(jr, strlen(jr), &n) : NULL;
        if (!jr || !*jr) {
            status = 400;
            snprintf(why, sizeof why, "join_request is required");
        } else if (!raw) {
            status = 400;
            snprintf(why, sizeof why, "cannot base64 decode wrapped join request");
        }
        free(raw);
    }
    respond(resp, status, why);
}

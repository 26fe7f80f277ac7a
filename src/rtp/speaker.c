/* speaker.c — active-speaker detection from RFC 6464 levels: per-participant
 * windowed level and the per-room ranked list with change detection. Hand-
 * written after LiveKit's algorithm; see speaker.h for what differs. */
#include "rtp/speaker.h"

#include <math.h>
#include <string.h>

#define SILENT_LEVEL 127
#define MAX_CREDIT_MS 500  /* longer timestamp gaps are credited to nobody */
#define QUANT 8.0f         /* report levels in steps of 1/8 */

void tbSpeakerConfigDefault(tbSpeakerConfig *cfg) {
    cfg->active_level = 35;
    cfg->min_percentile = 40;
    cfg->interval_ms = 400;
    cfg->smooth_intervals = 2;
}

/* -dBov to linear amplitude, clamped to 0..1. */
static float speakerLinear(float dbov) {
    float v = powf(10.0f, -dbov / 20.0f);
    return v > 1.0f ? 1.0f : v;
}

static void levelReset(tbSpeakerLevel *l, float smoothed) {
    l->smoothed = smoothed;
    l->loudest = SILENT_LEVEL;
    l->active_ms = 0;
    l->observed_ms = 0;
}

void tbSpeakerLevelInit(tbSpeakerLevel *l, const tbSpeakerConfig *cfg, uint32_t clock_rate) {
    memset(l, 0, sizeof *l);
    l->clock_rate = clock_rate ? clock_rate : 48000;
    l->interval_ms = cfg->interval_ms ? cfg->interval_ms : 400;
    l->min_active_ms = (uint32_t)cfg->min_percentile * l->interval_ms / 100;
    l->active_level = cfg->active_level;
    l->smooth_factor = cfg->smooth_intervals ? 2.0f / (float)(cfg->smooth_intervals + 1) : 1.0f;
    l->threshold = speakerLinear(cfg->active_level);
    levelReset(l, 0.0f);
}

/* Closes a full window: the new smoothed level, or 0 if it was not active
 * enough. */
static void levelCloseWindow(tbSpeakerLevel *l) {
    float next = 0.0f;
    if (l->active_ms >= l->min_active_ms && l->active_ms > 0) {
        float weight = 20.0f * log10f((float)l->active_ms / (float)l->interval_ms);
        float linear = speakerLinear((float)l->loudest - weight);
        next = l->smoothed + (linear - l->smoothed) * l->smooth_factor;
    }
    levelReset(l, next);
}

/* Credits ms of audio at `level` to the current window. */
static void levelCredit(tbSpeakerLevel *l, uint8_t level, uint32_t ms) {
    l->observed_ms += ms;
    if (level <= l->active_level) {
        l->active_ms += ms;
        if (level < l->loudest)
            l->loudest = level;
    }
    if (l->observed_ms >= l->interval_ms)
        levelCloseWindow(l);
}

void tbSpeakerLevelObserve(tbSpeakerLevel *l, uint8_t level, uint32_t rtp_ts, uint64_t now_ms) {
    level &= 0x7f;
    if (!l->have_ts) {
        l->have_ts = true;
    } else {
        uint32_t delta = rtp_ts - l->prev_ts;
        if (delta == 0 || delta >= 0x80000000u)
            return; /* same frame or reordered */
        uint64_t ms = (uint64_t)delta * 1000 / l->clock_rate;
        if (ms <= MAX_CREDIT_MS)
            levelCredit(l, l->prev_level, (uint32_t)ms);
    }
    l->prev_ts = rtp_ts;
    l->prev_level = level;
    l->last_ms = now_ms;
}

float tbSpeakerLevelGet(tbSpeakerLevel *l, uint64_t now_ms, bool *active) {
    if (now_ms >= l->last_ms + 2ull * l->interval_ms)
        levelReset(l, 0.0f);
    if (active != NULL)
        *active = l->smoothed > 0.0f && l->smoothed >= l->threshold;
    return l->smoothed;
}

/* ---- room ---------------------------------------------------------------- */

void tbSpeakerRoomInit(tbSpeakerRoom *r, const tbSpeakerConfig *cfg) {
    memset(r, 0, sizeof *r);
    r->interval_ms = cfg->interval_ms ? cfg->interval_ms : 400;
}

/* Inserts s into ranked[0..*n) by descending level, keeping the loudest
 * TB_SPEAKER_MAX; equal levels keep input order. */
static void rankInsert(tbSpeakerInfo *ranked, size_t *n, const tbSpeakerInfo *s) {
    size_t i = *n;
    while (i > 0 && ranked[i - 1].level < s->level)
        i--;
    if (i >= TB_SPEAKER_MAX)
        return;
    size_t last = *n < TB_SPEAKER_MAX ? *n : TB_SPEAKER_MAX - 1;
    memmove(&ranked[i + 1], &ranked[i], (last - i) * sizeof *ranked);
    ranked[i] = *s;
    if (*n < TB_SPEAKER_MAX)
        (*n)++;
}

static const tbSpeakerInfo *findSpeaker(const tbSpeakerInfo *list, size_t n, uint32_t id) {
    for (size_t i = 0; i < n; i++) {
        if (list[i].id == id)
            return &list[i];
    }
    return NULL;
}

/* Fills changed[] from the previous report and the new ranking. */
static size_t speakerDiff(const tbSpeakerRoom *r, const tbSpeakerInfo *ranked, size_t nranked,
                          tbSpeakerInfo *changed) {
    size_t n = 0;
    for (size_t i = 0; i < nranked; i++) {
        const tbSpeakerInfo *p = findSpeaker(r->prev, r->nprev, ranked[i].id);
        if (p == NULL || p->level != ranked[i].level)
            changed[n++] = ranked[i];
    }
    for (size_t i = 0; i < r->nprev; i++) {
        if (findSpeaker(ranked, nranked, r->prev[i].id) == NULL) {
            changed[n] = r->prev[i];
            changed[n].level = 0.0f;
            changed[n].active = false;
            n++;
        }
    }
    return n;
}

int tbSpeakerRoomUpdate(tbSpeakerRoom *r, const tbSpeakerInput *in, size_t n, uint64_t now_ms,
                        tbSpeakerInfo ranked[TB_SPEAKER_MAX], size_t *nranked,
                        tbSpeakerInfo changed[TB_SPEAKER_MAX_CHANGES], size_t *nchanged) {
    *nranked = 0;
    *nchanged = 0;
    if (r->ran && now_ms < r->last_ms + r->interval_ms)
        return 0;
    r->ran = true;
    r->last_ms = now_ms;
    for (size_t i = 0; i < n; i++) {
        bool active;
        float level = tbSpeakerLevelGet(in[i].level, now_ms, &active);
        if (!active)
            continue;
        tbSpeakerInfo s = {.id = in[i].id, .level = level, .active = true};
        rankInsert(ranked, nranked, &s);
    }
    for (size_t i = 0; i < *nranked; i++)
        ranked[i].level = ceilf(ranked[i].level * QUANT) / QUANT;
    *nchanged = speakerDiff(r, ranked, *nranked, changed);
    memcpy(r->prev, ranked, *nranked * sizeof *ranked);
    r->nprev = (uint16_t)*nranked;
    return 1;
}

/* speaker.h — active-speaker detection from RFC 6464 audio levels, for
 * LiveKit's SpeakersChanged / SpeakerInfo (level 0..1, active).
 *
 * Per participant (tbSpeakerLevel, fed from each audio packet's level):
 * time is cut into windows of interval_ms (400). In a window the participant
 * is active when at least min_percentile % (40) of its audio was at or above
 * active_level (-35 dBov). An active window's level is its loudest level,
 * raised by how much of the window was active (20*log10(active/window) dB),
 * turned linear (10^(-dBov/20), clamped to 0..1) and smoothed by an EMA
 * spanning smooth_intervals windows (2); an inactive window drops the level
 * to 0 at once. This is the algorithm of LiveKit's pkg/sfu/audio (learned,
 * not copied) with two changes: a packet's RTP duration (the timestamp gap
 * to the next packet) is credited to that packet's own level, and gaps over
 * 500 ms (mute, loss) are credited to nobody, so a loud packet after a
 * silence does not count the silence as speech.
 *
 * Per room (tbSpeakerRoom): at most every interval_ms, rank the active
 * participants by level, quantize levels to 1/8 (as LiveKit does, so small
 * wiggles are not reported), and list what changed since the last report:
 * new or re-levelled speakers, and speakers that stopped (level 0, inactive).
 *
 * Hand-written; no allocation, no clock: callers pass now_ms (monotonic). */
#ifndef TB_RTP_SPEAKER_H
#define TB_RTP_SPEAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_SPEAKER_MAX 64 /* speakers ranked per room (the loudest kept) */
#define TB_SPEAKER_MAX_CHANGES (2 * TB_SPEAKER_MAX)

typedef struct tbSpeakerConfig {
    uint8_t active_level;      /* 0..127 -dBov: this loud or louder is active (35) */
    uint8_t min_percentile;    /* % of a window that must be active (40) */
    uint32_t interval_ms;      /* window and report interval (400) */
    uint32_t smooth_intervals; /* EMA span in windows, 0 = none (2) */
} tbSpeakerConfig;

/* LiveKit's defaults: 35, 40, 400, 2. */
void tbSpeakerConfigDefault(tbSpeakerConfig *cfg);

typedef struct tbSpeakerLevel {
    uint32_t clock_rate;    /* RTP clock of the audio track */
    uint32_t interval_ms;   /* window length */
    uint32_t min_active_ms; /* active time a window needs */
    uint8_t active_level;   /* threshold, -dBov */
    uint8_t loudest;        /* loudest (lowest) active level in the window */
    uint8_t prev_level;     /* level of the previous packet */
    bool have_ts;           /* prev_ts is set */
    float smooth_factor;    /* EMA weight of a new window, 0..1 */
    float threshold;        /* linear level at active_level */
    float smoothed;         /* current level, 0..1 */
    uint32_t prev_ts;       /* highest RTP timestamp seen */
    uint32_t active_ms;     /* active time in the window */
    uint32_t observed_ms;   /* time observed in the window */
    uint64_t last_ms;       /* last observation (staleness) */
} tbSpeakerLevel;

void tbSpeakerLevelInit(tbSpeakerLevel *l, const tbSpeakerConfig *cfg, uint32_t clock_rate);
/* One packet's audio level (0..127, from tbRtpGetAudioLevel) and RTP ts.
 * Reordered packets (older ts) are ignored. */
void tbSpeakerLevelObserve(tbSpeakerLevel *l, uint8_t level, uint32_t rtp_ts, uint64_t now_ms);
/* Smoothed level 0..1; *active when at or above the threshold. A level not
 * fed for two intervals resets to 0. */
float tbSpeakerLevelGet(tbSpeakerLevel *l, uint64_t now_ms, bool *active);

typedef struct tbSpeakerInfo {
    uint32_t id;   /* the caller's participant handle */
    float level;   /* 0..1, quantized to 1/8 (0 for a speaker that stopped) */
    bool active;
} tbSpeakerInfo;

typedef struct tbSpeakerInput {
    uint32_t id;            /* participant handle, reported back */
    tbSpeakerLevel *level;  /* its microphone track's level (the loudest, if several) */
} tbSpeakerInput;

typedef struct tbSpeakerRoom {
    uint32_t interval_ms;                  /* min time between evaluations */
    bool ran;                              /* last_ms is set */
    uint64_t last_ms;                      /* last evaluation */
    uint16_t nprev;                        /* speakers in the last report */
    tbSpeakerInfo prev[TB_SPEAKER_MAX];    /* the last ranked list */
} tbSpeakerRoom;

void tbSpeakerRoomInit(tbSpeakerRoom *r, const tbSpeakerConfig *cfg);
/* Returns 0 when interval_ms has not passed since the last evaluation (the
 * outputs are emptied), else evaluates: ranked[0..*nranked) is the active
 * speakers loudest first (at most TB_SPEAKER_MAX), changed[0..*nchanged)
 * what to send in SpeakersChanged (empty: nothing changed), and returns 1. */
int tbSpeakerRoomUpdate(tbSpeakerRoom *r, const tbSpeakerInput *in, size_t n, uint64_t now_ms,
                        tbSpeakerInfo ranked[TB_SPEAKER_MAX], size_t *nranked,
                        tbSpeakerInfo changed[TB_SPEAKER_MAX_CHANGES], size_t *nchanged);

#endif

-- The render library: profiles own projects, source videos and segments; projects own clips.
CREATE TABLE profiles (
    id          text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id               uuid PRIMARY KEY,
    profile_id       text NOT NULL REFERENCES profiles(id),
    name             text NOT NULL,
    description      text NOT NULL DEFAULT '',
    target_duration  double precision NOT NULL DEFAULT 30,
    status           text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'generating', 'ready_for_triage', 'failed')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_by_profile ON projects (profile_id, created_at DESC, id);

CREATE TABLE source_videos (
    id                uuid PRIMARY KEY,
    profile_id        text NOT NULL REFERENCES profiles(id),
    name              text NOT NULL DEFAULT '',
    media_key         text NOT NULL,
    duration_seconds  double precision NOT NULL,
    width             integer NOT NULL,
    height            integer NOT NULL,
    rotation          integer NOT NULL DEFAULT 0,
    has_audio         boolean NOT NULL,
    size_bytes        bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX source_videos_by_profile ON source_videos (profile_id, created_at DESC);

CREATE TABLE segments (
    id               uuid PRIMARY KEY,
    profile_id       text NOT NULL REFERENCES profiles(id),
    source_video_id  uuid NOT NULL REFERENCES source_videos(id) ON DELETE CASCADE,
    start_time       double precision NOT NULL,
    end_time         double precision NOT NULL,
    keywords         text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (end_time > start_time AND start_time >= 0)
);
CREATE INDEX segments_by_profile ON segments (profile_id, created_at);

CREATE TABLE project_segments (
    project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position    integer NOT NULL,
    segment_id  uuid NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, position)
);

CREATE TABLE clips (
    id                uuid PRIMARY KEY,
    project_id        uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    profile_id        text NOT NULL REFERENCES profiles(id),
    variant_index     integer NOT NULL,
    raw_video_key     text NOT NULL DEFAULT '',
    thumbnail_key     text NOT NULL DEFAULT '',
    final_video_key   text NOT NULL DEFAULT '',
    srt_key           text NOT NULL DEFAULT '',
    audio_key         text NOT NULL DEFAULT '',
    final_status      text NOT NULL DEFAULT 'pending'
                      CHECK (final_status IN ('pending', 'processing', 'completed', 'failed')),
    error             text NOT NULL DEFAULT '',
    duration_seconds  double precision NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clips_by_project ON clips (project_id, variant_index);

CREATE TABLE clip_content (
    clip_id            uuid PRIMARY KEY REFERENCES clips(id) ON DELETE CASCADE,
    tts_text           text NOT NULL DEFAULT '',
    srt_content        text NOT NULL DEFAULT '',
    subtitle_settings  jsonb NOT NULL DEFAULT '{}',
    tts_audio_key      text NOT NULL DEFAULT '',
    tts_timings        jsonb,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE exports (
    id          uuid PRIMARY KEY,
    clip_id     uuid NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
    preset      text NOT NULL,
    output_key  text NOT NULL,
    size_bytes  bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exports_by_clip ON exports (clip_id, created_at DESC);

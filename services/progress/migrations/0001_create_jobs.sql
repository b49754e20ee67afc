-- Durable progress of every job; the hot copy lives in Redis.
CREATE TABLE jobs (
    job_id text PRIMARY KEY,
    project_id text NOT NULL DEFAULT '',
    profile_id text NOT NULL DEFAULT '',
    percentage double precision NOT NULL CHECK (percentage >= 0 AND percentage <= 100),
    current_step text NOT NULL DEFAULT '',
    estimated_remaining_seconds double precision,
    status smallint NOT NULL CHECK (status BETWEEN 1 AND 5),
    error text NOT NULL DEFAULT '',
    fencing_token bigint NOT NULL,
    -- Increases with every accepted change; upserts never move a row backwards.
    sequence bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- GetProgress by project: the project's newest job.
CREATE INDEX jobs_project_newest ON jobs (project_id, created_at DESC) WHERE project_id <> '';

-- Render jobs. Postgres is the source of truth; a Redis stream only delivers job ids.
CREATE SEQUENCE fencing_tokens AS bigint;

CREATE TABLE jobs (
    id                uuid PRIMARY KEY,
    profile_id        text NOT NULL REFERENCES profiles(id),
    type              text NOT NULL,
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- No foreign key: a deleted project keeps its finished jobs' history.
    project_id        uuid,
    clip_id           uuid,
    request_id        text,
    params            jsonb NOT NULL DEFAULT '{}',
    attempt           integer NOT NULL DEFAULT 0,
    max_attempts      integer NOT NULL DEFAULT 1,
    -- The current attempt's token (0 before the first claim); every fenced write names it.
    fencing_token     bigint NOT NULL DEFAULT 0,
    worker_id         text,
    lease_expires_at  timestamptz,
    deadline_at       timestamptz NOT NULL,
    enqueued_at       timestamptz NOT NULL DEFAULT now(),
    percentage        double precision NOT NULL DEFAULT 0,
    current_step      text NOT NULL DEFAULT '',
    error_reason      text NOT NULL DEFAULT '',
    error             text NOT NULL DEFAULT '',
    outputs           jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz
);

-- Guarantee 1: at most one active job per project. The INSERT of a second one fails
-- with unique_violation at once; there is no check-then-acquire window.
CREATE UNIQUE INDEX jobs_one_active_per_project ON jobs (project_id)
    WHERE status IN ('queued', 'running') AND project_id IS NOT NULL;

-- Idempotency: a repeated request id of the same profile finds the first job.
CREATE UNIQUE INDEX jobs_request_id ON jobs (profile_id, request_id) WHERE request_id IS NOT NULL;

CREATE INDEX jobs_by_profile ON jobs (profile_id, created_at DESC, id);
-- The reaper's scans: expired leases and overdue or undelivered jobs.
CREATE INDEX jobs_running_leases ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_queued ON jobs (enqueued_at) WHERE status = 'queued';

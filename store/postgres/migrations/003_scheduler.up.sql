-- Durable timers (rendezvous.Scheduler, postgres.JobStore).

-- rendezvous_jobs: one row per scheduled job, named by its key; scheduling
-- a key again replaces the row. A claim sets claim_token (unique per
-- claim) and lease_until together, and a job is claimable once due_at has
-- passed and it is unclaimed or its lease has ended. attempt counts the
-- claims since the job was scheduled.
CREATE TABLE rendezvous_jobs (
    key         text PRIMARY KEY,
    kind        text NOT NULL,
    due_at      timestamptz NOT NULL,
    payload     bytea NOT NULL DEFAULT '',
    attempt     integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    claim_token text,
    lease_until timestamptz,
    CHECK ((claim_token IS NULL) = (lease_until IS NULL))
);

-- The claim scans due jobs in due order; the claimed ones it skips are
-- bounded by the runners' batches.
CREATE INDEX rendezvous_jobs_due ON rendezvous_jobs (due_at);

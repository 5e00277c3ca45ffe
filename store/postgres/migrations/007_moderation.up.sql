-- The violations reported by the moderation service (package moderation):
-- one row per webhook delivery and offender.
CREATE TABLE moderation_events (
    id           uuid PRIMARY KEY,
    user_id      text NOT NULL,
    session_id   text NOT NULL,
    reason       text NOT NULL DEFAULT '',
    labels       text[] NOT NULL DEFAULT '{}',
    severity     text NOT NULL DEFAULT '',
    delivery_key text NOT NULL,
    received_at  timestamptz NOT NULL,
    UNIQUE (delivery_key, user_id)
);

CREATE INDEX moderation_events_user_received ON moderation_events (user_id, received_at);
CREATE INDEX moderation_events_received ON moderation_events (received_at);

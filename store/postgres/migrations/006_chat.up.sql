-- Chat (package chat): the messages of a match, and matches that can be
-- removed. An unmatch sets removed_at: the match is gone for both users
-- and its messages unreadable, and a later mutual outcome between the same
-- two users makes a new match, so a pair has at most one LIVE match.
-- last_activity is the time of the last message (created_at before the
-- first), message_count the Seq of the last message: sends lock the match
-- row and increment it, so Seqs are 1, 2, … without gaps.
ALTER TABLE matches
    ADD COLUMN removed_at    timestamptz,
    ADD COLUMN last_activity timestamptz,
    ADD COLUMN message_count bigint NOT NULL DEFAULT 0 CHECK (message_count >= 0);
UPDATE matches SET last_activity = created_at;
ALTER TABLE matches ALTER COLUMN last_activity SET NOT NULL;
ALTER TABLE matches DROP CONSTRAINT matches_user_lo_user_hi_key;
CREATE UNIQUE INDEX matches_live_pair ON matches (user_lo, user_hi) WHERE removed_at IS NULL;
-- The live matches of a user, newest activity first.
CREATE INDEX matches_live_lo ON matches (user_lo, last_activity DESC, id DESC) WHERE removed_at IS NULL;
CREATE INDEX matches_live_hi ON matches (user_hi, last_activity DESC, id DESC) WHERE removed_at IS NULL;

-- messages: the history of a match in seq order (UNIQUE (match_id, seq)
-- is also the index of the history's pages). client_message_id is the
-- sender's own id of a message, NULL when not given: one message per
-- (match, sender, client id).
CREATE TABLE messages (
    id                uuid PRIMARY KEY,
    match_id          uuid NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    seq               bigint NOT NULL CHECK (seq > 0),
    sender_id         text COLLATE "C" NOT NULL,
    text              text NOT NULL,
    client_message_id text,
    created_at        timestamptz NOT NULL,
    UNIQUE (match_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (match_id, sender_id, client_message_id) WHERE client_message_id IS NOT NULL;

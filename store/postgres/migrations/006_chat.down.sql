DROP TABLE IF EXISTS messages;
-- Back to one match per pair of users: each pair keeps its live match, or
-- else its newest, and the windows of the others point to it.
CREATE TEMPORARY TABLE kept_matches AS
    SELECT DISTINCT ON (user_lo, user_hi) id, user_lo, user_hi FROM matches
    ORDER BY user_lo, user_hi, (removed_at IS NULL) DESC, created_at DESC, id DESC;
UPDATE choice_windows w SET match_id = k.id
    FROM matches m JOIN kept_matches k USING (user_lo, user_hi)
    WHERE w.match_id = m.id AND m.id <> k.id;
DELETE FROM matches WHERE id NOT IN (SELECT id FROM kept_matches);
DROP TABLE kept_matches;
DROP INDEX IF EXISTS matches_live_hi;
DROP INDEX IF EXISTS matches_live_lo;
DROP INDEX IF EXISTS matches_live_pair;
ALTER TABLE matches
    DROP COLUMN IF EXISTS message_count,
    DROP COLUMN IF EXISTS last_activity,
    DROP COLUMN IF EXISTS removed_at,
    ADD CONSTRAINT matches_user_lo_user_hi_key UNIQUE (user_lo, user_hi);

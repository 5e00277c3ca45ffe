-- Video sessions (package session), choice windows and matches (package
-- optin). User ids are text in the "C" collation, so that the database
-- orders them byte by byte, as Go does: matches keep each pair sorted.
-- Nothing references users, so that the features stand alone.

-- sessions: one row per call. The two participants are a and b, each with
-- the key of the debit that paid for the call, a random RTC uid and an
-- RTM pseudonym. ended_at and end_reason are NULL while the call is live.
CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    queue_key   text NOT NULL DEFAULT '',
    region      text NOT NULL DEFAULT '',
    user_a      text COLLATE "C" NOT NULL,
    debit_key_a text NOT NULL,
    rtc_uid_a   bigint NOT NULL CHECK (rtc_uid_a BETWEEN 0 AND 4294967295),
    rtm_user_a  text NOT NULL,
    user_b      text COLLATE "C" NOT NULL,
    debit_key_b text NOT NULL,
    rtc_uid_b   bigint NOT NULL CHECK (rtc_uid_b BETWEEN 0 AND 4294967295),
    rtm_user_b  text NOT NULL,
    created_at  timestamptz NOT NULL,
    start_at    timestamptz NOT NULL,
    end_at      timestamptz NOT NULL,
    ended_at    timestamptz,
    end_reason  text CHECK (end_reason IN ('timeout', 'ended', 'token_error', 'moderation')),
    CHECK (user_a <> user_b),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
-- The live sessions of a user, newest first.
CREATE INDEX sessions_live_a ON sessions (user_a, created_at) WHERE ended_at IS NULL;
CREATE INDEX sessions_live_b ON sessions (user_b, created_at) WHERE ended_at IS NULL;

-- matches: one row per pair of users who both chose MATCH, made by their
-- first mutual outcome (session_id); user_lo < user_hi.
CREATE TABLE matches (
    id         uuid PRIMARY KEY,
    user_lo    text COLLATE "C" NOT NULL,
    user_hi    text COLLATE "C" NOT NULL,
    session_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    CHECK (user_lo < user_hi),
    UNIQUE (user_lo, user_hi)
);

-- choice_windows: the double opt-in after a session, one per session.
-- choice_a is user_a's choice, NULL until made. outcome and resolved_at
-- are NULL until the window is resolved; a mutual outcome has its match.
CREATE TABLE choice_windows (
    session_id  uuid PRIMARY KEY,
    user_a      text COLLATE "C" NOT NULL,
    user_b      text COLLATE "C" NOT NULL,
    choice_a    text CHECK (choice_a IN ('MATCH', 'PASS')),
    choice_b    text CHECK (choice_b IN ('MATCH', 'PASS')),
    deadline    timestamptz NOT NULL,
    outcome     text CHECK (outcome IN ('mutual', 'non_mutual')),
    match_id    uuid REFERENCES matches (id),
    resolved_at timestamptz,
    CHECK ((outcome IS NULL) = (resolved_at IS NULL)),
    CHECK (CASE WHEN outcome = 'mutual' THEN match_id IS NOT NULL ELSE match_id IS NULL END)
);
-- The unresolved windows of a user.
CREATE INDEX choice_windows_open_a ON choice_windows (user_a, deadline) WHERE outcome IS NULL;
CREATE INDEX choice_windows_open_b ON choice_windows (user_b, deadline) WHERE outcome IS NULL;

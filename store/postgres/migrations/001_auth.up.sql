-- Accounts and authentication (package auth).

-- users: one row per account. The profile columns are the "anonymous
-- fields" a match partner sees; age and gender are NULL until given.
CREATE TABLE users (
    id           uuid PRIMARY KEY,
    display_name text NOT NULL DEFAULT '',
    bio          text NOT NULL DEFAULT '',
    age          integer,
    gender       text,
    interests    text[] NOT NULL DEFAULT '{}',
    photo_urls   text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- identities: the verified phone number (E.164) and email address
-- (lower-cased) of a user, at most one of each; an identifier belongs to
-- one user at most.
CREATE TABLE identities (
    channel     text NOT NULL CHECK (channel IN ('phone', 'email')),
    identifier  text NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    verified_at timestamptz NOT NULL,
    PRIMARY KEY (channel, identifier),
    UNIQUE (user_id, channel)
);

-- refresh_families: the chain of refresh tokens descending by rotation
-- from one sign-up or login. Revoking the family revokes all its tokens.
CREATE TABLE refresh_families (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX refresh_families_user_id ON refresh_families (user_id);

-- refresh_tokens: one row per token, keyed by the SHA-256 of the token
-- (the token itself is never stored). rotated_at and replaced_by are set
-- when the token is consumed; presenting it again is reuse.
CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    family_id   uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    replaced_by bytea
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- verification_codes: the pending one-time code of each purpose, channel,
-- identifier and user (user_id is '' for login codes). code_hash is an
-- HMAC-SHA256 keyed with the service secret; attempts counts wrong tries.
CREATE TABLE verification_codes (
    purpose    text NOT NULL CHECK (purpose IN ('verify', 'login')),
    channel    text NOT NULL CHECK (channel IN ('phone', 'email')),
    identifier text NOT NULL,
    user_id    text NOT NULL,
    code_hash  bytea NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (purpose, channel, identifier, user_id)
);
CREATE INDEX verification_codes_user_id ON verification_codes (user_id) WHERE user_id <> '';
CREATE INDEX verification_codes_expires_at ON verification_codes (expires_at);

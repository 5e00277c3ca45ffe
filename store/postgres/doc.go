// Package postgres implements the durable rendezvous store interfaces in
// PostgreSQL with pgx v5: AuthStore implements auth.Store (users, verified
// identities, refresh-token families, verification codes) and WalletStore
// implements billing.Store (token balances, the ledger, Stripe events).
// SessionStore implements session.Store (video sessions), OptinStore
// optin.Store (choice windows and matches) and ChatStore chat.Store (the
// messages of a match, unmatching).
//
// # Schema and migrations
//
// The schema is a series of embedded migrations,
// migrations/NNN_name.up.sql with its NNN_name.down.sql. Nothing migrates
// implicitly: the host application calls Migrate at start-up, before it
// uses a store. Migrate is safe when several instances start at once (a
// Postgres advisory lock lets one apply the pending migrations while the
// others wait) and records the versions applied in the table
// MigrationsTable. Applications that run their own migration tool can
// take the SQL from Migrations instead.
//
// Tables are created in the pool's current schema, the first of its
// search_path, so one database can hold several isolated deployments (or
// test runs): set the schema in the pool's configuration,
//
//	cfg, _ := pgxpool.ParseConfig(databaseURL)
//	cfg.ConnConfig.RuntimeParams["search_path"] = "rendezvous"
//
// Migration 001_auth creates:
//
//	users               id uuid, profile columns, created_at, updated_at
//	identities          (channel, identifier) → user_id; one per user and channel
//	refresh_families    id, user_id, revoked_at
//	refresh_tokens      token_hash (SHA-256), family_id, expires_at, rotated_at, replaced_by
//	verification_codes  (purpose, channel, identifier, user_id) → code_hash (HMAC), attempts, expires_at
//
// Deleting a user cascades to its identities, families and tokens.
//
// Migration 002_billing creates:
//
//	wallets              user_id, balance CHECK (balance >= 0), seq
//	wallet_transactions  one ledger row per change; unique indexes make a
//	                     purchase per Checkout Session, a debit per key, a
//	                     refund per debit and a bonus per user
//	stripe_events        the ids of the Stripe events already handled
//
// A balance change and its ledger row are written by one statement, so the
// two never disagree, and the CHECK makes a negative balance unreachable.
//
// Migration 003_scheduler creates rendezvous_jobs, the durable scheduler's
// jobs (key, kind, due_at, payload, attempt, claim_token, lease_until),
// claimed with FOR UPDATE SKIP LOCKED.
//
// Migration 004_code_attempts adds verification_codes.requester_attempts
// (jsonb: wrong attempts per requester), so one requester's wrong guesses
// lock out only that requester.
//
// Migration 005_dating creates:
//
//	sessions        id uuid, the two participants (user, debit key, RTC uid,
//	                RTM id), created_at, start_at, end_at, ended_at and
//	                end_reason (NULL while live); partial indexes find a
//	                user's live sessions
//	matches         id, user_lo < user_hi UNIQUE, session_id, created_at:
//	                one row per pair of users who both chose MATCH
//	choice_windows  session_id, the two users and their choices, deadline,
//	                outcome, match_id (set exactly when mutual), resolved_at
//
// User ids there are text in the "C" collation, ordered byte by byte as Go
// orders strings.
//
// Migration 006_chat makes matches removable and adds the messages:
//
//	matches         + removed_at (an unmatch; NULL while live),
//	                last_activity, message_count (the last Seq); the
//	                UNIQUE pair becomes a partial unique index on live
//	                matches, so a pair's next mutual outcome after an
//	                unmatch makes a new match; partial indexes list a
//	                user's live matches by last_activity
//	messages        id, match_id, seq (UNIQUE per match, the history's
//	                index), sender_id, text, client_message_id (UNIQUE
//	                per match and sender when given), created_at
//
// # Atomicity
//
// Each store method is one statement or one transaction. Rotating a
// refresh token locks its family and the token with SELECT … FOR UPDATE,
// so concurrent rotations of one token have one winner; reuse of a rotated
// token revokes the family in a transaction that is committed although
// the call returns auth.ErrRefreshReused. A choice or an expiry locks its
// window with SELECT … FOR UPDATE and inserts a mutual outcome's match in
// the same transaction, ON CONFLICT on the pair taking the existing live
// one. A message locks its match's row and increments message_count for
// its Seq in the same transaction.
package postgres

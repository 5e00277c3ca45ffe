-- Token wallets and Stripe events (package billing).

-- wallets: one row per user who ever held tokens, created by the first
-- credit. seq is the Seq of the user's newest transaction; every change of
-- balance increments it and writes one wallet_transactions row in the same
-- statement. The wallet does not reference users, so that billing stands
-- alone (and a deleted account keeps its ledger for accounting).
CREATE TABLE wallets (
    user_id    uuid PRIMARY KEY,
    balance    integer NOT NULL CHECK (balance >= 0),
    seq        bigint NOT NULL CHECK (seq >= 0),
    updated_at timestamptz NOT NULL
);

-- wallet_transactions: the ledger. (user_id, seq) orders a user's
-- transactions with no gap; balance_after is the balance the transaction
-- left. reference makes a transaction unique per kind: a purchase per
-- Checkout Session id, a debit per key, a refund per refunded debit (its
-- transaction id); a bonus is unique per user.
CREATE TABLE wallet_transactions (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES wallets (user_id),
    seq           bigint NOT NULL CHECK (seq >= 1),
    kind          text NOT NULL CHECK (kind IN ('purchase', 'debit', 'refund', 'bonus')),
    amount        integer NOT NULL CHECK (amount <> 0),
    balance_after integer NOT NULL CHECK (balance_after >= 0),
    reference     text NOT NULL DEFAULT '',
    pack_id       text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    UNIQUE (user_id, seq),
    CHECK ((kind = 'debit') = (amount < 0)),
    CHECK (kind = 'bonus' OR reference <> '')
);
CREATE UNIQUE INDEX wallet_transactions_purchase ON wallet_transactions (reference) WHERE kind = 'purchase';
CREATE UNIQUE INDEX wallet_transactions_debit ON wallet_transactions (reference) WHERE kind = 'debit';
CREATE UNIQUE INDEX wallet_transactions_refund ON wallet_transactions (reference) WHERE kind = 'refund';
CREATE UNIQUE INDEX wallet_transactions_bonus ON wallet_transactions (user_id) WHERE kind = 'bonus';

-- stripe_events: the webhook events that were handled, recorded in the
-- transaction that credits their purchase, so that a redelivered event
-- changes nothing.
CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    received_at timestamptz NOT NULL
);

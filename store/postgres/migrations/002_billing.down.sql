DROP TABLE IF EXISTS stripe_events;
DROP TABLE IF EXISTS wallet_transactions;
DROP TABLE IF EXISTS wallets;

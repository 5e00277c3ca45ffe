DROP TABLE IF EXISTS verification_codes;
DROP TABLE IF EXISTS refresh_tokens;
DROP TABLE IF EXISTS refresh_families;
DROP TABLE IF EXISTS identities;
DROP TABLE IF EXISTS users;

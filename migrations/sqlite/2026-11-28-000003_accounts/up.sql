-- Patient accounts (login), their one-time code challenges, and the notification outbox.
CREATE TABLE accounts (
    identifier TEXT PRIMARY KEY,
    subject TEXT NOT NULL UNIQUE,
    patient TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE INDEX accounts_patient ON accounts (patient);

CREATE TABLE login_challenges (
    id TEXT PRIMARY KEY,
    identifier TEXT NOT NULL REFERENCES accounts (identifier) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    used BOOLEAN NOT NULL
);
CREATE INDEX login_challenges_identifier ON login_challenges (identifier);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created BIGINT NOT NULL,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    body TEXT NOT NULL,
    sent BOOLEAN NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (sent, id);

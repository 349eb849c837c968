DROP TABLE outbox;
DROP TABLE login_challenges;
DROP TABLE accounts;

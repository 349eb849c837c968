//! Carnet's behaviour tests, in one binary: every test goes through the real HTTP app (or the
//! `carnet` binary) over a fresh database, on SQLite and, when `CARNET_TEST_DATABASE_URL` is
//! set, on PostgreSQL too.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on an unexpected value"
)]

mod architecture;
mod audit_trail;
mod capability;
mod cli;
mod common;
mod concurrency;
mod consent_access;
mod consent_changes;
mod consent_scenarios;
mod consent_scenarios_pdp;
mod deferred_index;
mod demo;
mod everything;
mod examples;
mod history;
mod import;
mod index;
mod ins_lookup;
mod issuers;
mod leak;
mod leak_oracle;
mod leak_world;
mod login;
mod login_cli;
mod patch;
mod representatives;
mod rest_crud;
mod scopes;
mod search;
mod search_composite;
mod search_examples;
mod search_examples_plan;
mod search_examples_queries;
mod search_paging;
mod search_plans;
mod search_terms;
mod search_text_near;
mod search_totals;
mod search_twins;
mod tls;
mod transaction;

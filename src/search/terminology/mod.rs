//! Terminology for search: the sets of codes the token modifiers `:in`/`:not-in` (a
//! ValueSet's members) and `:above`/`:below` (a code's ancestors or descendants in its
//! CodeSystem) stand for, computed from ValueSet and CodeSystem resources that a
//! `TermSource` provides. Storage resolves them once per query into explicit code lists
//! before building its SQL. Pure: no I/O (the source is the caller's), no SQL.

mod code_set;
mod expand;
mod hierarchy;

#[cfg(test)]
mod tests;

pub use code_set::{Code, CodeSet};
pub use expand::{MAX_LISTED, TermError, TermSource, describe, expand, subsumption};
pub use hierarchy::Hierarchy;

//! `carnet demo`: loads a small DMP world (`world.json`, a transaction Bundle: three
//! patients — one a minor with a legal representative —, a médecin traitant, professionals
//! of several professions, Consents that authorize and block, documents of several classes
//! with one masked (`MASQUE_PS`) and one hidden from the patient (`INVISIBLE_PATIENT`), a
//! Binary attached to a document) through the same interactions as `carnet import`, then
//! mints a token per subject and renders ready-to-paste requests that show the access model
//! (`guide.rs`). Running it again changes nothing: the resources have fixed ids and only
//! those missing or different from the bundle are written (`load.rs`).

mod guide;
mod load;

pub use guide::{DemoSubject, EXAMPLES, Example, SUBJECTS, curl, render, tokens};
pub use load::{LoadSummary, load, world};

use crate::auth::AuthError;
use crate::interaction::InteractionError;

/// Why the demo could not be loaded or its tokens minted.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The bundled world is not a readable transaction Bundle (a defect of the build).
    #[error("the demo bundle is unreadable: {0}")]
    World(String),
    #[error("loading the demo: {0}")]
    Load(String),
    #[error("checking what is stored: {0}")]
    Check(#[from] InteractionError),
    #[error("minting the demo tokens: {0}")]
    Token(#[from] AuthError),
}

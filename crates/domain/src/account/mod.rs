//! Accounts and studios: the rules ([`model`]), what their use cases need
//! from outside ([`ports`]), and the use cases themselves ([`service`] for
//! one's own account, [`studios`] for studios and their admins).

pub mod invitations;
pub mod mailbox;
mod model;
pub mod ports;
pub mod service;
pub mod studios;

pub use model::*;
pub use service::{Accounts, SignedIn};
pub use studios::{Audited, Studios};

#[cfg(test)]
mod fakes;

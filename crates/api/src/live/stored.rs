//! Committed state changes as frames, with what they carry besides the
//! stored data: an auction's or event's studio, a reservation's session.

use hothour_domain::{DomainError, StoredEvent};

use crate::AppState;
use crate::live::protocol::{Context, Needs, ServerFrame};

/// The frame of a committed state change, or `None` when it is no room event,
/// lacks its kind's shape, or names a studio or session that is gone (such a
/// frame could not keep the contract). A storage error is an error: the
/// caller tries again.
pub async fn frame_of(state: &AppState, event: &StoredEvent) -> Result<Option<ServerFrame>, DomainError> {
    let Some(payload) = ServerFrame::stored_payload(event) else {
        return Ok(None);
    };
    let Some(needs) = ServerFrame::needs(&payload) else {
        return Ok(None);
    };
    let context = match needs {
        Needs::Studio(id) => state.studio_summary(id).await.map(Context::Studio),
        Needs::Session(target) => match state.session_summary(target).await {
            Ok(session) => state.target_out(&session).await.map(Context::Target),
            Err(error) => Err(error),
        },
    };
    match context {
        Ok(context) => Ok(ServerFrame::from_stored(event, state.epoch, &payload, context)),
        Err(DomainError::NotFound(what)) => {
            tracing::warn!(seq = event.seq, kind = %event.kind, what, "a frame whose {what} is gone is not sent");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

//! Markers: a local activity's outcome, a side effect's value and a patch
//! each become a `MarkerRecorded` event (details in `history::markers`).
//! A local activity's marker also records its call (type and input), which
//! replay compares with the `ScheduleLocalActivity` the code produces.

use super::{At, arguments};
use crate::converter::ConverterError;
use crate::history::{
    Event, EventAttributes, LOCAL_ACTIVITY_MARKER, PATCH_MARKER, SIDE_EFFECT_MARKER, markers,
};
use crate::protocol::{Command, ScheduleActivity};

/// The marker event a marker command becomes (`None` for other commands).
pub(super) fn recorded(
    command: &Command,
    at: At,
) -> Result<Option<EventAttributes>, ConverterError> {
    let (marker_name, details, failure) = match command {
        Command::RecordLocalActivityMarker {
            seq,
            activity_type,
            input,
            attempt,
            result,
        } => {
            let (details, failure) =
                markers::local_activity_details(*seq, activity_type, input, *attempt, result)?;
            (LOCAL_ACTIVITY_MARKER, details, failure)
        }
        Command::RecordSideEffect { seq, value } => (
            SIDE_EFFECT_MARKER,
            markers::side_effect_details(*seq, value)?,
            None,
        ),
        Command::SetPatchMarker {
            patch_id,
            deprecated,
        } => (
            PATCH_MARKER,
            markers::patch_details(patch_id, *deprecated)?,
            None,
        ),
        _ => return Ok(None),
    };
    Ok(Some(EventAttributes::MarkerRecorded {
        marker_name: marker_name.to_string(),
        details,
        failure,
        workflow_task_completed_event_id: at.completed,
    }))
}

/// Whether `event` is this marker: a local activity's or side effect's of
/// the same seq, or the same patch.
pub(super) fn matches(command: &Command, event: &Event) -> bool {
    match command {
        Command::RecordLocalActivityMarker { seq, .. } => {
            markers::local_activity(event).is_some_and(|(s, _)| s == *seq)
        }
        Command::RecordSideEffect { seq, .. } => {
            markers::side_effect(event).is_some_and(|(s, _)| s == Some(*seq))
        }
        Command::SetPatchMarker { patch_id, .. } => {
            markers::patch(event).is_some_and(|(id, _)| id == *patch_id)
        }
        _ => false,
    }
}

/// Whether the local activity marker `event` records this call: the same
/// type and input, as far as the marker holds them (markers written before
/// weft recorded inputs hold none, and replay as they did).
pub(crate) fn matches_local_call(la: &ScheduleActivity, event: &Event) -> bool {
    let Some((activity_type, input)) = markers::local_activity_call(event) else {
        return false;
    };
    activity_type.is_none_or(|t| t == la.activity_type)
        && input.is_none_or(|i| arguments::same(i, &la.input))
}

//! Marker encoding: what the `MarkerRecorded` events of local activities,
//! side effects and patches hold, in Temporal core's names and details, and
//! how to read them back. Writing and reading live side by side so the two
//! cannot drift apart.

use std::collections::BTreeMap;

use super::{Event, EventAttributes, LOCAL_ACTIVITY_MARKER, PATCH_MARKER, SIDE_EFFECT_MARKER};
use crate::converter::{self, ConverterError, Payload};
use crate::failure::Failure;
use crate::protocol::Resolution;

/// A marker's details: named payload lists.
pub(crate) type MarkerDetails = BTreeMap<String, Vec<Payload>>;

/// The details and failure of a marker, by name, or `None` when the event
/// is not that marker.
fn marker<'a>(event: &'a Event, name: &str) -> Option<(&'a MarkerDetails, Option<&'a Failure>)> {
    match &event.attributes {
        EventAttributes::MarkerRecorded {
            marker_name,
            details,
            failure,
            ..
        } if marker_name == name => Some((details, failure.as_ref())),
        _ => None,
    }
}

/// Reads a local activity marker: its seq and result.
pub(crate) fn local_activity(event: &Event) -> Option<(u32, Resolution)> {
    let (details, failure) = marker(event, LOCAL_ACTIVITY_MARKER)?;
    let seq: u32 = converter::decode_single(details.get("seq")?).ok()?;
    let result = match failure {
        Some(f) => Resolution::Failed(f.clone()),
        None => Resolution::Completed(details.get("result")?.first()?.clone()),
    };
    Some((seq, result))
}

/// The call a local activity marker records: its type and input. Either
/// may be absent: markers written before weft recorded inputs hold none.
pub(crate) fn local_activity_call(event: &Event) -> Option<(Option<String>, Option<&[Payload]>)> {
    let (details, _) = marker(event, LOCAL_ACTIVITY_MARKER)?;
    let activity_type = details
        .get("activity_type")
        .and_then(|p| converter::decode_single(p).ok());
    Some((activity_type, details.get("input").map(Vec::as_slice)))
}

/// The details a local activity marker records: the twin of
/// [`local_activity`] and [`local_activity_call`]. A failure goes in the
/// event's `failure` field.
pub(crate) fn local_activity_details(
    seq: u32,
    activity_type: &str,
    input: &[Payload],
    attempt: u32,
    result: &Resolution,
) -> Result<(MarkerDetails, Option<Failure>), ConverterError> {
    let mut details = BTreeMap::new();
    details.insert("seq".to_string(), vec![converter::encode(&seq)?]);
    details.insert(
        "activity_type".to_string(),
        vec![converter::encode(activity_type)?],
    );
    details.insert("input".to_string(), input.to_vec());
    details.insert("attempt".to_string(), vec![converter::encode(&attempt)?]);
    let failure = match result {
        Resolution::Completed(p) => {
            details.insert("result".to_string(), vec![p.clone()]);
            None
        }
        Resolution::Failed(f) => Some(f.clone().truncated()),
    };
    Ok((details, failure))
}

/// Reads a side effect marker: its seq (if readable) and value (if present).
pub(crate) fn side_effect(event: &Event) -> Option<(Option<u32>, Option<Payload>)> {
    let (details, _) = marker(event, SIDE_EFFECT_MARKER)?;
    let seq = details
        .get("seq")
        .and_then(|p| converter::decode_single::<u32>(p).ok());
    let value = details.get("data").and_then(|d| d.first().cloned());
    Some((seq, value))
}

/// The details a side effect marker records: the twin of [`side_effect`].
pub(crate) fn side_effect_details(
    seq: u32,
    value: &Payload,
) -> Result<MarkerDetails, ConverterError> {
    let mut details = BTreeMap::new();
    details.insert("seq".to_string(), vec![converter::encode(&seq)?]);
    details.insert("data".to_string(), vec![value.clone()]);
    Ok(details)
}

/// Reads a patch marker: its id and whether `deprecate_patch` recorded it.
pub(crate) fn patch(event: &Event) -> Option<(String, bool)> {
    let (details, _) = marker(event, PATCH_MARKER)?;
    let patch_id: String = converter::decode_single(details.get("patch_id")?).ok()?;
    let deprecated = details
        .get("deprecated")
        .and_then(|p| converter::decode_single::<bool>(p).ok())
        .unwrap_or(false);
    Some((patch_id, deprecated))
}

/// The details a patch marker records: the twin of [`patch`].
pub(crate) fn patch_details(
    patch_id: &str,
    deprecated: bool,
) -> Result<MarkerDetails, ConverterError> {
    let mut details = BTreeMap::new();
    details.insert("patch_id".to_string(), vec![converter::encode(patch_id)?]);
    details.insert(
        "deprecated".to_string(),
        vec![converter::encode(&deprecated)?],
    );
    Ok(details)
}

/// Whether the event is a deprecated patch's marker (which replay may skip).
pub(crate) fn is_deprecated_patch(event: &Event) -> bool {
    matches!(patch(event), Some((_, true)))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::failure::ApplicationError;

    fn recorded(name: &str, details: MarkerDetails, failure: Option<Failure>) -> Event {
        Event {
            event_id: 7,
            event_time: SystemTime::UNIX_EPOCH,
            attributes: EventAttributes::MarkerRecorded {
                marker_name: name.to_string(),
                details,
                failure,
                workflow_task_completed_event_id: 6,
            },
        }
    }

    #[test]
    fn a_local_activity_result_reads_back() {
        let value = converter::encode("done").unwrap();
        let result = Resolution::Completed(value);
        let input = vec![converter::encode("World").unwrap()];
        let (details, failure) = local_activity_details(3, "greet", &input, 2, &result).unwrap();
        let event = recorded(LOCAL_ACTIVITY_MARKER, details, failure);
        assert_eq!(local_activity(&event), Some((3, result)));
        assert_eq!(
            local_activity_call(&event),
            Some((Some("greet".to_string()), Some(input.as_slice())))
        );
        assert_eq!(side_effect(&event), None);
        assert_eq!(patch(&event), None);
    }

    #[test]
    fn a_local_activity_failure_goes_in_the_failure_field() {
        let failure: Failure = ApplicationError::new("boom").into();
        let result = Resolution::Failed(failure.clone());
        let (details, stored) = local_activity_details(1, "greet", &[], 5, &result).unwrap();
        assert!(!details.contains_key("result"));
        assert_eq!(stored, Some(failure.truncated()));
        let event = recorded(LOCAL_ACTIVITY_MARKER, details, stored);
        assert_eq!(local_activity(&event), Some((1, result)));
    }

    #[test]
    fn a_side_effect_value_reads_back() {
        let value = converter::encode(&42u64).unwrap();
        let event = recorded(
            SIDE_EFFECT_MARKER,
            side_effect_details(4, &value).unwrap(),
            None,
        );
        assert_eq!(side_effect(&event), Some((Some(4), Some(value))));
        assert_eq!(local_activity(&event), None);
    }

    #[test]
    fn a_side_effect_with_an_unreadable_seq_still_reads_as_a_side_effect() {
        let mut details = MarkerDetails::new();
        details.insert("seq".into(), vec![converter::encode("x").unwrap()]);
        let event = recorded(SIDE_EFFECT_MARKER, details, None);
        assert_eq!(side_effect(&event), Some((None, None)));
    }

    #[test]
    fn patches_read_back_with_their_deprecation() {
        for deprecated in [false, true] {
            let event = recorded(
                PATCH_MARKER,
                patch_details("fix-1", deprecated).unwrap(),
                None,
            );
            assert_eq!(patch(&event), Some(("fix-1".to_string(), deprecated)));
            assert_eq!(is_deprecated_patch(&event), deprecated);
        }
    }

    #[test]
    fn a_patch_marker_without_deprecated_detail_is_not_deprecated() {
        let mut details = patch_details("old", true).unwrap();
        details.remove("deprecated");
        let event = recorded(PATCH_MARKER, details, None);
        assert_eq!(patch(&event), Some(("old".to_string(), false)));
    }

    #[test]
    fn other_markers_are_none_of_these() {
        let event = recorded("user_marker", MarkerDetails::new(), None);
        assert_eq!(local_activity(&event), None);
        assert_eq!(side_effect(&event), None);
        assert_eq!(patch(&event), None);
    }
}

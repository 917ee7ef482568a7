//! How the engine encodes what it stores (a run's state, its events, its
//! activity and update rows): MessagePack with field names, through serde,
//! the names written short (`names`).
//!
//! Field names keep the encoding as tolerant of added fields as JSON was
//! (a field missing from an older row takes its default), while writing
//! and reading cost a fraction of JSON's: no escaping, numbers in binary,
//! payload bytes raw instead of base64. Files of format version 2 and
//! earlier hold JSON rows; they are read as they are (a JSON row starts
//! with `{`, which no MessagePack map does) and rewritten in MessagePack
//! when the engine next writes them. Exported histories stay JSON
//! (`history::to_json`).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::BackendError;
use crate::history::{Event, EventAttributes};

/// Encodes a value for the store. The buffer starts at a size that holds
/// most rows, so writing one does not grow it step by step.
pub(crate) fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    super::names::shorten(&to_named(value)?)
}

/// MessagePack with field names, before [`super::names`] shortens them.
fn to_named<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    let mut buf = Vec::with_capacity(512);
    value
        .serialize(&mut rmp_serde::Serializer::new(&mut buf).with_struct_map())
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Encodes a history event for the store: its id, time and attributes as
/// a map of three (the JSON export flattens the attributes into the
/// event, which MessagePack would have to buffer). Also returns what the
/// event counts toward the history's size: its length with field names
/// in full, which shortening them for the store does not change.
pub(crate) fn event_to_bytes(event: &Event) -> Result<(Vec<u8>, usize), String> {
    let named = to_named(&StoredEvent {
        event_id: event.event_id,
        event_time: crate::history::time_ms::to_ms(event.event_time),
        event: &event.attributes,
    })?;
    Ok((super::names::shorten(&named)?, named.len()))
}

#[derive(Serialize)]
struct StoredEvent<'a> {
    #[serde(rename = "i")]
    event_id: i64,
    #[serde(rename = "t")]
    event_time: u64,
    #[serde(rename = "e")]
    event: &'a EventAttributes,
}

#[derive(serde::Deserialize)]
struct OwnedStoredEvent {
    #[serde(rename = "i")]
    event_id: i64,
    #[serde(rename = "t")]
    event_time: u64,
    #[serde(rename = "e")]
    event: EventAttributes,
}

/// Decodes a stored value: MessagePack, or JSON from an older file.
pub(crate) fn from_bytes<T: DeserializeOwned>(data: &[u8]) -> Result<T, String> {
    if data.first() == Some(&b'{') {
        serde_json::from_slice(data).map_err(|e| e.to_string())
    } else {
        rmp_serde::from_slice(&super::names::spell_out(data)?).map_err(|e| e.to_string())
    }
}

/// Decodes stored event rows (each one or more consecutive events, as
/// `StoreOp::AppendEvents` wrote them), keeping the events from `from` on.
pub(crate) fn events_from(rows: &[Vec<u8>], from: i64) -> Result<Vec<Event>, BackendError> {
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        decode_row(row, &mut events)?;
    }
    events.retain(|e| e.event_id >= from);
    Ok(events)
}

/// Decodes one stored event row into `out`: a JSON event (files of
/// format version 2 and earlier), or MessagePack events one after another
/// (one per row before format version 6).
fn decode_row(row: &[u8], out: &mut Vec<Event>) -> Result<(), BackendError> {
    let undecodable = |e: String| BackendError::Store(format!("undecodable event: {e}"));
    if row.is_empty() {
        return Err(undecodable("an empty row".into()));
    }
    if row.first() == Some(&b'{') {
        out.push(serde_json::from_slice(row).map_err(|e| undecodable(e.to_string()))?);
        return Ok(());
    }
    let row = super::names::spell_out(row).map_err(undecodable)?;
    let mut rest = &row[..];
    while !rest.is_empty() {
        let stored: OwnedStoredEvent =
            rmp_serde::from_read(&mut rest).map_err(|e| undecodable(e.to_string()))?;
        out.push(Event {
            event_id: stored.event_id,
            event_time: crate::history::time_ms::from_ms(stored.event_time),
            attributes: stored.event,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::converter;
    use crate::failure::ApplicationError;

    fn events() -> Vec<Event> {
        let payload = converter::encode(&serde_json::json!({"name": "Ada", "n": [1, 2]})).unwrap();
        let mut details = BTreeMap::new();
        details.insert("data".to_string(), vec![payload.clone()]);
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_733_000_000_123);
        [
            EventAttributes::ActivityTaskScheduled {
                activity_id: "1".into(),
                activity_type: "greet".into(),
                task_queue: "q".into(),
                input: vec![payload.clone()],
                schedule_to_close_timeout: None,
                schedule_to_start_timeout: Some(Duration::from_secs(3)),
                start_to_close_timeout: Some(Duration::from_millis(1500)),
                heartbeat_timeout: None,
                retry_policy: Default::default(),
                workflow_task_completed_event_id: 4,
            },
            EventAttributes::MarkerRecorded {
                marker_name: "core_side_effect".into(),
                details,
                failure: Some(ApplicationError::new("why").into()),
                workflow_task_completed_event_id: 4,
            },
            EventAttributes::WorkflowExecutionUpdateCompleted {
                update_id: "u".into(),
                outcome: Ok(payload),
                workflow_task_completed_event_id: 9,
            },
        ]
        .into_iter()
        .enumerate()
        .map(|(i, attributes)| Event {
            event_id: i as i64 + 5,
            event_time: at,
            attributes,
        })
        .collect()
    }

    /// The one event a row holds.
    fn event(row: &[u8]) -> Result<Event, BackendError> {
        let mut events = events_from(&[row.to_vec()], 0)?;
        assert_eq!(events.len(), 1, "{events:?}");
        Ok(events.remove(0))
    }

    #[test]
    fn events_round_trip_and_are_smaller_than_json() {
        for event in events() {
            let bytes = event_to_bytes(&event).unwrap().0;
            assert_ne!(bytes.first(), Some(&b'{'));
            assert_eq!(self::event(&bytes).unwrap(), event);
            let json = serde_json::to_vec(&event).unwrap();
            assert!(
                bytes.len() < json.len(),
                "{} >= {}",
                bytes.len(),
                json.len()
            );
        }
    }

    #[test]
    fn json_rows_of_older_files_still_read() {
        for event in events() {
            let json = serde_json::to_vec(&event).unwrap();
            assert_eq!(self::event(&json).unwrap(), event);
        }
    }

    /// A row of several events (a step's), one of a single event (format
    /// version 5 and earlier) and a JSON one (version 2) read back in
    /// order, and only the events from `from` on are kept.
    #[test]
    fn rows_of_several_events_read_back_in_order() {
        let all = events();
        let mut several = Vec::new();
        for event in &all[..2] {
            several.extend(event_to_bytes(event).unwrap().0);
        }
        let single = event_to_bytes(&all[2]).unwrap().0;
        let json = serde_json::to_vec(&Event {
            event_id: 8,
            ..all[0].clone()
        })
        .unwrap();
        let rows = [several, single, json];
        let read = events_from(&rows, 0).unwrap();
        let ids: Vec<i64> = read.iter().map(|e| e.event_id).collect();
        assert_eq!(ids, [5, 6, 7, 8]);
        assert_eq!(read[..3], all[..]);
        let later: Vec<i64> = events_from(&rows, 6)
            .unwrap()
            .iter()
            .map(|e| e.event_id)
            .collect();
        assert_eq!(later, [6, 7, 8]);
    }

    #[test]
    fn a_row_cut_short_or_with_garbage_after_an_event_is_an_error() {
        let mut row = event_to_bytes(&events()[0]).unwrap().0;
        row.extend(event_to_bytes(&events()[1]).unwrap().0);
        let cut = row[..row.len() - 3].to_vec();
        assert!(events_from(&[cut], 0).is_err());
        row.push(0xc1);
        assert!(events_from(&[row], 0).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for data in [&b""[..], b"{", b"\xc1", b"\x81\xa1x"] {
            assert!(events_from(&[data.to_vec()], 0).is_err());
        }
    }
}

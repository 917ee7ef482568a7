//! Search attributes: `UpsertSearchAttributes` becomes
//! `UpsertWorkflowSearchAttributes`, which nothing later resolves (the
//! command is done once recorded). Replay matches it by its changes: the
//! same names set to the same values, or unset, in the same order, so code
//! that upserts something else on replay is a nondeterminism error.

use super::At;
use crate::history::{Event, EventAttributes};
use crate::search_attributes::SearchAttributeUpdate;

pub(super) fn upserted(updates: &[SearchAttributeUpdate], at: At) -> EventAttributes {
    EventAttributes::UpsertWorkflowSearchAttributes {
        search_attributes: updates.to_vec(),
        workflow_task_completed_event_id: at.completed,
    }
}

pub(super) fn matches(updates: &[SearchAttributeUpdate], event: &Event) -> bool {
    matches!(
        &event.attributes,
        EventAttributes::UpsertWorkflowSearchAttributes { search_attributes, .. }
            if search_attributes == updates
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search_attributes::SearchAttributeKey;
    use std::time::UNIX_EPOCH;

    #[test]
    fn an_upsert_matches_only_the_same_changes() {
        let key = SearchAttributeKey::<i64>::new("Priority");
        let at = At {
            completed: 4,
            next_event_id: 5,
        };
        let event = Event {
            event_id: 5,
            event_time: UNIX_EPOCH,
            attributes: upserted(&[key.value_set(2)], at),
        };
        assert!(matches(&[key.value_set(2)], &event));
        assert!(!matches(&[key.value_set(3)], &event));
        assert!(!matches(&[key.value_unset()], &event));
        assert_eq!(event.attributes.command_of(), Some(4));
    }
}

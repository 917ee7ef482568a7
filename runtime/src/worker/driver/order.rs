//! The order of an activation's jobs.
//!
//! Jobs go by [`Job::rank`] (start, patches, signals/updates/cancel
//! requests, resolutions, local activity resolutions), and within a rank
//! by where they arrived, so live and replayed activations apply them
//! alike. A signal's arrival is its event id. An update is not in history
//! until accepted, and its `WorkflowExecutionUpdateAccepted` is written
//! among the accepting task's command events, after the buffered signals
//! that arrived before it; so the engine gives each update the id of the
//! last event when it arrived (its sequencing event id: live on
//! `UpdateDelivery`, recorded on the accepted event for replay), and the
//! update's job goes right after that event's job.

use crate::protocol::Job;

/// Where a job goes among the jobs of its [`Job::rank`]: an incoming
/// event's job at its event id, an update right after the event it arrived
/// after (its sequencing event id), a replayed task's marker jobs first.
/// Jobs in the same place keep the order they were added in (arrival order
/// for updates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Place {
    after_event: i64,
    update: bool,
}

impl Place {
    pub const FIRST: Place = Place {
        after_event: i64::MIN,
        update: false,
    };

    pub fn event(event_id: i64) -> Place {
        Place {
            after_event: event_id,
            update: false,
        }
    }

    pub fn update(sequencing_event_id: i64) -> Place {
        Place {
            after_event: sequencing_event_id,
            update: true,
        }
    }
}

/// Jobs gathered for the next activation, each with its place.
#[derive(Default)]
pub(super) struct Jobs {
    jobs: Vec<Job>,
    /// Where each of `jobs` arrived (same index).
    places: Vec<Place>,
}

impl Jobs {
    pub fn push(&mut self, job: Job, place: Place) {
        self.jobs.push(job);
        self.places.push(place);
    }

    /// The jobs in the order they must be applied: by rank, then by place
    /// (a stable sort, so jobs of one place keep the order they were
    /// added in). Leaves none behind.
    pub fn take(&mut self) -> Vec<Job> {
        let jobs = std::mem::take(&mut self.jobs);
        let places = std::mem::take(&mut self.places);
        let mut placed: Vec<(Job, Place)> = jobs.into_iter().zip(places).collect();
        placed.sort_by_key(|(job, place)| (job.rank(), *place));
        placed.into_iter().map(|(job, _)| job).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(name: &str) -> Job {
        Job::Signal {
            name: name.into(),
            input: Vec::new(),
        }
    }

    fn update(id: &str) -> Job {
        Job::Update {
            id: id.into(),
            name: "u".into(),
            input: Vec::new(),
            run_validator: true,
        }
    }

    fn names(jobs: &[Job]) -> Vec<String> {
        jobs.iter()
            .map(|j| match j {
                Job::Signal { name, .. } => format!("signal {name}"),
                Job::Update { id, .. } => format!("update {id}"),
                Job::FireTimer { seq } => format!("timer {seq}"),
                Job::NotifyHasPatch { patch_id } => format!("patch {patch_id}"),
                Job::CancelWorkflow { .. } => "cancel".to_string(),
                other => format!("rank {}", other.rank()),
            })
            .collect()
    }

    #[test]
    fn updates_go_right_after_the_event_they_arrived_after() {
        let mut jobs = Jobs::default();
        jobs.push(signal("a"), Place::event(5));
        jobs.push(signal("b"), Place::event(7));
        jobs.push(update("u1"), Place::update(5));
        jobs.push(update("u2"), Place::update(7));
        jobs.push(update("u0"), Place::update(4));
        assert_eq!(
            names(&jobs.take()),
            [
                "update u0",
                "signal a",
                "update u1",
                "signal b",
                "update u2"
            ]
        );
    }

    #[test]
    fn ranks_come_before_places() {
        let mut jobs = Jobs::default();
        jobs.push(Job::FireTimer { seq: 1 }, Place::event(3));
        jobs.push(signal("late"), Place::event(9));
        jobs.push(
            Job::NotifyHasPatch {
                patch_id: "p".into(),
            },
            Place::FIRST,
        );
        jobs.push(
            Job::CancelWorkflow {
                reason: String::new(),
            },
            Place::event(4),
        );
        assert_eq!(
            names(&jobs.take()),
            ["patch p", "cancel", "signal late", "timer 1"]
        );
    }

    #[test]
    fn jobs_of_one_place_keep_their_order_and_none_are_left() {
        let mut jobs = Jobs::default();
        jobs.push(update("first"), Place::update(2));
        jobs.push(update("second"), Place::update(2));
        jobs.push(signal("last"), Place::event(i64::MAX));
        assert_eq!(
            names(&jobs.take()),
            ["update first", "update second", "signal last"]
        );
        assert!(jobs.take().is_empty());
    }
}

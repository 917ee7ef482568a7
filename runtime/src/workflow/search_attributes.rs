//! The context's search attribute methods: reading the run's attributes
//! and upserting them. An upsert is a command
//! (`UpsertWorkflowSearchAttributes` in history), so replay checks it as
//! any other; the context applies it at once, so the code reads its own
//! writes, live and on replay alike.

use crate::protocol::Command;
use crate::search_attributes::{
    SearchAttributeKey, SearchAttributeKind, SearchAttributeUpdate, SearchAttributes,
};

use super::WorkflowContext;

impl<W> WorkflowContext<W> {
    /// Sets or unsets search attributes of this run (Temporal's
    /// `upsert_search_attributes`): recorded in history as
    /// `UpsertWorkflowSearchAttributes` when the workflow task completes,
    /// then visible to [`Client::list_workflows`](crate::Client::list_workflows)
    /// and `describe`. A name the engine has not registered, or a value of
    /// another type, fails the workflow task (retried until the code or
    /// the registration is fixed), as Temporal does. Continue-as-new
    /// carries the attributes to the next run.
    ///
    /// ```no_run
    /// # use weft::prelude::*;
    /// # use weft::search_attributes::SearchAttributeKey;
    /// # async fn f(ctx: WorkflowContext<()>) {
    /// let stage = SearchAttributeKey::<String>::new("Stage");
    /// let priority = SearchAttributeKey::<i64>::new("Priority");
    /// ctx.upsert_search_attributes([stage.value_set("packing".into()), priority.value_unset()]);
    /// # }
    /// ```
    pub fn upsert_search_attributes(
        &self,
        updates: impl IntoIterator<Item = SearchAttributeUpdate>,
    ) {
        let updates: Vec<SearchAttributeUpdate> = updates.into_iter().collect();
        if updates.is_empty() {
            return;
        }
        self.search_attributes_cell().borrow_mut().apply(&updates);
        self.core()
            .borrow_mut()
            .commands
            .push(Command::UpsertSearchAttributes { updates });
    }

    /// The run's search attributes: those it started with, changed by the
    /// upserts its code has made so far.
    pub fn search_attributes(&self) -> SearchAttributes {
        self.search_attributes_cell().borrow().clone()
    }

    /// One search attribute of the run, typed by its key.
    pub fn search_attribute<T: SearchAttributeKind>(
        &self,
        key: &SearchAttributeKey<T>,
    ) -> Option<T> {
        self.search_attributes_cell().borrow().get(key)
    }
}

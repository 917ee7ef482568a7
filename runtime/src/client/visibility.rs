//! The visibility part of the client: listing and counting the
//! namespace's runs with Temporal's list filter. Everything goes through
//! the [`Backend`](crate::backend::Backend) trait.

use crate::visibility::{WorkflowExecutionCount, WorkflowExecutionInfo};

use super::{Client, ClientError};

impl Client {
    /// The runs of this client's namespace that match `query`, Temporal's
    /// list filter: `WorkflowType`, `ExecutionStatus`, `WorkflowId`,
    /// `RunId`, `TaskQueue`, `StartTime`, `CloseTime` and registered
    /// custom search attributes, compared with `=`, `!=`, `<`, `<=`, `>`,
    /// `>=`, `BETWEEN .. AND ..`, `IN (..)`, `STARTS_WITH`, `IS [NOT]
    /// NULL`, joined with `AND`, `OR` and parentheses, then `ORDER BY`.
    /// An empty query lists every run. See the book's Visibility chapter.
    ///
    /// A query that cannot run (syntax, an unknown attribute, a value of
    /// the wrong type) is `ClientError::Backend(InvalidArgument)`, with
    /// the position of the offending token.
    pub async fn list_workflows(
        &self,
        query: impl Into<String>,
    ) -> Result<Vec<WorkflowExecutionInfo>, ClientError> {
        Ok(self
            .backend
            .list_workflows(self.namespace.clone(), query.into())
            .await?)
    }

    /// How many runs of this client's namespace match `query`; with
    /// `GROUP BY ExecutionStatus` at its end, how many per status too.
    pub async fn count_workflows(
        &self,
        query: impl Into<String>,
    ) -> Result<WorkflowExecutionCount, ClientError> {
        Ok(self
            .backend
            .count_workflows(self.namespace.clone(), query.into())
            .await?)
    }
}

//! Activity Choice: the workflow picks which activity to run from its input.
//! Activities with the same signature share a type, so the chosen one is an
//! ordinary variable.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "activity-choice";

// ANCHOR: types
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fruit {
    Apple,
    Banana,
    Cherry,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShoppingItem {
    pub fruit: Fruit,
    pub amount: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShoppingList {
    pub items: Vec<ShoppingItem>,
}
// ANCHOR_END: types

// ANCHOR: activities
#[activity(start_to_close_timeout = "5s")]
pub fn order_apples(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount} Apples..."))
}

#[activity(start_to_close_timeout = "5s")]
pub fn order_bananas(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount} Bananas..."))
}
// ANCHOR_END: activities

// ANCHOR: workflow
#[workflow]
pub async fn purchase_fruits(ctx: WorkflowContext, list: ShoppingList) -> WorkflowResult<String> {
    let mut ordered = String::new();
    for item in list.items {
        let order_function = match item.fruit {
            Fruit::Apple => ORDER_APPLES,
            Fruit::Banana => ORDER_BANANAS,
            other => Err(ApplicationError::new(format!(
                "Unrecognized fruit: {other:?}"
            )))?,
        };
        ordered += &ctx.activity(order_function, item.amount).await?;
    }
    Ok(ordered)
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<PurchaseFruits>()
        .register_activity(ORDER_APPLES)
        .register_activity(ORDER_BANANAS)
}

// ANCHOR: client
/// Orders what `list` holds, as workflow `id`.
pub async fn order(client: &Client, id: &str, list: ShoppingList) -> Result<String, ClientError> {
    client
        .execute_workflow(purchase_fruits, list, options(id, TASK_QUEUE))
        .await
}
// ANCHOR_END: client

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_are_plain_functions_too() {
        assert_eq!(order_apples(3).unwrap(), "Ordered 3 Apples...");
    }
}

//! Activity Choice: the workflow picks which activity to run from its input.
//! Activities with the same signature share a type, so the chosen one is an
//! ordinary variable.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "activity-choice";

// ANCHOR: types
/// A fruit the shop knows, or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fruit {
    Apple,
    Banana,
    Cherry,
}

/// One line of a shopping list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShoppingItem {
    pub fruit: Fruit,
    pub amount: u32,
}

/// What the workflow orders.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShoppingList {
    pub items: Vec<ShoppingItem>,
}
// ANCHOR_END: types

// ANCHOR: activities
#[activity]
pub fn order_apples(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount} Apples..."))
}

#[activity]
pub fn order_bananas(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount} Bananas..."))
}
// ANCHOR_END: activities

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct PurchaseFruits;

#[workflow]
impl PurchaseFruits {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, list: ShoppingList) -> WorkflowResult<String> {
        let mut ordered = String::new();
        for item in list.items {
            let order_function = match item.fruit {
                Fruit::Apple => ORDER_APPLES,
                Fruit::Banana => ORDER_BANANAS,
                other => {
                    return Err(
                        ApplicationError::new(format!("Unrecognized fruit: {other:?}"))
                            .with_type("ValueError")
                            .into(),
                    );
                }
            };
            let result = ctx
                .activity(order_function, item.amount)
                .start_to_close_timeout(Duration::from_secs(5))
                .await?;
            ordered.push_str(&result);
        }
        Ok(ordered)
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<PurchaseFruits>()
        .register_activity(ORDER_APPLES)
        .register_activity(ORDER_BANANAS)
}

fn list(items: &[(Fruit, u32)]) -> ShoppingList {
    ShoppingList {
        items: items
            .iter()
            .map(|&(fruit, amount)| ShoppingItem { fruit, amount })
            .collect(),
    }
}

/// Orders apples and bananas, then a list with a cherry, which fails.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    // ANCHOR: client
    let ordered = client
        .execute_workflow(
            PurchaseFruits::run,
            list(&[(Fruit::Apple, 8), (Fruit::Banana, 5)]),
            options("activity-choice-1", TASK_QUEUE),
        )
        .await?;
    // ANCHOR_END: client
    let mut lines = vec![ordered];
    let failed = client
        .execute_workflow(
            PurchaseFruits::run,
            list(&[(Fruit::Apple, 1), (Fruit::Cherry, 2)]),
            options("activity-choice-2", TASK_QUEUE),
        )
        .await;
    match failed {
        Ok(unexpected) => lines.push(format!("unexpectedly ordered: {unexpected}")),
        Err(e) => lines.push(format!("{e:#}")),
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_are_plain_functions_too() {
        assert_eq!(order_apples(3).unwrap(), "Ordered 3 Apples...");
    }
}

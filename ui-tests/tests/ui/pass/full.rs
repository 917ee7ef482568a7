//! A workflow, free and method activities, a worker and client code.

#![deny(warnings)]

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weft::prelude::*;
use weft::{ClientError, WorkflowHandle};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: u64,
    pub name: String,
}

/// Orders apples.
#[activity]
pub async fn order(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount}"))
}

/// Same signature as `order`, so one can be picked at run time.
#[activity(name = "OrderPears")]
pub async fn order_pears(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount} pears"))
}

#[activity]
fn add(ctx: ActivityContext, a: i64, b: i64) -> Result<i64, ApplicationError> {
    let _ = ctx.info().attempt;
    Ok(a + b)
}

#[activity]
async fn ping() -> Result<(), Failure> {
    Ok(())
}

pub struct Deps {
    prefix: String,
}

#[activity(start_to_close_timeout = "30s")]
impl Deps {
    async fn get_user(&self, id: u64) -> Result<User, ApplicationError> {
        Ok(User { id, name: format!("{}{id}", self.prefix) })
    }

    #[activity(name = "Greet", heartbeat_timeout = "10s", retry(maximum_attempts = 3))]
    async fn greet(&self, ctx: ActivityContext, user: User, loud: bool) -> Result<String, ApplicationError> {
        let _ = ctx.info();
        let text = format!("hi {}", user.name);
        Ok(if loud { text.to_uppercase() } else { text })
    }

    /// Not an activity: no `&self`.
    fn new(prefix: &str) -> Self {
        Deps { prefix: prefix.to_string() }
    }
}

#[workflow]
#[derive(Default)]
pub struct Shop {
    ordered: u32,
}

#[workflow]
impl Shop {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<String> {
        let pick = if amount > 10 { ORDER } else { ORDER_PEARS };
        let text: String = ctx
            .activity(pick, amount)
            .start_to_close_timeout(Duration::from_secs(5))
            .await?;
        let sum: i64 = ctx
            .activity(ADD, (1, 2))
            .start_to_close_timeout(Duration::from_secs(5))
            .await?;
        // Their timeouts come from the #[activity(..)] declarations.
        let user: User = ctx.activity(Deps::GET_USER, 7).await?;
        let _greeting: String = ctx.activity(Deps::GREET, (user, true)).await?;
        ctx.activity(PING, ()).start_to_close_timeout(Duration::from_secs(5)).await?;
        ctx.state_mut(|s| s.ordered += amount);
        Ok(format!("{text} {sum}"))
    }
}

#[workflow]
pub struct Counter {
    start: u64,
}

#[workflow(name = "CounterV2")]
impl Counter {
    #[init]
    fn new(input: &u64) -> Self {
        Counter { start: *input }
    }

    #[weft::run]
    async fn count(ctx: WorkflowContext<Self>, _input: u64) -> Result<u64, ApplicationError> {
        Ok(ctx.state(|s| s.start) + 1)
    }
}

async fn client_code(client: &Client) -> Result<String, ClientError> {
    let handle: WorkflowHandle<Shop> = client
        .start_workflow(Shop::run, 3, WorkflowOptions::new("shop-1", "queue"))
        .await?;
    let n: u64 = client
        .execute_workflow(Counter::count, 5, WorkflowOptions::new("c-1", "queue"))
        .await?;
    Ok(format!("{} {n}", handle.result().await?))
}

fn worker(client: &Client) -> Worker {
    Worker::new(client, "queue")
        .register_workflow::<Shop>()
        .register_workflow::<Counter>()
        .register_activity(ORDER)
        .register_activity(ORDER_PEARS)
        .register_activity(ADD)
        .register_activity(PING)
        .register_activities(Arc::new(Deps::new("user-")))
}

fn main() {
    use weft::Workflow;
    let _ = (client_code, worker);
    assert_eq!(<Shop as Workflow>::NAME, "Shop");
    assert_eq!(<Counter as Workflow>::NAME, "CounterV2");
    assert_eq!(ORDER.name(), "order");
    assert_eq!(ORDER_PEARS.name(), "OrderPears");
    assert_eq!(Deps::GREET.name(), "Greet");
    let greet = Deps::GREET.defaults();
    assert_eq!(greet.start_to_close_timeout, Some(std::time::Duration::from_secs(30)));
    assert_eq!(greet.heartbeat_timeout, Some(std::time::Duration::from_secs(10)));
    assert_eq!(greet.retry.map(|r| r.maximum_attempts), Some(3));
    assert_eq!(add(ActivityContext::for_test("add"), 2, 3).ok(), Some(5));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        assert_eq!(order(3).await.unwrap(), "Ordered 3");
        let deps = Deps::new("u");
        // The method stays a method; its activity value calls it too.
        assert_eq!(deps.get_user(7).await.unwrap().name, "u7");
        assert_eq!(Deps::GET_USER(&deps, 7).await.unwrap().name, "u7");
        assert_eq!(ORDER(4).await.unwrap(), "Ordered 4");
        let group = Arc::new(Deps::new("g")).activities_named();
        assert_eq!(group, vec!["get_user", "Greet"]);
    });
}

trait Names {
    fn activities_named(self) -> Vec<&'static str>;
}

impl Names for Arc<Deps> {
    fn activities_named(self) -> Vec<&'static str> {
        use weft::__private::ActivityGroup;
        self.activities().into_iter().map(|(name, _)| name).collect()
    }
}

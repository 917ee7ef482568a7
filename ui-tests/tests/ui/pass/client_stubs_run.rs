//! The typed client stubs end to end on the in-memory engine: signals with
//! an input, without one and under a registered name, a query, an update
//! and a rejected one; the trait is imported from the workflow's module.

#![deny(warnings)]

mod game {
    use serde::{Deserialize, Serialize};
    use weft::prelude::*;

    #[derive(Serialize, Deserialize)]
    pub struct AddPoints {
        pub points: u32,
    }

    #[workflow]
    #[derive(Default)]
    pub struct Game {
        score: u32,
        bonus: bool,
        over: bool,
    }

    #[workflow]
    impl Game {
        #[run]
        pub async fn run(ctx: WorkflowContext<Self>, start: u32) -> WorkflowResult<u32> {
            ctx.wait_condition(|s| s.over).await?;
            Ok(ctx.state(|s| start + s.score + if s.bonus { 100 } else { 0 }))
        }

        #[signal]
        fn add_points(&mut self, input: AddPoints) {
            self.score += input.points;
        }

        #[signal]
        async fn bonus(ctx: WorkflowContext<Self>) {
            ctx.state_mut(|s| s.bonus = true);
        }

        #[signal(name = "GameOver")]
        fn game_over(&mut self) {
            self.over = true;
        }

        #[query(name = "Score")]
        fn score(&self) -> (u32, bool) {
            (self.score, self.bonus)
        }

        #[update]
        fn multiply(&mut self, by: u32) -> Result<u32, ApplicationError> {
            self.score *= by;
            Ok(self.score)
        }

        #[validator(multiply)]
        fn check_multiply(&self, by: &u32) -> Result<(), ApplicationError> {
            if *by == 0 {
                return Err(ApplicationError::new("multiplying by zero"));
            }
            Ok(())
        }
    }
}

use game::{AddPoints, Game, GameHandle};
use weft::engine::Engine;
use weft::prelude::*;

#[tokio::main]
async fn main() {
    let engine = Engine::memory().await.unwrap();
    let client = Client::new(engine);
    let worker = Worker::new(&client, "games").register_workflow::<Game>();
    let worker = worker.start().unwrap();

    let handle = client
        .start_workflow(Game::run, 1, WorkflowOptions::new("game-1", "games"))
        .await
        .unwrap();
    handle.add_points(AddPoints { points: 2 }).await.unwrap();
    handle.bonus().await.unwrap();
    // Signals recorded before the update are applied before it.
    assert_eq!(handle.multiply(3).await.unwrap(), 6);
    assert!(handle.multiply(0).await.is_err());
    assert_eq!(handle.score().await.unwrap(), (6, true));
    // The stub's future is `Send + 'static` once it owns its handle.
    let owned = handle.clone();
    tokio::spawn(async move { owned.game_over().await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(handle.result().await.unwrap(), 107);
    worker.shutdown().await;
}

//! The handler entry points `#[workflow]` generates, called directly as the
//! executor would: queries and validators need only the state. (Signals and
//! updates need a `WorkflowContext`, which only the executor builds; the
//! runtime's tests drive those.)

use serde::{Deserialize, Serialize};
use weft::converter::{decode, encode};
use weft::prelude::*;
use weft::{Payload, Workflow};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Item {
    name: String,
    cents: u64,
}

#[workflow]
struct Cart {
    items: Vec<Item>,
    open: bool,
}

#[workflow]
impl Cart {
    #[init]
    fn new(owner: &String) -> Self {
        let first = Item {
            name: format!("{owner}'s bag"),
            cents: 5,
        };
        Cart {
            items: vec![first],
            open: true,
        }
    }

    #[run]
    async fn run(_ctx: WorkflowContext<Self>, _owner: String) -> WorkflowResult<u64> {
        Ok(0)
    }

    #[query]
    fn count(&self) -> usize {
        self.items.len()
    }

    #[query(name = "Item")]
    fn item(&self, index: usize) -> Option<Item> {
        self.items.get(index).cloned()
    }

    #[update]
    fn add(&mut self, item: Item) -> Result<usize, ApplicationError> {
        self.items.push(item);
        Ok(self.items.len())
    }

    #[validator(add)]
    fn check_add(&self, item: &Item) -> Result<(), ApplicationError> {
        if !self.open {
            return Err(ApplicationError::new("the cart is closed"));
        }
        if item.cents == 0 {
            return Err(ApplicationError::new(format!("{} has no price", item.name)));
        }
        Ok(())
    }

    #[update]
    fn close(&mut self) -> Result<(), ApplicationError> {
        self.open = false;
        Ok(())
    }

    #[signal]
    fn reopen(&mut self) {
        self.open = true;
    }
}

fn cart() -> Cart {
    Cart::init(&"ada".to_string())
}

fn payload<T: Serialize>(value: &T) -> Payload {
    encode(value).expect("test values encode")
}

fn item(name: &str, cents: u64) -> Payload {
    payload(&Item {
        name: name.into(),
        cents,
    })
}

fn failure_text<T>(result: Option<Result<T, Failure>>) -> String {
    match result {
        Some(Err(failure)) => failure.to_string(),
        Some(Ok(_)) => panic!("expected a failure, got Ok"),
        None => panic!("expected a failure, got no handler"),
    }
}

#[test]
fn queries_answer_from_the_state() {
    let state = cart();
    let count = <Cart as Workflow>::query(&state, "count", &[])
        .unwrap()
        .unwrap();
    assert_eq!(decode::<usize>(&count).unwrap(), 1);

    let first = <Cart as Workflow>::query(&state, "Item", &[payload(&0usize)])
        .unwrap()
        .unwrap();
    let first: Option<Item> = decode(&first).unwrap();
    assert_eq!(first.unwrap().name, "ada's bag");

    let missing = <Cart as Workflow>::query(&state, "Item", &[payload(&7usize)])
        .unwrap()
        .unwrap();
    assert_eq!(decode::<Option<Item>>(&missing).unwrap(), None);
}

/// Handler names are per kind, and `name = ..` replaces the fn's name.
#[test]
fn unknown_names_have_no_handler() {
    let state = cart();
    assert!(<Cart as Workflow>::query(&state, "nope", &[]).is_none());
    assert!(<Cart as Workflow>::query(&state, "item", &[payload(&0usize)]).is_none());
    // An update or a signal is not a query, and a query is not an update.
    assert!(<Cart as Workflow>::query(&state, "add", &[]).is_none());
    assert!(<Cart as Workflow>::query(&state, "reopen", &[]).is_none());
    assert!(<Cart as Workflow>::validate(&state, "count", &[]).is_none());
    assert!(<Cart as Workflow>::validate(&state, "reopen", &[]).is_none());
    assert!(<Cart as Workflow>::validate(&state, "nope", &[]).is_none());
}

#[test]
fn malformed_input_is_a_clear_failure() {
    let state = cart();
    let wrong_type = failure_text(<Cart as Workflow>::query(
        &state,
        "Item",
        &[payload(&"first")],
    ));
    assert!(wrong_type.contains("cannot decode"), "{wrong_type}");
    assert!(wrong_type.contains("usize"), "{wrong_type}");

    let too_many = failure_text(<Cart as Workflow>::query(&state, "count", &[payload(&1)]));
    assert!(
        too_many.contains("expected 0 payload(s), got 1"),
        "{too_many}"
    );

    let none = failure_text(<Cart as Workflow>::validate(&state, "add", &[]));
    assert!(none.contains("expected 1 payload(s), got 0"), "{none}");

    // An update without a validator still rejects an input that does not
    // decode, before the update is accepted.
    let extra = failure_text(<Cart as Workflow>::validate(
        &state,
        "close",
        &[payload(&1)],
    ));
    assert!(extra.contains("expected 0 payload(s), got 1"), "{extra}");

    let not_an_item = failure_text(<Cart as Workflow>::validate(&state, "add", &[payload(&3)]));
    assert!(not_an_item.contains("cannot decode"), "{not_an_item}");
    assert!(not_an_item.contains("Item"), "{not_an_item}");
}

#[test]
fn validators_accept_and_reject() {
    let mut state = cart();
    assert!(matches!(
        <Cart as Workflow>::validate(&state, "add", &[item("pear", 3)]),
        Some(Ok(()))
    ));
    let free = failure_text(<Cart as Workflow>::validate(
        &state,
        "add",
        &[item("air", 0)],
    ));
    assert!(free.contains("air has no price"), "{free}");

    // The validator reads the current state.
    state.open = false;
    let closed = failure_text(<Cart as Workflow>::validate(
        &state,
        "add",
        &[item("pear", 3)],
    ));
    assert!(closed.contains("the cart is closed"), "{closed}");

    // `close` has no validator: a well-formed input is accepted.
    assert!(matches!(
        <Cart as Workflow>::validate(&state, "close", &[]),
        Some(Ok(()))
    ));
}

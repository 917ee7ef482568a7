//! Expansion snapshots: each test calls an `expand` fn, formats the output
//! with prettyplease and compares it with the committed `.snap` file.

use proc_macro2::TokenStream;
use quote::quote;

use crate::expand;
use crate::symbol::RUN;

fn pretty(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(error) => format!("// not a file ({error}):\n{tokens}"),
    }
}

#[test]
fn async_activity() {
    let out = expand::activity(
        quote!(),
        quote! {
            /// Orders apples.
            pub async fn order(amount: u32) -> Result<String, ApplicationError> {
                Ok(format!("Ordered {amount}"))
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn sync_activity_with_name() {
    let out = expand::activity(
        quote!(name = "Add"),
        quote! {
            fn add(a: i64) -> Result<i64, ApplicationError> {
                Ok(a + 1)
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn activity_with_context_and_two_args() {
    let out = expand::activity(
        quote!(),
        quote! {
            async fn charge(ctx: ActivityContext, card: Card, cents: u64) -> Result<Receipt, ApplicationError> {
                Ok(Receipt { card, cents, attempt: ctx.info().attempt })
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn activity_without_args() {
    let out = expand::activity(
        quote!(),
        quote! {
            async fn ping() -> Result<(), Failure> {
                Ok(())
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn impl_block_activities() {
    let out = expand::activity(
        quote!(),
        quote! {
            impl Deps {
                /// Looks a user up.
                async fn get_user(&self, id: u64) -> Result<User, ApplicationError> {
                    self.db.get(id).await
                }

                #[activity(name = "Notify")]
                pub async fn notify(&self, ctx: ActivityContext, user: User, text: String) -> Result<(), ApplicationError> {
                    Ok(())
                }

                fn new() -> Self {
                    Deps::default()
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn workflow_with_init() {
    let out = expand::workflow(
        quote!(name = "Counter"),
        quote! {
            impl CounterWorkflow {
                #[init]
                fn new(input: &u64) -> Self {
                    CounterWorkflow { start: *input }
                }

                #[run]
                async fn run(ctx: WorkflowContext<Self>, input: u64) -> Result<u64, ApplicationError> {
                    Ok(input)
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn workflow_without_init() {
    let out = expand::workflow(
        quote!(),
        quote! {
            impl Greeting {
                #[weft::run]
                pub async fn greet(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
                    Ok(format!("Hello, {name}"))
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

/// The state struct is kept as written; each field's type is probed after
/// name resolution (a type alias of a std `HashMap` is refused there).
#[test]
fn workflow_struct_probes_its_fields() {
    let out = expand::workflow(
        quote!(),
        quote! {
            #[derive(Default)]
            struct Greeting {
                greeted: u32,
                names: Names,
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

/// Every mistake in one impl block is reported, and the block is still
/// emitted with its markers removed so the rest of the crate compiles.
#[test]
fn workflow_errors_are_collected_and_markers_stripped() {
    let out = expand::workflow(
        quote!(name = "X", name = "Y"),
        quote! {
            impl Broken {
                #[run]
                fn run(&self) -> u32 { 1 }

                #[run(fast)]
                async fn again(ctx: WorkflowContext<Self>, input: u32) -> WorkflowResult<u32> { Ok(input) }

                #[init]
                const START: u32 = 0;

                #[init]
                async fn new(input: u32) -> Self { Broken }
            }
        },
    );
    let text = out.to_string();
    assert_eq!(text.matches("compile_error").count(), 10, "{text}");
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn activity_errors_are_collected() {
    let out = expand::activity(
        quote!(),
        quote! {
            const unsafe fn bad<T>(&self, (a, b): (u8, u8), s: &str, x: impl Clone) -> u32 { 0 }
        },
    );
    let text = out.to_string();
    assert_eq!(text.matches("compile_error").count(), 8, "{text}");
}

#[test]
fn marker_outside_workflow_keeps_the_item() {
    let out = expand::marker_outside_workflow(
        RUN,
        quote!(
            async fn run() {}
        ),
    );
    let text = out.to_string();
    assert!(text.contains("compile_error"), "{text}");
    assert!(text.ends_with("async fn run () { }"), "{text}");
}

/// A bad item does not panic the macro: the parse error is returned.
#[test]
fn unparsable_item_is_an_error() {
    let out = expand::activity(quote!(), quote!(fn 42 () {}));
    assert!(out.to_string().contains("compile_error"));
}

#[test]
fn run_body_awaits_and_async_block_are_checked() {
    let out = expand::workflow(
        quote!(),
        quote! {
            impl Batch {
                #[run]
                async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<u32> {
                    ctx.sleep(Duration::from_secs(1)).await;
                    let (a, b) = join(
                        async { ctx.activity(double, n).await },
                        async move { helper(&ctx).await },
                    )
                    .await;
                    let wait = async |s| ctx.sleep(s).await;
                    println!("{}", ctx.activity(double, 1).await?);
                    Ok(a? + b)
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn deterministic_helper() {
    let out = expand::deterministic::attribute(
        quote!(),
        quote! {
            /// Prices an item.
            pub async fn priced(ctx: &WorkflowContext<Cart>, item: String) -> WorkflowResult<u64> {
                if item.is_empty() {
                    return Ok(0);
                }
                Ok(ctx.activity(price, item).await?)
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn deterministic_sync_fn_is_unchanged() {
    let item = quote! {
        fn label(total: u64) -> String {
            format!("{total} cents")
        }
    };
    let out = expand::deterministic::attribute(quote!(), item.clone());
    assert_eq!(out.to_string(), item.to_string());
}

/// A workflow with three bad calls reports three errors, and still emits
/// the `Workflow` impl so the rest of the crate type-checks.
#[test]
fn determinism_errors_are_collected() {
    let out = expand::workflow(
        quote!(),
        quote! {
            impl Flow {
                #[run]
                async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<u32> {
                    let t = std::time::SystemTime::now();
                    let r: u8 = rand::random();
                    tokio::spawn(async {});
                    Ok(n)
                }
            }
        },
    );
    let text = out.to_string();
    assert_eq!(text.matches("compile_error").count(), 3, "{text}");
    assert!(text.contains("Workflow for Flow"), "{text}");
}

/// Regression guard: the struct's fields are checked for the default hasher.
#[test]
fn workflow_struct_hashmap_field_is_an_error() {
    let out = expand::workflow(
        quote!(),
        quote! {
            struct Tally {
                counts: std::collections::HashMap<String, u32>,
                fine: weft::collections::HashMap<String, u32>,
                hashed: HashMap<String, u32, Fixed>,
            }
        },
    );
    let text = out.to_string();
    assert_eq!(text.matches("compile_error").count(), 1, "{text}");
}

/// Macros: allowed ones are looked into, inert ones skipped, others
/// rejected (what they expand to cannot be seen).
#[test]
fn macros_in_workflow_code() {
    let out = expand::deterministic::attribute(
        quote!(),
        quote! {
            async fn f() {
                println!("{}", std::env::var("A"));
                let _ = stringify!(std::env::var("A"));
                let _ = my_macro!(1 + 2);
                let _ = my_macro!(x.await);
                tracing::info!(?x, "{}", y.await);
                let _ = weft::select! { a = f => { g.await } };
            }
        },
    );
    let text = out.to_string();
    // env::var in println!, both my_macro! (defined outside the item, one
    // hiding an await), the unparseable tracing call's await.
    assert_eq!(text.matches("compile_error").count(), 4, "{text}");
    assert!(text.contains("checked (g) . await"), "{text}");
}

#[test]
fn workflow_with_handlers() {
    let out = expand::workflow(
        quote!(),
        quote! {
            impl Order {
                #[run]
                async fn run(ctx: WorkflowContext<Self>, input: u32) -> WorkflowResult<u32> {
                    Ok(input)
                }

                #[signal]
                fn approve(&mut self, by: String) {
                    self.approved_by = Some(by);
                }

                #[signal(name = "Cancel")]
                async fn cancel_order(ctx: WorkflowContext<Self>) {
                    ctx.sleep(Duration::from_secs(1)).await;
                    ctx.state_mut(|s| s.canceled = true);
                }

                #[query]
                fn status(&self) -> String {
                    self.status.clone()
                }

                #[update]
                fn add_item(&mut self, item: Item) -> Result<u32, ApplicationError> {
                    self.items.push(item);
                    Ok(self.items.len() as u32)
                }

                #[validator(add_item)]
                fn check_item(&self, item: &Item) -> Result<(), ApplicationError> {
                    Ok(())
                }

                #[update(name = "Ship")]
                async fn ship(ctx: WorkflowContext<Self>, to: Self) -> WorkflowResult<String> {
                    let label = async { ctx.activity(label, to).await };
                    label.await
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

/// Dynamic handlers are the `_` arms, after the named ones, and get no
/// stubs; a dynamic update's validator borrows the call.
#[test]
fn workflow_with_dynamic_handlers() {
    let out = expand::workflow(
        quote!(),
        quote! {
            impl Counters {
                #[run]
                async fn run(ctx: WorkflowContext<Self>, input: u32) -> WorkflowResult<u32> {
                    Ok(input)
                }

                #[signal]
                fn close(&mut self) {}

                #[signal(dynamic)]
                fn set(&mut self, call: DynamicCall) {}

                #[query(dynamic)]
                fn get(&self, call: DynamicCall) -> Option<i64> {
                    None
                }

                #[update(dynamic)]
                async fn add(ctx: WorkflowContext<Self>, call: DynamicCall) -> WorkflowResult<i64> {
                    Ok(0)
                }

                #[validator(add)]
                fn check(&self, call: &DynamicCall) -> Result<(), ApplicationError> {
                    Ok(())
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

/// Every handler mistake in one impl block is reported, and the block is
/// still emitted with its markers removed.
#[test]
fn handler_errors_are_collected() {
    let out = expand::workflow(
        quote!(),
        quote! {
            impl Broken {
                #[run]
                async fn run(ctx: WorkflowContext<Self>, input: u32) -> WorkflowResult<u32> { Ok(input) }

                #[query]
                fn q(&mut self) -> u32 { 0 }

                #[query]
                async fn q2(&self) -> u32 { 0 }

                #[signal]
                fn s(&mut self) -> u32 { 0 }

                #[signal(name = "s")]
                fn s2(&mut self) {}

                #[update]
                fn u(&mut self, a: u32, b: u32) -> u32 { 0 }

                #[validator(nope)]
                fn v(&self) -> Result<(), Failure> { Ok(()) }

                #[validator]
                fn v2(&self) -> Result<(), Failure> { Ok(()) }

                #[signal]
                #[query]
                fn both(&mut self) {}
            }
        },
    );
    let text = out.to_string();
    assert_eq!(text.matches("compile_error").count(), 9, "{text}");
    assert!(!text.contains("# [signal]"), "{text}");
    assert!(!text.contains("Workflow for"), "{text}");
}

#[test]
fn validator_rules() {
    let out = expand::workflow(
        quote!(),
        quote! {
            impl Flow {
                #[run]
                async fn run(ctx: WorkflowContext<Self>, input: u32) -> WorkflowResult<u32> { Ok(input) }

                #[update]
                fn u(&mut self, n: u32) -> Result<u32, Failure> { Ok(n) }

                #[update]
                fn w(&mut self) -> Result<u32, Failure> { Ok(0) }

                #[validator(u)]
                fn first(&self, n: &u32) -> Result<(), Failure> { Ok(()) }

                #[validator(u)]
                fn second(&self, n: &u32) -> Result<(), Failure> { Ok(()) }

                #[validator(w)]
                fn with_input(&self, n: &u32) -> Result<(), Failure> { Ok(()) }

                #[validator(u)]
                fn owned(&self, n: u32) -> Result<(), Failure> { Ok(()) }

                #[validator(x)]
                fn missing(&self) -> Result<u32, Failure> { Ok(0) }
            }
        },
    );
    let text = out.to_string();
    for message in [
        "`u` already has a validator, `first`",
        "`w` takes no input, so its validator `with_input` takes none either",
        "borrows the update's input: take `&T`",
        "the #[update] fns are `u`, `w`",
        "only accepts (`Ok(())`) or rejects",
    ] {
        assert!(text.contains(message), "{message}: {text}");
    }
    assert_eq!(text.matches("compile_error").count(), 5, "{text}");
}

#[test]
fn activity_with_defaults() {
    let out = expand::activity(
        quote!(
            start_to_close_timeout = "10s",
            heartbeat_timeout = "1m30s",
            retry(
                maximum_attempts = 3,
                initial_interval = "100ms",
                non_retryable_errors = ["ValueError"]
            )
        ),
        quote! {
            async fn charge(cents: u64) -> Result<u64, ApplicationError> {
                Ok(cents)
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn activity_defaults_are_checked() {
    let out = expand::activity(
        quote!(
            start_to_close_timeout = "0s",
            heartbeat_timeout = "10 seconds",
            retry(backoff_coefficient = 0.5, maximum_interval = "10ms"),
            colour = "red"
        ),
        quote! {
            async fn charge(cents: u64) -> Result<u64, ApplicationError> {
                Ok(cents)
            }
        },
    );
    let text = out.to_string();
    for expected in [
        "`start_to_close_timeout` must be greater than zero",
        "`heartbeat_timeout`: a duration is a string",
        "`backoff_coefficient` must be a finite number of at least 1.0, got 0.5",
        "`maximum_interval` (10 ms) must not be less than `initial_interval` (1000 ms, the default)",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
}

#[test]
fn workflow_fn() {
    let out = expand::workflow(
        quote!(),
        quote! {
            /// Greets.
            pub async fn say_hello(ctx: WorkflowContext, name: String) -> WorkflowResult<String> {
                let greeting = ctx.activity(GREET, name).await?;
                Ok(greeting)
            }
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn workflow_fn_errors_are_collected() {
    let out = expand::workflow(
        quote!(name = "Named"),
        quote! {
            fn order(ctx: WorkflowContext<Self>, items: &str) -> u32 {
                std::thread::sleep(std::time::Duration::from_secs(1));
                3
            }
        },
    );
    let text = out.to_string();
    for expected in [
        "a #[workflow] fn must be `async`",
        "the workflow input is decoded from a payload",
        "a #[workflow] fn returns WorkflowResult<O>",
        "a #[workflow] fn names the type it defines",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
}

//! The type probes pass deterministic values and add no warnings, also
//! where `Result`, `Ok`, `Option`, `Box`, `core`, `std` and `weft` mean
//! something else: plain statics and consts, a user type with a `now()`,
//! paths that do no I/O, bindings of every shape, `for` loops over places,
//! a local `macro_rules!`, a file-system read inside `ctx.side_effect`,
//! and probes in sync handlers and helpers.

#![deny(warnings)]

#[allow(dead_code, non_camel_case_types)]
mod shadowed {
    use ::weft::prelude::*;

    type Result = ();
    struct Ok;
    struct Err;
    type Option = ();
    struct Some;
    struct None;
    type Box = ();
    type Vec = ();
    mod core {}
    mod std {}
    mod weft {}

    static GREETING: &str = "hello";
    const LIMITS: [u32; 3] = [1, 2, 3];

    /// A deterministic clock of the user's own.
    pub struct Tick(u64);
    impl Tick {
        pub fn now() -> Self {
            Tick(7)
        }
    }

    #[::weft::deterministic]
    fn label(words: &[::std::string::String]) -> ::std::string::String {
        let mut out = ::std::string::String::new();
        for word in words {
            out.push_str(word);
        }
        out
    }

    #[workflow]
    #[derive(Default)]
    pub struct Clean {
        pub words: ::std::vec::Vec<::std::string::String>,
        pub dir: ::std::string::String,
    }

    #[workflow]
    impl Clean {
        #[run]
        pub async fn run(ctx: WorkflowContext<Self>, n: u64) -> WorkflowResult<u64> {
            macro_rules! double {
                ($e:expr) => {
                    $e * 2
                };
            }
            let tick = Tick::now();
            let path = ::std::path::Path::new("relative/name");
            let name = path.file_name().map(|n| n.len()).unwrap_or(0) as u64;
            let limit: u32 = LIMITS[1];
            let greeting = GREETING.len() as u64;
            let words = ctx.state(|s| s.words.clone());
            let mut total = 0;
            for word in &words {
                total += word.len() as u64;
            }
            let (a, b) = (1_u64, 2_u64);
            let _ = ctx.sleep(Duration::from_millis(1)).await;
            // Recorded once: the closure may read the file system.
            let there: bool = ctx
                .side_effect(|| ::std::path::Path::new("config.toml").exists())
                .await;
            let text = label(&words);
            ::core::result::Result::Ok(
                double!(n) + tick.0 + name + u64::from(limit) + greeting + total + a + b
                    + text.len() as u64
                    + u64::from(there),
            )
        }

        #[signal]
        fn add(&mut self, word: ::std::string::String) {
            for existing in self.words.iter() {
                if *existing == word {
                    return;
                }
            }
            self.words.push(word);
        }

        #[query]
        fn count(&self) -> usize {
            self.words.len() + self.dir.len()
        }
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(shadowed::Clean::NAME, "Clean");
}

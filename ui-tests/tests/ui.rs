//! Compile tests for the weft macros: `pass/` compiles and runs, each file in
//! `fail/` fails with the committed `.stderr`.
//!
//! Refresh the expected output with `TRYBUILD=overwrite`, then read every
//! changed `.stderr` before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/**/*.rs");
}

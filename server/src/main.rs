//! `weft`: the weft server and command line (see `weft --help`).

use std::process::ExitCode;

fn main() -> ExitCode {
    weft_server::cli::main_with(std::env::args().skip(1).collect())
}

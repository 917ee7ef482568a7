//! `weft-bench <scenario> [options]`: runs one benchmark of weft's embedded
//! engine, prints one line per figure and writes them as JSON.

use std::process::ExitCode;

use weft_bench::Config;

/// mimalloc rather than glibc's malloc: see `Cargo.toml`, and the
/// README's performance section for the figures with each.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let config = match Config::parse(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            println!("{}", weft_bench::args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("weft-bench: {e}\n\n{}", weft_bench::args::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("weft-bench: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(weft_bench::run_and_print(&config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weft-bench {}: {e}", config.scenario.name());
            ExitCode::FAILURE
        }
    }
}

//! The `vaskem` binary: parse the command line, hand over to the library.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: see its entry in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    vaskem::cli::run()
}

//! `plugboard`: tools for plugin files that need no application — inspect,
//! vet, keygen, sign, verify. An application's own tooling is
//! `plugboard_cli::run(builder)` in its binary.

fn main() -> std::process::ExitCode {
    plugboard_cli::run_generic()
}

//! Plugin tooling for plugboard applications.
//!
//! An application turns its own host configuration into a full plugin
//! command line in one call:
//!
//! ```no_run
//! use plugboard_host::PluginHost;
//! use plugboard_interface::{interface, HandshakeConfig, PluginError};
//!
//! # const HANDSHAKE: HandshakeConfig = HandshakeConfig { cookie_key: "K", cookie_value: "V" };
//! # #[interface(version = "1.0.0")]
//! # pub trait Transformer: Send + Sync { fn transform(&self, input: &str) -> Result<String, PluginError>; }
//! fn main() -> std::process::ExitCode {
//!     plugboard_cli::run(PluginHost::builder().handshake(HANDSHAKE).interface::<dyn Transformer>())
//! }
//! ```
//!
//! That binary then has `list`, `check`, `inspect`, `call` and `watch`
//! (plus `vet`, `keygen`, `sign` and `verify`), all with the application's
//! real handshake, protocol versions, interfaces and services. The generic
//! `plugboard` binary of this crate needs no application: `inspect`, `vet`,
//! `keygen`, `sign`, `verify`.
//!
//! # Conventions
//!
//! * Exit codes: **0** all good; **1** a plugin was refused, a check or a
//!   call failed; **2** the command line itself is wrong.
//! * Results go to standard output, errors to standard error (one line,
//!   `<program>: error: <message>`), logs (`RUST_LOG`) to standard error.
//! * `--format json` prints one JSON document whose shape is stable (see the
//!   crate's README); text output is for people and may change.
//! * File names are shown with control characters and non-UTF-8 bytes
//!   escaped.

#![deny(missing_docs)]

use std::{ffi::OsString, process::ExitCode};

use clap::{CommandFactory, FromArgMatches};
use plugboard_host::PluginHostBuilder;

mod args;
mod commands;
mod output;

/// Why a command did not succeed.
pub(crate) enum Failure {
    /// Something failed: exit code 1, with a message for standard error.
    Failed(String),
    /// Something failed and the output already says what: exit code 1.
    Reported,
    /// The command line is wrong: exit code 2.
    Usage(String),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Failed(error.to_string())
    }
}

/// What every command needs.
pub(crate) struct Context {
    /// The program's name, for messages and examples.
    pub(crate) program: String,
    /// `-v`: the long reports behind refusals.
    pub(crate) verbose: bool,
}

/// Runs the command line of an application whose host is configured by
/// `builder` (handshake, protocol versions, interfaces, services, vetting
/// rules) and returns the process's exit code: 0 all good, 1 a plugin was
/// refused or a call failed, 2 a usage error. The command-line options add
/// to the builder's settings (`--plugins`, `--trusted-key`, `--checksums`,
/// `--no-strict-permissions`).
///
/// Started by a host as the runner of an isolated plugin (`--isolate`), the
/// program serves that plugin instead, with `builder`'s configuration, and
/// exits: an application whose `main` is this call needs nothing more for
/// isolation.
///
/// On Unix it restores SIGPIPE's default action, so that output piped into
/// a reader that stops early ends the program quietly, as with other
/// command-line tools.
pub fn run(builder: PluginHostBuilder) -> ExitCode {
    if plugboard_host::isolation::is_runner() {
        // Serves the plugin and exits; it returns only when started by hand.
        drop(builder.build());
        return ExitCode::from(2);
    }
    run_with_args(builder, std::env::args_os())
}

/// [`run`] with the arguments given (the first is the program's name).
pub fn run_with_args(
    builder: PluginHostBuilder,
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> ExitCode {
    restore_sigpipe();
    init_logger();
    let program = program_name();
    let command = with_examples(args::AppCli::command().name(program.clone()), &program);
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|m| args::AppCli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    let context = Context {
        program,
        verbose: cli.verbose,
    };
    finish(&context, commands::run_app(&context, builder, cli.command))
}

/// Runs the generic `plugboard` command line (no application: `inspect`,
/// `vet`, `keygen`, `sign`, `verify`) and returns its exit code.
pub fn run_generic() -> ExitCode {
    restore_sigpipe();
    init_logger();
    let command = with_examples(args::GenericCli::command(), "plugboard");
    let cli = match command
        .try_get_matches()
        .and_then(|m| args::GenericCli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    let context = Context {
        program: "plugboard".to_owned(),
        verbose: cli.verbose,
    };
    finish(&context, commands::run_generic(&context, cli.command))
}

/// Lets the program end quietly when its output goes to a reader that
/// stops early (`demo-app list | head -1`), as other command-line tools do:
/// Rust ignores SIGPIPE, so printing would otherwise panic on the broken
/// pipe. Process-wide, which `run`'s caller hands over by making it `main`.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default installs no
    // handler; nothing runs in signal context.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_logger() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .try_init();
}

/// The name this program was started as (for help texts and messages).
fn program_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "app".to_owned())
}

/// The subcommands' examples, with the program's own name and this
/// platform's library file names (written for Linux: `libgreeter.so`,
/// `*.so`).
fn with_examples(command: clap::Command, program: &str) -> clap::Command {
    let greeter = format!(
        "{}greeter{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let any_library = format!("*.{}", plugboard_host::LIBRARY_EXTENSION);
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    names.into_iter().fold(command, |command, name| {
        command.mut_subcommand(name, |sub| {
            let help = sub.get_after_help().map(|h| {
                h.to_string()
                    .replace("APP", program)
                    .replace("libgreeter.so", &greeter)
                    .replace("*.so", &any_library)
            });
            match help {
                Some(help) => sub.after_help(help),
                None => sub,
            }
        })
    })
}

fn clap_exit(error: clap::Error) -> ExitCode {
    let _ = error.print();
    match error.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            ExitCode::SUCCESS
        }
        _ => ExitCode::from(2),
    }
}

fn finish(context: &Context, result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::FAILURE,
        Err(Failure::Failed(message)) => {
            eprintln!("{}: error: {message}", context.program);
            ExitCode::FAILURE
        }
        Err(Failure::Usage(message)) => {
            eprintln!("{}: error: {message}", context.program);
            ExitCode::from(2)
        }
    }
}

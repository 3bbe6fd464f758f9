//! `demo-app`, the demo application's command line (`plugboard_cli::run`
//! with its host configuration), run as a process on real plugin libraries:
//! one module per command, sharing the helpers below (and plugboard_tests'
//! own); the `--format json` documents are pinned in `json_formats`, issue
//! 18's attacks are in `attacks`.

use std::process::{Command, Output};

use plugboard_tests::stdout;

mod attacks;
mod call;
mod check;
mod inspect;
mod json_formats;
mod keys;
mod list;
mod watch;

fn demo_app(args: &[&str]) -> Output {
    command(args).output().expect("run demo-app")
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_demo-app"));
    command
        .args(args)
        .env_remove("PLUGBOARD_PLUGINS")
        .env_remove("RUST_LOG");
    command
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in [
        "list", "check", "inspect", "call", "watch", "vet", "keygen", "sign", "verify",
    ] {
        let out = demo_app(&[command, "--help"]);
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(
            text.contains(&format!("demo-app {command}")),
            "{command} --help has an example: {text}"
        );
    }
}

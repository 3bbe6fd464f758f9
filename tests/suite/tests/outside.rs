//! A user's crates, written exactly as the documentation shows them, outside
//! this repository (path dependencies only — no abi_stable): an interface
//! crate (`textops`, Transformer 1.1), a plugin (`upper`), the same
//! interface at 1.0 with a plugin built against it, a host program, a host
//! built against 1.0, and an application whose whole command line is
//! `plugboard_cli::run(...)`. They are built with cargo and run as
//! processes.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use plugboard_tests::{private_dir, set_mode, workspace_root};

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn dep(name: &str) -> String {
    let path = workspace_root().join(name);
    format!("{{ path = {:?} }}", path.display().to_string())
}

const INTERFACE_1_1: &str = r#"
use plugboard_interface::{interface, HandshakeConfig, PluginError};

pub const HANDSHAKE: HandshakeConfig =
    HandshakeConfig { cookie_key: "TEXTOPS_PLUGIN", cookie_value: "2b7e-textops" };

/// Transforms text.
#[interface(version = "1.1.0")]
pub trait Transformer: Send + Sync {
    fn name(&self) -> String;
    fn transform(&self, input: &str) -> Result<String, PluginError>;
    /// Plugins built against 1.0 lack it.
    #[since("1.1.0")]
    fn describe(&self) -> Result<String, PluginError>;
}
"#;

const INTERFACE_1_0: &str = r#"
use plugboard_interface::{interface, HandshakeConfig, PluginError};

pub const HANDSHAKE: HandshakeConfig =
    HandshakeConfig { cookie_key: "TEXTOPS_PLUGIN", cookie_value: "2b7e-textops" };

/// Transforms text.
#[interface(version = "1.0.0")]
pub trait Transformer: Send + Sync {
    fn name(&self) -> String;
    fn transform(&self, input: &str) -> Result<String, PluginError>;
}
"#;

const PLUGIN: &str = r#"
use plugboard_interface::{export_plugins, PluginError};
use textops::{Transformer, HANDSHAKE};

struct Upper;
impl Transformer for Upper {
    fn name(&self) -> String { "upper".into() }
    fn transform(&self, input: &str) -> Result<String, PluginError> { Ok(input.to_uppercase()) }
    fn describe(&self) -> Result<String, PluginError> { Ok("upper-cases text".into()) }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "upper": Transformer => Upper },
}
"#;

const PLUGIN_1_0: &str = r#"
use plugboard_interface::{export_plugins, PluginError};
use textops10::{Transformer, HANDSHAKE};

struct Lower;
impl Transformer for Lower {
    fn name(&self) -> String { "lower".into() }
    fn transform(&self, input: &str) -> Result<String, PluginError> { Ok(input.to_lowercase()) }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "lower": Transformer => Lower },
}
"#;

const HOST: &str = r#"
use plugboard_host::{Plugin, PluginHost};
use plugboard_interface::PluginErrorKind;
use textops::{Transformer, HANDSHAKE};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap();
    let host = PluginHost::builder().handshake(HANDSHAKE).interface::<dyn Transformer>().build();
    let report = host.load_dir(&dir);
    assert!(report.all_loaded(), "{report}");
    let upper: Plugin<dyn Transformer> = host.dispense("upper")?;
    assert_eq!(upper.transform("hi")?, "HI");
    assert_eq!(upper.name(), "upper");
    assert_eq!(upper.describe()?, "upper-cases text");
    // A plugin built against 1.0 lacks `describe`.
    let lower: Plugin<dyn Transformer> = host.dispense("lower")?;
    assert_eq!(lower.transform("HI")?, "hi");
    let missing = lower.describe().unwrap_err();
    assert_eq!(missing.kind(), PluginErrorKind::MethodMissing);
    println!("{missing}");
    println!("host ok");
    Ok(())
}
"#;

const HOST_1_0: &str = r#"
use plugboard_host::{Plugin, PluginHost};
use textops10::{Transformer, HANDSHAKE};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap();
    let host = PluginHost::builder().handshake(HANDSHAKE).interface::<dyn Transformer>().build();
    assert!(host.load_dir(&dir).all_loaded());
    // A plugin built against 1.1, in a 1.0 host.
    let upper: Plugin<dyn Transformer> = host.dispense("upper")?;
    assert_eq!(upper.transform("hi")?, "HI");
    println!("host 1.0 ok");
    Ok(())
}
"#;

/// The whole command line of an application: at most 5 lines of its own.
const APPLICATION: &str = r#"use plugboard_host::PluginHost;
use textops::{Transformer, HANDSHAKE};
fn main() -> std::process::ExitCode {
    plugboard_cli::run(PluginHost::builder().handshake(HANDSHAKE).interface::<dyn Transformer>())
}
"#;

fn manifest(name: &str, lib: bool, deps: &[(&str, String)]) -> String {
    let mut text =
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n");
    if lib {
        text.push_str("[lib]\ncrate-type = [\"cdylib\"]\n\n");
    }
    text.push_str("[dependencies]\n");
    for (dep, spec) in deps {
        text.push_str(&format!("{dep} = {spec}\n"));
    }
    text
}

/// Writes the user's workspace; returns its root.
fn user_workspace() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let interface = dep("interface");
    let host = dep("host");
    let cli = dep("cli");
    write(
        r,
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"textops\", \"textops10\", \"upper\", \"lower\", \"host\", \"host10\", \"textops-app\"]\n",
    );
    // The same dependency versions as this repository.
    fs::copy(workspace_root().join("Cargo.lock"), r.join("Cargo.lock")).unwrap();
    write(
        r,
        "textops/Cargo.toml",
        &manifest(
            "textops",
            false,
            &[("plugboard-interface", interface.clone())],
        ),
    );
    write(r, "textops/src/lib.rs", INTERFACE_1_1);
    write(
        r,
        "textops10/Cargo.toml",
        &manifest(
            "textops10",
            false,
            &[("plugboard-interface", interface.clone())],
        ),
    );
    write(r, "textops10/src/lib.rs", INTERFACE_1_0);
    write(
        r,
        "upper/Cargo.toml",
        &manifest(
            "upper",
            true,
            &[
                ("plugboard-interface", interface.clone()),
                ("textops", "{ path = \"../textops\" }".into()),
            ],
        ),
    );
    write(r, "upper/src/lib.rs", PLUGIN);
    write(
        r,
        "lower/Cargo.toml",
        &manifest(
            "lower",
            true,
            &[
                ("plugboard-interface", interface.clone()),
                ("textops10", "{ path = \"../textops10\" }".into()),
            ],
        ),
    );
    write(r, "lower/src/lib.rs", PLUGIN_1_0);
    write(
        r,
        "host/Cargo.toml",
        &manifest(
            "host",
            false,
            &[
                ("plugboard-interface", interface.clone()),
                ("plugboard-host", host.clone()),
                ("textops", "{ path = \"../textops\" }".into()),
            ],
        ),
    );
    write(r, "host/src/main.rs", HOST);
    write(
        r,
        "host10/Cargo.toml",
        &manifest(
            "host10",
            false,
            &[
                ("plugboard-host", host.clone()),
                ("textops10", "{ path = \"../textops10\" }".into()),
            ],
        ),
    );
    write(r, "host10/src/main.rs", HOST_1_0);
    write(
        r,
        "textops-app/Cargo.toml",
        &manifest(
            "textops-app",
            false,
            &[
                ("plugboard-host", host),
                ("plugboard-cli", cli),
                ("textops", "{ path = \"../textops\" }".into()),
            ],
        ),
    );
    write(r, "textops-app/src/main.rs", APPLICATION);
    root
}

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_users_own_interface_plugin_host_and_command_line_work_as_documented() {
    let workspace = user_workspace();
    // The workspace's own target folder: the dependencies are built already.
    let target = workspace_root().join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(cargo)
        .current_dir(workspace.path())
        .args(["build", "--workspace", "--quiet"])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run cargo");
    assert!(
        built.status.success(),
        "the user's crates build: {}",
        text(&built)
    );

    let bin = target.join("debug");
    let plugins = private_dir();
    for lib in ["upper", "lower"] {
        let file = format!(
            "{}{lib}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        );
        let dst: PathBuf = plugins.path().join(&file);
        fs::copy(bin.join(&file), &dst).unwrap();
        set_mode(&dst, 0o755);
    }
    let dir = plugins.path().to_str().unwrap();

    let out = run(&bin.join("host"), &[dir]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "plugin `lower` was built against Transformer 1.0.0; `describe` arrived in 1.1.0"
        ),
        "{}",
        text(&out)
    );

    let out = run(&bin.join("host10"), &[dir]);
    assert!(out.status.success(), "{}", text(&out));

    let app = bin.join("textops-app");
    let out = run(
        &app,
        &["call", "--plugins", dir, "upper", "transform", "\"hi\""],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\"HI\"\n");
    let out = run(&app, &["check", "--plugins", dir]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("optional methods missing: describe (since 1.1.0)"),
        "{}",
        text(&out)
    );
    let out = run(&app, &["call", "--plugins", dir, "lower", "describe"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(APPLICATION.lines().count(), 5);
}

//! `plugboard`: list the plugins in a folder and call them from the shell.
//!
//! The CLI is the host of the demo application: it speaks the demo handshake
//! (`plugboard_demo::HANDSHAKE`, protocol 1) and knows how to call the demo
//! interfaces (`Greeter`, `KeyValue`).

use std::{path::PathBuf, process::ExitCode};

use abi_stable::{sabi_trait::TD_Opaque, std_types::RResult};
use clap::{Parser, Subcommand, ValueEnum};
use plugboard_demo::{
    AddHelper, AddHelperBox, CounterBox, GreeterBox, KeyValueBox, ADD_HELPER_SERVICE, HANDSHAKE,
    PROTOCOL_VERSION,
};
use plugboard_host::{LoadError, LoadReport, Plugin, PluginHost};
use plugboard_interface::PluginError;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "plugboard",
    version,
    about = "Load plugboard plugins from a folder, list them and call them."
)]
struct Cli {
    /// Show the full reports behind refusals (e.g. abi_stable's layout dump).
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct PluginsArg {
    /// The plugins folder.
    #[arg(
        long,
        env = "PLUGBOARD_PLUGINS",
        default_value = "plugins.d",
        value_name = "DIR"
    )]
    plugins: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// One line per plugin file: loaded, with its plugins, or refused, with the reason.
    List {
        #[command(flatten)]
        dir: PluginsArg,
    },
    /// Check every plugin file against this host, for plugin authors' and
    /// distributors' CI: exit code 0 only when every file loads and every
    /// plugin dispenses.
    Check {
        #[command(flatten)]
        dir: PluginsArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Call a method of a plugin, e.g. `call greeter greet World` or
    /// `call kv put k v get k`.
    Call {
        #[command(flatten)]
        dir: PluginsArg,
        /// The plugin's name (see `plugboard list`).
        plugin: String,
        /// The method, then its arguments. Greeter: `greet NAME`, `shout NAME`.
        /// Counter: `add KEY N`, `get KEY` (repeatable).
        /// KeyValue: `put KEY VALUE`, `get KEY`, `delete KEY`, `list`; several
        /// may follow each other in one call, on the same object.
        #[arg(required = true, num_args = 1.., value_name = "METHOD [ARGS]")]
        call: Vec<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("plugboard: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    match &cli.command {
        Command::List { dir } => {
            let (_, report) = load(&dir.plugins);
            if let Some(e @ LoadError::FolderUnreadable { .. }) = report.refused().next() {
                return Err(e.to_string());
            }
            print_report(&report, cli.verbose);
            Ok(())
        }
        Command::Check { dir, format } => check(&dir.plugins, *format, cli.verbose),
        Command::Call { dir, plugin, call } => {
            let (host, report) = load(&dir.plugins);
            for refused in report.refused() {
                log::info!("{refused}");
            }
            call_plugin(&host, &report, plugin, call, cli.verbose)
        }
    }
}

/// The CLI's `AddHelper`, offered to plugins as the `add-helper` service.
struct Adder;

impl AddHelper for Adder {
    fn sum(&self, a: i64, b: i64) -> RResult<i64, PluginError> {
        a.checked_add(b)
            .ok_or_else(|| PluginError::failed(format!("{a} + {b} overflows")))
            .into()
    }
}

fn load(dir: &std::path::Path) -> (PluginHost, LoadReport) {
    let mut host = PluginHost::builder()
        .host_info("plugboard", env!("CARGO_PKG_VERSION"))
        .handshake(HANDSHAKE)
        .protocol_versions([PROTOCOL_VERSION])
        .interface::<GreeterBox>()
        .interface::<KeyValueBox>()
        .interface::<CounterBox>()
        .service::<AddHelperBox>(ADD_HELPER_SERVICE, || {
            AddHelperBox::from_value(Adder, TD_Opaque)
        })
        .plugins_dir(dir)
        .build();
    let report = host.load();
    (host, report)
}

fn print_report(report: &LoadReport, verbose: bool) {
    if report.outcomes.is_empty() {
        println!(
            "no plugin files (*.{}) in {}",
            plugboard_host::LIBRARY_EXTENSION,
            report.dir.display()
        );
        return;
    }
    print!("{report}");
    if verbose {
        for refused in report.refused() {
            if let Some(details) = refused.details() {
                println!(
                    "--- details for {} ---\n{details}",
                    refused.path().display()
                );
            }
        }
    }
}

fn call_plugin(
    host: &PluginHost,
    report: &LoadReport,
    plugin: &str,
    call: &[String],
    verbose: bool,
) -> Result<(), String> {
    let Some(info) = host.plugin(plugin) else {
        // Let the host phrase "unknown plugin, available: ..."; add a hint
        // when some files were refused.
        let error = host
            .dispense::<GreeterBox>(plugin)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let refused = report.refused().count();
        return Err(if refused > 0 {
            format!(
                "{error}; {refused} file(s) in {} were refused, run `plugboard list` to see why",
                report.dir.display()
            )
        } else {
            error
        });
    };
    let describe = |e: plugboard_host::DispenseError| match (verbose, e.details()) {
        (true, Some(details)) => format!("{e}\n{details}"),
        _ => e.to_string(),
    };
    match info.entry.interface.as_str() {
        "Greeter" => {
            let greeter: Plugin<GreeterBox> = host.dispense(plugin).map_err(describe)?;
            let answer = match call {
                [method, name] if method == "greet" => {
                    greeter.call(|g| g.greet(name.as_str().into()))
                }
                [method, name] if method == "shout" => {
                    greeter.call(|g| g.shout(name.as_str().into()))
                }
                _ => {
                    return Err(format!(
                        "plugin `{plugin}` is a Greeter; its methods are `greet NAME` and `shout NAME`, got `{}`",
                        call.join(" ")
                    ))
                }
            };
            println!("{}", answer.map_err(|e| e.to_string())?);
            Ok(())
        }
        "KeyValue" => {
            let kv: Plugin<KeyValueBox> = host.dispense(plugin).map_err(describe)?;
            call_kv(&kv, call)
        }
        "Counter" => {
            let counter: Plugin<CounterBox> = host.dispense(plugin).map_err(describe)?;
            call_counter(&counter, call)
        }
        other => Err(format!(
            "plugin `{plugin}` implements {other}, which this CLI cannot call (it knows Greeter, KeyValue and Counter)"
        )),
    }
}

fn call_kv(kv: &Plugin<KeyValueBox>, mut call: &[String]) -> Result<(), String> {
    let plugin = kv.name();
    let fail = |e: plugboard_interface::PluginError| kv.explain(e).to_string();
    while let Some((method, rest)) = call.split_first() {
        call = match (method.as_str(), rest) {
            ("put", [key, value, rest @ ..]) => {
                kv.put(key.as_str().into(), value.as_str().into())
                    .into_result()
                    .map_err(fail)?;
                println!("ok");
                rest
            }
            ("get", [key, rest @ ..]) => {
                match kv.get(key.as_str().into()).into_result().map_err(fail)? {
                    abi_stable::std_types::RSome(value) => println!("{value}"),
                    abi_stable::std_types::RNone => {
                        return Err(format!("plugin `{plugin}`: no value for key `{key}`"))
                    }
                }
                rest
            }
            ("delete", [key, rest @ ..]) => {
                let existed = kv.delete(key.as_str().into()).into_result().map_err(fail)?;
                println!("{}", if existed { "deleted" } else { "not found" });
                rest
            }
            ("list", rest) => {
                for key in kv.list().into_result().map_err(fail)? {
                    println!("{key}");
                }
                rest
            }
            (m @ ("put" | "get" | "delete"), _) => {
                return Err(format!(
                    "`{m}` needs {} argument(s): put KEY VALUE, get KEY, delete KEY",
                    if m == "put" { 2 } else { 1 }
                ))
            }
            (m, _) => {
                return Err(format!(
                    "plugin `{plugin}` is a KeyValue; its methods are put KEY VALUE, get KEY, delete KEY, list; got `{m}`"
                ))
            }
        };
    }
    Ok(())
}

fn call_counter(counter: &Plugin<CounterBox>, mut call: &[String]) -> Result<(), String> {
    let plugin = counter.name();
    while let Some((method, rest)) = call.split_first() {
        call = match (method.as_str(), rest) {
            ("add", [key, delta, rest @ ..]) => {
                let delta: i64 = delta
                    .parse()
                    .map_err(|_| format!("`add` needs a whole number, got `{delta}`"))?;
                let total = counter
                    .call(|c| c.add(key.as_str().into(), delta))
                    .map_err(|e| e.to_string())?;
                println!("{total}");
                rest
            }
            ("get", [key, rest @ ..]) => {
                let total = counter
                    .call(|c| c.get(key.as_str().into()))
                    .map_err(|e| e.to_string())?;
                println!("{total}");
                rest
            }
            (m, _) => {
                return Err(format!(
                "plugin `{plugin}` is a Counter; its methods are add KEY N and get KEY; got `{m}`"
            ))
            }
        };
    }
    Ok(())
}

/// `plugboard check`: every file against this host, as text or JSON.
fn check(dir: &std::path::Path, format: Format, verbose: bool) -> Result<(), String> {
    let (host, report) = load(dir);
    if let Some(e @ LoadError::FolderUnreadable { .. }) = report.refused().next() {
        return Err(e.to_string());
    }
    // Loaded files still fail the check if one of their plugins cannot be
    // dispensed (its factory fails or panics).
    let probes = host.verify();
    let probe_failure = |path: &std::path::Path| {
        probes
            .iter()
            .filter(|(info, _)| info.path == path)
            .find_map(|(_, outcome)| outcome.as_ref().and_then(|r| r.as_ref().err()))
    };
    let mut files = Vec::new();
    let (mut ok, mut refused) = (0, 0);
    for outcome in &report.outcomes {
        let path = outcome.path.display().to_string();
        let value = match &outcome.result {
            Ok(lib) => match probe_failure(&outcome.path) {
                None => {
                    ok += 1;
                    json!({
                        "path": path,
                        "status": "ok",
                        "library": { "name": lib.name, "version": lib.version },
                        "protocol": lib.protocol,
                        "offered_protocols": lib.offered_protocols,
                        "plugins": lib.entries.iter().map(|e| json!({
                            "name": e.name,
                            "interface": e.interface,
                            "interface_version": e.interface_version,
                            "missing_methods": e.missing_methods.iter().map(|m| json!({
                                "name": m.name, "since": m.since,
                            })).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })
                }
                Some(e) => {
                    refused += 1;
                    json!({ "path": path, "status": "refused", "kind": e.kind(), "reason": e.to_string() })
                }
            },
            Err(e) => {
                refused += 1;
                let mut v = json!({ "path": path, "status": "refused", "kind": e.kind(), "reason": e.to_string() });
                if verbose {
                    if let Some(details) = e.details() {
                        v["details"] = json!(details);
                    }
                }
                v
            }
        };
        files.push(value);
    }
    match format {
        Format::Json => {
            let doc = json!({
                "plugins_dir": dir.display().to_string(),
                "host": {
                    "protocols": host.protocol_versions(),
                    "interfaces": host.interfaces().iter().map(|(n, v)| json!({"name": n, "version": v})).collect::<Vec<_>>(),
                },
                "files": files,
                "ok": ok,
                "refused": refused,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
            );
        }
        Format::Text => {
            for (file, outcome) in files.iter().zip(&report.outcomes) {
                if let (true, Ok(lib)) = (file["status"] == "ok", &outcome.result) {
                    println!("ok      {lib}");
                } else {
                    println!("refused {}", file["reason"].as_str().unwrap_or_default());
                    if verbose {
                        if let Some(details) =
                            outcome.result.as_ref().err().and_then(|e| e.details())
                        {
                            println!("--- details ---\n{details}");
                        }
                    }
                }
            }
            println!("{} file(s): {ok} ok, {refused} refused", ok + refused);
        }
    }
    if refused == 0 {
        Ok(())
    } else {
        Err(format!(
            "{refused} of {} plugin file(s) in {} did not pass",
            ok + refused,
            dir.display()
        ))
    }
}

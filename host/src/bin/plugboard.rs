//! `plugboard`: list the plugins in a folder and call them from the shell.
//!
//! The CLI is the host of the demo application: it speaks the demo handshake
//! (`plugboard_demo::HANDSHAKE`, protocol 1) and knows how to call the demo
//! interfaces (`Greeter`, `KeyValue`).

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use plugboard_demo::{GreeterBox, KeyValueBox, HANDSHAKE, PROTOCOL_VERSION};
use plugboard_host::{LoadError, LoadReport, PluginHost};

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
    /// Call a method of a plugin, e.g. `call greeter greet World` or
    /// `call kv put k v get k`.
    Call {
        #[command(flatten)]
        dir: PluginsArg,
        /// The plugin's name (see `plugboard list`).
        plugin: String,
        /// The method, then its arguments. Greeter: `greet NAME`.
        /// KeyValue: `put KEY VALUE`, `get KEY`, `delete KEY`, `list`; several
        /// may follow each other in one call, on the same object.
        #[arg(required = true, num_args = 1.., value_name = "METHOD [ARGS]")]
        call: Vec<String>,
    },
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
        Command::Call { dir, plugin, call } => {
            let (host, report) = load(&dir.plugins);
            for refused in report.refused() {
                log::info!("{refused}");
            }
            call_plugin(&host, &report, plugin, call, cli.verbose)
        }
    }
}

fn load(dir: &std::path::Path) -> (PluginHost, LoadReport) {
    let mut host = PluginHost::builder()
        .handshake(HANDSHAKE)
        .protocol_versions([PROTOCOL_VERSION])
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
            let greeter: GreeterBox = host.dispense(plugin).map_err(describe)?;
            match call {
                [method, name] if method == "greet" => {
                    let answer = greeter
                        .greet(name.as_str().into())
                        .into_result()
                        .map_err(|e| format!("plugin `{plugin}`: {e}"))?;
                    println!("{answer}");
                    Ok(())
                }
                _ => Err(format!(
                    "plugin `{plugin}` is a Greeter; its method is `greet NAME`, got `{}`",
                    call.join(" ")
                )),
            }
        }
        "KeyValue" => {
            let kv: KeyValueBox = host.dispense(plugin).map_err(describe)?;
            call_kv(&kv, plugin, call)
        }
        other => Err(format!(
            "plugin `{plugin}` implements {other}, which this CLI cannot call (it knows Greeter and KeyValue)"
        )),
    }
}

fn call_kv(kv: &KeyValueBox, plugin: &str, mut call: &[String]) -> Result<(), String> {
    let fail = |e: plugboard_interface::PluginError| format!("plugin `{plugin}`: {e}");
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

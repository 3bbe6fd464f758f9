//! `plugboard`: list the plugins in a folder and call them from the shell.
//!
//! The CLI is the host of the demo application: it speaks the demo handshake
//! (`plugboard_demo::HANDSHAKE`, protocol 1) and knows how to call the demo
//! interfaces (`Greeter`, `KeyValue`).

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand, ValueEnum};
use plugboard_demo::{
    AddHelperBox, CounterBox, GreeterBox, KeyValueBox, ADD_HELPER_SERVICE, HANDSHAKE,
    PROTOCOL_VERSION,
};
use plugboard_host::{LoadError, LoadReport, Plugin, PluginHost};
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
    #[command(flatten)]
    security: SecurityArgs,
}

/// How strictly files are vetted before they are loaded.
#[derive(clap::Args, Default)]
struct SecurityArgs {
    /// Require every library to be signed by this public key (a file written
    /// by `plugboard keygen`); repeat for several keys.
    #[arg(long = "trusted-key", value_name = "FILE")]
    trusted_keys: Vec<PathBuf>,
    /// Load only files listed with their SHA-256 in this `sha256sum`-style
    /// file (`<hex>  <file name>` per line).
    #[arg(long, value_name = "FILE")]
    checksums: Option<PathBuf>,
    /// Accept files and folders that group or others can write.
    #[arg(long)]
    no_strict_permissions: bool,
}

#[derive(Subcommand)]
enum Command {
    /// One line per plugin file: loaded, with its plugins, or refused, with the reason.
    List {
        #[command(flatten)]
        dir: PluginsArg,
    },
    /// Load the folder, then follow it live: one line per file added,
    /// updated (a new generation beside the old), refused or removed. Stop
    /// with Ctrl-C.
    Watch {
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
    /// Show what a plugin file says about itself, and whether this host would
    /// load it, without loading it or running any of its code.
    Inspect {
        /// The library file.
        file: PathBuf,
        #[command(flatten)]
        security: SecurityArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Generate an ed25519 key pair for signing plugins: plugboard.key
    /// (secret, keep it safe) and plugboard.pub (give it to hosts).
    Keygen {
        /// Where to write the two files.
        #[arg(long, default_value = ".", value_name = "DIR")]
        out: PathBuf,
    },
    /// Sign plugin libraries: writes FILE.sig next to each FILE.
    Sign {
        /// The secret key file written by `plugboard keygen`.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The library files to sign.
        #[arg(required = true)]
        files: Vec<PathBuf>,
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
        Command::Inspect {
            file,
            security,
            format,
        } => inspect(file, security, *format),
        Command::Keygen { out } => {
            let (secret, public) =
                plugboard_host::signing::write_keypair(out).map_err(|e| e.to_string())?;
            println!("secret key: {} (keep it private)", secret.display());
            println!(
                "public key: {} (give it to hosts: --trusted-key)",
                public.display()
            );
            Ok(())
        }
        Command::Sign { key, files } => {
            let secret = std::fs::read_to_string(key)
                .map_err(|e| format!("cannot read the key {}: {e}", key.display()))?;
            for file in files {
                let sig = plugboard_host::signing::sign_file(&secret, file)
                    .map_err(|e| format!("cannot sign {}: {e}", file.display()))?;
                println!("signed {} -> {}", file.display(), sig.display());
            }
            Ok(())
        }
        Command::List { dir } => {
            let (_, report) = load(dir)?;
            if let Some(e @ LoadError::FolderUnreadable { .. }) = report.refused().next() {
                return Err(e.to_string());
            }
            print_report(&report, cli.verbose);
            Ok(())
        }
        Command::Check { dir, format } => check(dir, *format, cli.verbose),
        Command::Watch { dir } => watch(dir),
        Command::Call { dir, plugin, call } => {
            let (host, report) = load(dir)?;
            for refused in report.refused() {
                log::info!("{refused}");
            }
            call_plugin(&host, &report, plugin, call, cli.verbose)
        }
    }
}

/// The CLI's host: the demo application's handshake, interfaces and
/// services, with the vetting rules from the command line.
fn host_builder(security: &SecurityArgs) -> Result<plugboard_host::PluginHostBuilder, String> {
    let mut builder = PluginHost::builder()
        .host_info("plugboard", env!("CARGO_PKG_VERSION"))
        .handshake(HANDSHAKE)
        .protocol_versions([PROTOCOL_VERSION])
        .interface::<GreeterBox>()
        .interface::<KeyValueBox>()
        .interface::<CounterBox>()
        .service::<AddHelperBox>(ADD_HELPER_SERVICE, plugboard_demo::host_adder)
        .strict_permissions(!security.no_strict_permissions);
    for key in &security.trusted_keys {
        let text = std::fs::read_to_string(key)
            .map_err(|e| format!("cannot read the trusted key {}: {e}", key.display()))?;
        builder = builder
            .trust_key(&text)
            .map_err(|e| format!("{}: {e}", key.display()))?;
    }
    if let Some(sums) = &security.checksums {
        let text = std::fs::read_to_string(sums)
            .map_err(|e| format!("cannot read the checksums {}: {e}", sums.display()))?;
        builder = builder
            .checksums(&text)
            .map_err(|e| format!("{}: {e}", sums.display()))?;
    }
    Ok(builder)
}

fn load(dir: &PluginsArg) -> Result<(PluginHost, LoadReport), String> {
    let mut host = host_builder(&dir.security)?
        .plugins_dir(&dir.plugins)
        .build();
    let report = host.load();
    Ok((host, report))
}

/// `plugboard watch`: the folder's events, live, until interrupted.
fn watch(dir: &PluginsArg) -> Result<(), String> {
    use std::io::Write as _;
    let mut host = host_builder(&dir.security)?
        .plugins_dir(&dir.plugins)
        .build();
    let mut watch = host.watch().map_err(|e| e.to_string())?;
    let report = host.load();
    if let Some(e @ LoadError::FolderUnreadable { .. }) = report.refused().next() {
        return Err(e.to_string());
    }
    let mut out = std::io::stdout();
    for outcome in &report.outcomes {
        match &outcome.result {
            Ok(lib) => writeln!(out, "added   {lib} [generation {}]", lib.generation),
            Err(e) => writeln!(out, "refused {e}"),
        }
        .map_err(|e| e.to_string())?;
    }
    writeln!(out, "watching {} (Ctrl-C to stop)", dir.plugins.display())
        .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    loop {
        for event in host.process_changes(&mut watch, std::time::Duration::from_secs(3600)) {
            writeln!(out, "{event}").map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
        }
    }
}

/// `plugboard inspect`: the vet results and metadata of one file.
fn inspect(file: &std::path::Path, security: &SecurityArgs, format: Format) -> Result<(), String> {
    let host = host_builder(security)?.build();
    let (inspection, verdict) = host.inspect_file(file).map_err(|e| e.to_string())?;
    let m = &inspection.metadata;
    match format {
        Format::Json => {
            let doc = json!({
                "path": file.display().to_string(),
                "size": inspection.size,
                "sha256": inspection.sha256,
                "format": inspection.format,
                "architecture": inspection.architecture,
                "signed_by": inspection.signed_by,
                "metadata": {
                    "abi": m.abi,
                    "cookie": { "key": m.cookie_key, "value": m.cookie_value },
                    "library": { "name": m.library, "version": m.version, "description": m.description },
                    "target": m.target.to_string(),
                    "protocols": m.protocols,
                    "plugins": m.plugins.iter().map(|p| json!({
                        "protocol": p.protocol, "name": p.name,
                        "interface": p.interface, "interface_version": p.interface_version,
                    })).collect::<Vec<_>>(),
                },
                "verdict": match &verdict {
                    Ok(protocol) => json!({ "loads": true, "protocol": protocol }),
                    Err(e) => json!({ "loads": false, "kind": e.kind(), "reason": e.to_string() }),
                },
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
            );
        }
        Format::Text => {
            println!(
                "file:         {} ({} bytes)",
                file.display(),
                inspection.size
            );
            println!(
                "sha256:       {}",
                inspection.sha256.as_deref().unwrap_or("-")
            );
            println!(
                "object:       {} {} shared library, all segments inside the file",
                inspection.format, inspection.architecture
            );
            println!(
                "library:      {} {} — {}",
                m.library, m.version, m.description
            );
            println!("built for:    {}", m.target);
            println!(
                "plugboard ABI {}; cookie {}={}",
                m.abi, m.cookie_key, m.cookie_value
            );
            let protocols: Vec<String> = m.protocols.iter().map(u32::to_string).collect();
            println!("protocols:    {}", protocols.join(", "));
            for p in &m.plugins {
                println!(
                    "plugin:       {} ({} {}, protocol {})",
                    p.name, p.interface, p.interface_version, p.protocol
                );
            }
            if let Some(key) = &inspection.signed_by {
                println!("signature:    good, by key {key}");
            }
            match &verdict {
                Ok(protocol) => {
                    println!("verdict:      this host would load it (protocol {protocol})")
                }
                Err(e) => println!("verdict:      refused: {e}"),
            }
        }
    }
    verdict
        .map(|_| ())
        .map_err(|_| format!("{} would be refused by this host", file.display()))
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
fn check(args: &PluginsArg, format: Format, verbose: bool) -> Result<(), String> {
    let dir = args.plugins.as_path();
    let (host, report) = load(args)?;
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

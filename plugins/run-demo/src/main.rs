//! `cargo demo`: builds the demo plugins, drops them into the plugins folder
//! (`$PLUGBOARD_PLUGINS`, else `plugins.d/`), loads the folder and calls
//! every plugin — go-plugin's basic example, in-process.

use std::{path::PathBuf, process::ExitCode};

use plugboard_demo::{
    AddHelper, Counter, Greeter, HostAdder, KeyValue, ADD_HELPER_SERVICE, HANDSHAKE,
    PROTOCOL_VERSION,
};
use plugboard_host::{testing::build_cdylibs, Plugin, PluginHost};

/// The demo plugin packages, in `plugins/`.
const DEMO_PLUGINS: &[&str] = &["greeter", "greeter-formal", "kv", "toolbox", "counter"];

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("plugboard demo: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let plugins_dir = std::env::var_os("PLUGBOARD_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("plugins.d"));

    println!("==> building the demo plugins: {}", DEMO_PLUGINS.join(", "));
    let built = build_cdylibs(&workspace, DEMO_PLUGINS).map_err(|e| e.to_string())?;

    println!("==> dropping them into {}/", plugins_dir.display());
    std::fs::create_dir_all(&plugins_dir)
        .map_err(|e| format!("cannot create {}: {e}", plugins_dir.display()))?;
    // The host refuses folders and files others can write (StrictModes);
    // set the modes explicitly, whatever the umask.
    set_mode(&plugins_dir, 0o755)?;
    for lib in built.values() {
        let name = lib.file_name().ok_or("a built library has no file name")?;
        let dst = plugins_dir.join(name);
        // Copy to a temporary name, then rename: a library a host has
        // loaded must never be overwritten in place.
        let tmp = plugins_dir.join(format!(".{}.tmp", name.to_string_lossy()));
        std::fs::copy(lib, &tmp).map_err(|e| format!("cannot copy {}: {e}", lib.display()))?;
        set_mode(&tmp, 0o755)?;
        std::fs::rename(&tmp, &dst).map_err(|e| format!("cannot move {}: {e}", dst.display()))?;
    }

    println!("==> loading {}/", plugins_dir.display());
    let host = PluginHost::builder()
        .host_info("plugboard demo", env!("CARGO_PKG_VERSION"))
        .handshake(HANDSHAKE)
        .protocol_versions([PROTOCOL_VERSION])
        .interface::<dyn Greeter>()
        .interface::<dyn KeyValue>()
        .interface::<dyn Counter>()
        .service::<dyn AddHelper, _>(ADD_HELPER_SERVICE, || HostAdder)
        .build();
    let report = host.load_dir(&plugins_dir);
    print!("{report}");

    println!("==> calling the plugins");
    for plugin in host.plugins() {
        let name = &plugin.entry.name;
        match plugin.entry.interface.as_str() {
            "Greeter" => {
                let greeter: Plugin<dyn Greeter> =
                    host.dispense(name).map_err(|e| e.to_string())?;
                let answer = greeter.greet("World").map_err(|e| e.to_string())?;
                println!("{name}: {answer}");
            }
            "KeyValue" => {
                let kv: Plugin<dyn KeyValue> = host.dispense(name).map_err(|e| e.to_string())?;
                kv.put("answer", "forty-two").map_err(|e| e.to_string())?;
                let value = kv.get("answer").map_err(|e| e.to_string())?;
                println!(
                    "{name}: put answer=forty-two, get answer -> {}",
                    value.unwrap_or_default()
                );
            }
            "Counter" => {
                let counter: Plugin<dyn Counter> =
                    host.dispense(name).map_err(|e| e.to_string())?;
                counter.add("visits", 40).map_err(|e| e.to_string())?;
                let total = counter.add("visits", 2).map_err(|e| e.to_string())?;
                println!("{name}: add visits 40, add visits 2 -> {total} (the host did the sums)");
            }
            other => println!("{name}: implements {other}, which this demo does not call"),
        }
    }
    println!(
        "==> done. Try: cargo run -q -p demo-app -- call --plugins {} greeter greet '\"Gopher\"'",
        plugins_dir.display()
    );
    if report.all_loaded() {
        Ok(())
    } else {
        Err("some plugin files were refused (see above)".to_owned())
    }
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the permissions of {}: {e}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_path: &std::path::Path, _mode: u32) -> Result<(), String> {
    Ok(())
}

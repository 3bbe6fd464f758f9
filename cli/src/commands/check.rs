//! `check`: the compatibility report for the application's interfaces.
//! Every file must load, every plugin must implement an interface the
//! application registers and be dispensable; missing optional methods are
//! shown. Exit code 0 only when everything passes.

use plugboard_host::{DispenseError, PluginHost, PluginHostBuilder, PluginInfo};
use serde_json::{json, Value};

use crate::{
    args::{Format, ReportArgs},
    output, Context, Failure,
};

/// The verdict on one plugin of a loaded file.
fn plugin_verdict(
    info: &PluginInfo,
    probe: Option<&Result<(), DispenseError>>,
) -> Result<(), (String, String)> {
    match probe {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err((e.kind_name().to_owned(), e.to_string())),
        None => Err((
            "Unregistered".to_owned(),
            format!(
                "plugin `{}` implements {} {}, which this application does not use",
                info.entry.name, info.entry.interface, info.entry.interface_version
            ),
        )),
    }
}

pub(crate) fn run(
    context: &Context,
    builder: PluginHostBuilder,
    args: &ReportArgs,
) -> Result<(), Failure> {
    let dir = super::plugins_dir(&args.folder.plugins, &builder);
    let (host, report) = super::load(builder, &args.folder, &dir)?;
    let probes = host.verify();
    let (mut ok, mut failed) = (0usize, 0usize);
    let mut files = Vec::new();
    let mut lines = Vec::new();
    for outcome in &report.outcomes {
        match &outcome.result {
            Err(e) => {
                failed += 1;
                files.push(output::refusal_json(e, context.verbose));
                lines.push(format!("refused {}", output::refusal_line(e)));
                if let (true, Some(details)) = (context.verbose, e.details()) {
                    lines.push(format!("--- details ---\n{details}"));
                }
            }
            Ok(lib) => {
                let mut file = output::library_json(&host, lib);
                let mut problems = Vec::new();
                for (info, probe) in probes.iter().filter(|(i, _)| i.path == lib.path) {
                    let verdict = plugin_verdict(info, probe.as_ref());
                    if let Some(plugin) = file["plugins"]
                        .as_array_mut()
                        .and_then(|ps| ps.iter_mut().find(|p| p["name"] == info.entry.name))
                    {
                        plugin["check"] = match &verdict {
                            Ok(()) => json!("ok"),
                            Err((kind, reason)) => json!({ "kind": kind, "reason": reason }),
                        };
                    }
                    if let Err((_, reason)) = verdict {
                        problems.push(reason);
                    }
                }
                if problems.is_empty() {
                    ok += 1;
                    file["status"] = json!("ok");
                    lines.push(format!("ok      {lib}"));
                } else {
                    failed += 1;
                    file["status"] = json!("failed");
                    lines.push(format!(
                        "failed  {}: {}",
                        output::path(&lib.path),
                        problems.join("; ")
                    ));
                }
                files.push(file);
            }
        }
    }
    match args.format {
        Format::Json => output::print_json(&json!({
            "plugins_dir": dir.display().to_string(),
            "host": host_json(&host),
            "files": files,
            "ok": ok,
            "failed": failed,
        })),
        Format::Text => {
            if report.outcomes.is_empty() {
                println!("{}", output::empty_folder(&dir));
            }
            for line in lines {
                println!("{line}");
            }
            println!("{} file(s): {ok} ok, {failed} failed", ok + failed);
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

fn host_json(host: &PluginHost) -> Value {
    json!({
        "cookie_key": host.handshake().cookie_key,
        "protocols": host.protocol_versions(),
        "interfaces": host.interfaces().iter().map(|(name, version)| json!({
            "name": name,
            "version": version,
        })).collect::<Vec<_>>(),
    })
}

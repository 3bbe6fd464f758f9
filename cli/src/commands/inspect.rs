//! `inspect FILE`: what a plugin file declares, read without running any of
//! its code, and (for an application's command line) whether it would load.

use plugboard_host::{PluginHost, PluginHostBuilder};
use serde_json::json;

use crate::{
    args::{Format, InspectArgs},
    output, Context, Failure,
};

pub(crate) fn run(
    context: &Context,
    builder: Option<PluginHostBuilder>,
    args: &InspectArgs,
) -> Result<(), Failure> {
    let for_application = builder.is_some();
    let host = super::secured(builder.unwrap_or_else(PluginHost::builder), &args.security)?.build();
    let (inspection, verdict) = host
        .inspect_file(&args.file)
        .map_err(|e| Failure::Failed(output::refusal_line(&e)))?;
    let m = &inspection.metadata;
    match args.format {
        Format::Json => {
            let mut doc = json!({
                "path": args.file.display().to_string(),
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
            });
            if for_application {
                doc["verdict"] = match &verdict {
                    Ok(protocol) => json!({ "loads": true, "protocol": protocol }),
                    Err(e) => {
                        json!({ "loads": false, "kind": e.kind().name(), "reason": e.to_string() })
                    }
                };
            }
            output::print_json(&doc);
        }
        Format::Text => {
            println!(
                "file:         {} ({} bytes)",
                output::path(&args.file),
                inspection.size
            );
            println!(
                "sha256:       {}",
                inspection.sha256.as_deref().unwrap_or("-")
            );
            println!(
                "object:       {} {} shared library, passes the object checks",
                inspection.format, inspection.architecture
            );
            let description = if m.description.is_empty() {
                String::new()
            } else {
                format!(": {}", output::shown(&m.description))
            };
            println!(
                "library:      {} {}{description}",
                output::shown(&m.library),
                output::shown(&m.version)
            );
            println!("built for:    {}", m.target);
            println!(
                "handshake:    plugboard ABI {}, cookie {}={}",
                m.abi,
                output::shown(&m.cookie_key),
                output::shown(&m.cookie_value)
            );
            let protocols: Vec<String> = m.protocols.iter().map(u32::to_string).collect();
            println!("protocols:    {}", protocols.join(", "));
            for p in &m.plugins {
                println!(
                    "plugin:       {} ({} {}, protocol {})",
                    output::shown(&p.name),
                    output::shown(&p.interface),
                    output::shown(&p.interface_version),
                    p.protocol
                );
            }
            if let Some(key) = &inspection.signed_by {
                println!("signature:    good, by key {key}");
            }
            if for_application {
                match &verdict {
                    Ok(protocol) => {
                        println!(
                            "verdict:      {} would load it (protocol {protocol})",
                            context.program
                        )
                    }
                    Err(e) => println!("verdict:      refused: {}", output::refusal_line(e)),
                }
            }
        }
    }
    match verdict {
        Err(_) if for_application => Err(Failure::Reported),
        _ => Ok(()),
    }
}

//! `vet DIR`: the vet step for every file of a folder, loading nothing:
//! file type and size, permissions, object checks, metadata, checksums and
//! signatures when asked.

use plugboard_host::{PluginHost, PluginHostBuilder, LIBRARY_EXTENSION};
use serde_json::json;

use crate::{
    args::{Format, VetArgs},
    output, Context, Failure,
};

pub(crate) fn run(
    context: &Context,
    builder: Option<PluginHostBuilder>,
    args: &VetArgs,
) -> Result<(), Failure> {
    let host = super::secured(builder.unwrap_or_else(PluginHost::builder), &args.security)?.build();
    let mut files: Vec<_> = std::fs::read_dir(&args.dir)
        .map_err(|e| {
            Failure::Failed(format!(
                "cannot read the folder {}: {e}",
                output::path(&args.dir)
            ))
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(LIBRARY_EXTENSION))
        })
        .collect();
    files.sort();
    let results: Vec<_> = files
        .iter()
        .map(|f| (f, host.inspect_file(f).map(|(inspection, _)| inspection)))
        .collect();
    let refused = results.iter().filter(|(_, r)| r.is_err()).count();
    match args.format {
        Format::Json => output::print_json(&json!({
            "dir": args.dir.display().to_string(),
            "files": results.iter().map(|(file, result)| match result {
                Ok(i) => json!({
                    "path": file.display().to_string(),
                    "status": "ok",
                    "sha256": i.sha256,
                    "library": { "name": i.metadata.library, "version": i.metadata.version },
                    "signed_by": i.signed_by,
                }),
                Err(e) => output::refusal_json(e, context.verbose),
            }).collect::<Vec<_>>(),
            "ok": results.len() - refused,
            "refused": refused,
        })),
        Format::Text => {
            if files.is_empty() {
                println!("{}", output::empty_folder(&args.dir));
            }
            for (file, result) in &results {
                match result {
                    Ok(i) => println!(
                        "ok      {} ({} {}, sha256 {})",
                        output::path(file),
                        output::shown(&i.metadata.library),
                        output::shown(&i.metadata.version),
                        i.sha256.as_deref().unwrap_or("-")
                    ),
                    Err(e) => println!("refused {}", output::refusal_line(e)),
                }
            }
        }
    }
    if refused == 0 {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

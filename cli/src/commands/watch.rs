//! `watch`: loads the folder, then prints one line per change (added,
//! updated, refused, removed) until interrupted.

use std::io::Write as _;

use plugboard_host::{watch::WatchEvent, PluginHostBuilder};
use serde_json::{json, Value};

use crate::{
    args::{Format, ReportArgs},
    output, Context, Failure,
};

pub(crate) fn run(
    context: &Context,
    builder: PluginHostBuilder,
    args: &ReportArgs,
) -> Result<(), Failure> {
    let dir = super::plugins_dir(&args.folder.plugins, &builder);
    let host = super::configured(builder, &args.folder, &dir)?.build();
    let mut watch = host.watch()?;
    let report = host.load();
    if let Some(e) = report.refused().find(|e| {
        matches!(
            e.kind(),
            plugboard_host::LoadErrorKind::FolderUnreadable { .. }
        )
    }) {
        return Err(Failure::Failed(output::refusal_line(e)));
    }
    let mut out = std::io::stdout();
    let mut print = |text: String| -> Result<(), Failure> {
        writeln!(out, "{text}")?;
        out.flush()?;
        Ok(())
    };
    for outcome in &report.outcomes {
        print(match (&outcome.result, args.format) {
            (Ok(lib), Format::Text) => format!("added   {lib} [generation {}]", lib.generation),
            (Ok(lib), Format::Json) => {
                json!({ "event": "added", "file": output::library_json(&host, lib) }).to_string()
            }
            (Err(e), Format::Text) => format!("refused {}", output::refusal_line(e)),
            (Err(e), Format::Json) => {
                json!({ "event": "refused", "file": output::refusal_json(e, context.verbose) })
                    .to_string()
            }
        })?;
    }
    if args.format == Format::Text {
        print(format!("watching {} (Ctrl-C to stop)", output::path(&dir)))?;
    }
    loop {
        for event in host.process_changes(&mut watch, std::time::Duration::from_secs(3600)) {
            print(match args.format {
                Format::Text => match &event {
                    WatchEvent::Refused(e) => format!("refused {}", output::refusal_line(e)),
                    other => other.to_string(),
                },
                Format::Json => event_json(&host, &event, context.verbose).to_string(),
            })?;
        }
    }
}

fn event_json(host: &plugboard_host::PluginHost, event: &WatchEvent, verbose: bool) -> Value {
    match event {
        WatchEvent::Added(lib) => {
            json!({ "event": "added", "file": output::library_json(host, lib) })
        }
        WatchEvent::Updated {
            previous_generation,
            library,
        } => json!({
            "event": "updated",
            "replaces": previous_generation,
            "file": output::library_json(host, library),
        }),
        WatchEvent::Refused(e) => {
            json!({ "event": "refused", "file": output::refusal_json(e, verbose) })
        }
        WatchEvent::Removed {
            path,
            library,
            generation,
        } => json!({
            "event": "removed",
            "path": path.display().to_string(),
            "library": library,
            "generation": generation,
        }),
        _ => json!({ "event": "other", "text": event.to_string() }),
    }
}

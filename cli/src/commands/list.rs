//! `list`: one line per plugin file — loaded, with its plugins, or refused,
//! with the reason.

use plugboard_host::PluginHostBuilder;
use serde_json::json;

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
    let (host, report) = super::load(builder, &args.folder, &dir)?;
    match args.format {
        Format::Json => output::print_json(&json!({
            "plugins_dir": dir.display().to_string(),
            "files": report.outcomes.iter().map(|o| match &o.result {
                Ok(lib) => output::library_json(&host, lib),
                Err(e) => output::refusal_json(e, context.verbose),
            }).collect::<Vec<_>>(),
            "loaded": report.loaded().count(),
            "refused": report.refused().count(),
        })),
        Format::Text => {
            if report.outcomes.is_empty() {
                println!("{}", output::empty_folder(&dir));
            }
            for outcome in &report.outcomes {
                match &outcome.result {
                    Ok(lib) => println!("loaded  {lib}"),
                    Err(e) => {
                        println!("refused {}", output::refusal_line(e));
                        if let (true, Some(details)) = (context.verbose, e.details()) {
                            println!("--- details ---\n{details}");
                        }
                    }
                }
            }
        }
    }
    if report.all_loaded() {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

//! One module per command; this one dispatches and holds what they share:
//! building the host from the application's builder and the command line's
//! options.

use std::path::{Path, PathBuf};

use plugboard_host::{LoadErrorKind, LoadReport, PluginHost, PluginHostBuilder};

use crate::{
    args::{AppCommand, FolderArgs, GenericCommand, IsolationArgs, SecurityArgs},
    Context, Failure,
};

mod call;
mod check;
mod inspect;
mod keys;
mod list;
mod vet;
mod watch;

/// Runs one command of an application's command line.
pub(crate) fn run_app(
    context: &Context,
    builder: PluginHostBuilder,
    command: AppCommand,
) -> Result<(), Failure> {
    match command {
        AppCommand::List(args) => list::run(context, builder, &args),
        AppCommand::Check(args) => check::run(context, builder, &args),
        AppCommand::Inspect(args) => inspect::run(context, Some(builder), &args),
        AppCommand::Call(args) => call::run(context, builder, &args),
        AppCommand::Watch(args) => watch::run(context, builder, &args),
        AppCommand::Vet(args) => vet::run(context, Some(builder), &args),
        AppCommand::Keygen(args) => keys::keygen(&args),
        AppCommand::Sign(args) => keys::sign(&args),
        AppCommand::Verify(args) => keys::verify(&args),
    }
}

/// Runs one command of the generic `plugboard` binary.
pub(crate) fn run_generic(context: &Context, command: GenericCommand) -> Result<(), Failure> {
    match command {
        GenericCommand::Inspect(args) => inspect::run(context, None, &args),
        GenericCommand::Vet(args) => vet::run(context, None, &args),
        GenericCommand::Keygen(args) => keys::keygen(&args),
        GenericCommand::Sign(args) => keys::sign(&args),
        GenericCommand::Verify(args) => keys::verify(&args),
    }
}

/// The application's builder with the command line's vetting options.
pub(crate) fn secured(
    mut builder: PluginHostBuilder,
    security: &SecurityArgs,
) -> Result<PluginHostBuilder, Failure> {
    if security.no_strict_permissions {
        builder = builder.strict_permissions(false);
    }
    for key in &security.trusted_keys {
        let text = std::fs::read_to_string(key).map_err(|e| {
            Failure::Failed(format!(
                "cannot read the trusted key {}: {e}",
                crate::output::path(key)
            ))
        })?;
        builder = builder
            .trust_key(&text)
            .map_err(|e| Failure::Usage(format!("{}: {e}", crate::output::path(key))))?;
    }
    if let Some(sums) = &security.checksums {
        let text = std::fs::read_to_string(sums).map_err(|e| {
            Failure::Failed(format!(
                "cannot read the checksums {}: {e}",
                crate::output::path(sums)
            ))
        })?;
        builder = builder
            .checksums(&text)
            .map_err(|e| Failure::Usage(format!("{}: {e}", crate::output::path(sums))))?;
    }
    Ok(builder)
}

/// The plugins folder: `--plugins` (or `PLUGBOARD_PLUGINS`), else the
/// application's own, else `plugins.d`.
pub(crate) fn plugins_dir(given: &Option<PathBuf>, builder: &PluginHostBuilder) -> PathBuf {
    given
        .clone()
        .or_else(|| builder.configured_plugins_dir().map(Path::to_owned))
        .unwrap_or_else(|| PathBuf::from("plugins.d"))
}

/// The builder with the command line's isolation options.
pub(crate) fn isolated(
    mut builder: PluginHostBuilder,
    isolation: &IsolationArgs,
) -> Result<PluginHostBuilder, Failure> {
    for which in &isolation.isolate {
        builder = builder.isolate(which.as_str());
    }
    if let Some(seconds) = isolation.call_timeout {
        let limit = std::time::Duration::try_from_secs_f64(seconds).map_err(|_| {
            Failure::Usage(format!(
                "--call-timeout takes a number of seconds, not {seconds}"
            ))
        })?;
        builder = builder.call_timeout(limit);
    }
    Ok(builder)
}

/// The application's builder with the command line's folder, vetting and
/// isolation options.
pub(crate) fn configured(
    builder: PluginHostBuilder,
    folder: &FolderArgs,
    dir: &Path,
) -> Result<PluginHostBuilder, Failure> {
    Ok(isolated(secured(builder, &folder.security)?, &folder.isolation)?.plugins_dir(dir))
}

/// Builds the host for `dir` and loads it; a folder that cannot be read is
/// an error of the command.
pub(crate) fn load(
    builder: PluginHostBuilder,
    folder: &FolderArgs,
    dir: &Path,
) -> Result<(PluginHost, LoadReport), Failure> {
    let host = configured(builder, folder, dir)?.build();
    let report = host.load();
    if let Some(e) = report
        .refused()
        .find(|e| matches!(e.kind(), LoadErrorKind::FolderUnreadable { .. }))
    {
        return Err(Failure::Failed(crate::output::refusal_line(e)));
    }
    Ok((host, report))
}

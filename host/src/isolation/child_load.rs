//! The runner's load: the same steps as an in-process load, on the bytes
//! the host vetted, after checking that this program registers the host's
//! interfaces and services.

use std::{
    collections::HashMap,
    fs::File,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use plugboard_interface::{metadata, Factory, HostContext, PanicPolicy, PluginLibraryRef};

use super::wire::{self, Hello, LibrarySource, Loaded, LoadedEntry};
use crate::{
    builder::Config, check, handshake, load, private_copy::PrivateCopy, services, LoadError,
    LoadErrorKind,
};

/// Checks that this program registers the interfaces and services the host
/// does, in the same versions (else calls would not mean the same).
pub(super) fn same_interfaces(hello: &Hello, config: &Config) -> Result<(), String> {
    if hello.protocol != wire::PROTOCOL {
        return Err(format!(
            "the runner speaks isolation protocol {}, the host {}",
            wire::PROTOCOL,
            hello.protocol
        ));
    }
    let mine = super::digests(&config.specs);
    for theirs in &hello.interfaces {
        match mine.iter().find(|m| m.name == theirs.name) {
            Some(m) if m == theirs => {}
            Some(m) => {
                return Err(format!(
                    "the runner program registers {} {}, the host {} {}: run plugins in a build of the host's own program",
                    m.name, m.version, theirs.name, theirs.version
                ))
            }
            None => {
                return Err(format!(
                    "the runner program does not register {}, which the host does: the runner must be the host's own program, or built with the same host configuration",
                    theirs.name
                ))
            }
        }
    }
    let my_services = config.shared.service_digests();
    for (name, theirs) in &hello.services {
        if !my_services.iter().any(|(n, d)| n == name && d == theirs) {
            return Err(format!(
                "the runner program does not offer the host's service `{name}` ({} {}) in the same version",
                theirs.name, theirs.version
            ));
        }
    }
    Ok(())
}

pub(super) type Outcome = (PluginLibraryRef, Loaded, HashMap<String, Factory>);

/// The in-process load steps, run here on the bytes the host vetted.
pub(super) fn load(
    hello: &Hello,
    config: &Config,
    path: &Path,
    library: Option<File>,
) -> Result<Outcome, LoadError> {
    let metadata = metadata::parse(hello.metadata.as_bytes()).map_err(|e| {
        LoadError::new(
            path,
            LoadErrorKind::BadMetadata {
                reason: e.to_string(),
            },
        )
    })?;
    let copy = private_copy(&hello.library, library)
        .map_err(|reason| LoadError::new(path, LoadErrorKind::Isolation { reason }))?;
    let mut clock = Instant::now();
    let mut lap = || {
        let now = Instant::now();
        let micros = (now - clock).as_micros() as u64;
        clock = now;
        micros
    };
    let opened = load::open(path, copy)?;
    let dlopen = opened.dlopen.as_micros() as u64;
    let layout = lap().saturating_sub(dlopen);
    let entries = handshake::confirm(path, &opened.root, &metadata, hello.app_protocol)?;
    let registered = check::registered(path, entries, &config.specs)?;
    let interfaces = lap();
    let shared = Arc::new(
        config
            .shared
            .for_runner(&hello.host_name, &hello.host_version),
    );
    let panic_policy = if hello.panic_policy == PanicPolicy::RefuseAfterPanic as u8 {
        PanicPolicy::RefuseAfterPanic
    } else {
        PanicPolicy::KeepServing
    };
    let meta = opened.root.metadata();
    load::init(
        path,
        &opened,
        HostContext {
            services: services::for_runner(meta.name.as_str(), &shared),
            max_log_level: hello.max_log_level,
            panic_policy,
        },
    )?;
    let init = lap();
    let mut factories = HashMap::new();
    let entries: Vec<LoadedEntry> = entries
        .iter()
        .zip(&registered)
        .map(|(entry, passed)| {
            if passed.is_some() && entry.methods().is_some() {
                factories.insert(entry.name().to_owned(), entry.factory());
            }
            LoadedEntry {
                name: entry.name().to_owned(),
                interface: entry.interface().to_owned(),
                interface_version: entry.interface_version().to_owned(),
                registered: passed.as_ref().map(|(_, missing)| {
                    missing
                        .iter()
                        .map(|m| (m.name.clone(), m.since.clone()))
                        .collect()
                }),
            }
        })
        .collect();
    let loaded = Loaded {
        name: meta.name.to_string(),
        version: meta.version.to_string(),
        description: meta.description.to_string(),
        entries,
        micros: [dlopen, layout, interfaces, init],
    };
    Ok((opened.root, loaded, factories))
}

/// The private copy the host handed over.
fn private_copy(source: &LibrarySource, library: Option<File>) -> Result<PrivateCopy, String> {
    match (source, library) {
        #[cfg(target_os = "linux")]
        (LibrarySource::Descriptor(_), Some(file)) => Ok(PrivateCopy::inherited(file)),
        (LibrarySource::Path(path), _) => Ok(PrivateCopy::borrowed(PathBuf::from(path))),
        _ => Err("the host's copy of the library did not reach its process".to_owned()),
    }
}

//! Step 4 of loading: open the vetted private copy with the platform's
//! loader ([`dlopen`]) and read its plugboard root module ([`root`]); and,
//! once every check has passed, run the library's own init ([`init`]). This is where
//! plugboard runs a library's code — its constructors run inside `dlopen` —
//! and one of the modules with `unsafe`.

use std::path::Path;

use abi_stable::{
    library::{AbiHeader, AbiHeaderRef, LibHeader, LibraryError, RootModule},
    sabi_types::VersionNumber,
    StableAbi,
};
use libloading::Library;
use plugboard_interface::{HostContext, PluginLibraryRef};

use crate::{layout, private_copy::PrivateCopy, LoadError, LoadErrorKind};

/// A loaded library's root module (the library is leaked: never unloaded).
pub(crate) struct Opened {
    pub(crate) root: PluginLibraryRef,
    /// How long `dlopen` itself took.
    pub(crate) dlopen: std::time::Duration,
}

/// A library the loader mapped (its constructors have run). It is never
/// closed: objects dispensed from it may outlive every handle the host
/// keeps, and a library refused from here on stays mapped too.
pub(crate) struct Dlopened {
    library: &'static Library,
    /// How long `dlopen` took.
    took: std::time::Duration,
}

/// Opens the private copy of `path` with the platform's loader. Errors name
/// `path`.
pub(crate) fn dlopen(path: &Path, copy: PrivateCopy) -> Result<Dlopened, LoadError> {
    let started = std::time::Instant::now();
    let opened = open_library(copy.path());
    let took = started.elapsed();
    copy.loaded(opened.is_ok());
    let library = opened.map_err(|e| {
        LoadError::new(
            path,
            LoadErrorKind::OpenFailed {
                reason: e.to_string(),
            },
        )
    })?;
    // Never unloaded: dispensed objects point into the library's code and data.
    Ok(Dlopened {
        library: Box::leak(Box::new(library)),
        took,
    })
}

/// [`dlopen`] and [`root`] in one (a runner process, which loads one
/// library, counts nothing).
pub(crate) fn open(path: &Path, copy: PrivateCopy) -> Result<Opened, LoadError> {
    root(path, dlopen(path, copy)?)
}

/// Initialises the plugboard root module of the library loaded from
/// `path`, after checking its layout against this host's. Errors name
/// `path`.
pub(crate) fn root(path: &Path, dlopened: Dlopened) -> Result<Opened, LoadError> {
    let fail = |kind| LoadError::new(path, kind);
    let Dlopened {
        library,
        took: dlopen,
    } = dlopened;

    let symbol = plugboard_interface::__private::ROOT_SYMBOL;
    // SAFETY: the symbol, when present, is the `static LibHeader` that
    // `export_plugins!` defines; `AbiHeaderRef` is a transparent reference
    // to its first field (`AbiHeader`, `#[repr(C)]`), so the symbol's
    // address read as an `AbiHeaderRef` is valid for `'static` because the
    // library is leaked above.
    let header: AbiHeaderRef = match unsafe { library.get::<AbiHeaderRef>(symbol.as_bytes()) } {
        Ok(symbol) => *symbol,
        Err(_) => return Err(fail(LoadErrorKind::NotAPlugin)),
    };
    if !header.is_valid() {
        return Err(fail(LoadErrorKind::AbiStableMismatch {
            expected: abi_header_version(&AbiHeader::VALUE),
            found: abi_header_version(&header),
        }));
    }
    let lib_header: &'static LibHeader = header.upgrade().map_err(|e| library_error(path, e))?;
    check_root_layout(path, lib_header)?;
    // SAFETY: `check_root_layout` verified the library's root-module layout
    // against this host's `PluginLibrary`: either it is compatible as is, or
    // the library is older and its layout is this host's with trailing
    // prefix fields missing, which the `Option`-returning accessors of
    // later fields handle. The constructor it runs catches panics.
    let root = unsafe { lib_header.init_root_module_with_unchecked_layout::<PluginLibraryRef>() }
        .map_err(|e| library_error(path, e))?;
    Ok(Opened { root, dlopen })
}

/// Runs the library's init (log bridge, host services, panic hook and
/// policy, the plugin's `on_load`), guarded inside the library.
pub(crate) fn init(path: &Path, opened: &Opened, context: HostContext) -> Result<(), LoadError> {
    (opened.root.init())(context).into_result().map_err(|e| {
        LoadError::new(
            path,
            LoadErrorKind::InitFailed {
                reason: e.to_string(),
            },
        )
    })
}

/// Checks the library's root-module layout against the host's, in both
/// directions for a library built against an older `plugboard-interface`.
fn check_root_layout(path: &Path, lib_header: &LibHeader) -> Result<(), LoadError> {
    let incompatible = |summary: String, details: String| {
        LoadError::new(
            path,
            LoadErrorKind::IncompatibleFramework { summary, details },
        )
    };
    let Some(library_layout) = lib_header.layout() else {
        return Err(incompatible(
            "the library exports its root module without layout information".to_owned(),
            String::new(),
        ));
    };
    let host_layout = <PluginLibraryRef as StableAbi>::LAYOUT;
    let host_version = VersionNumber::new(PluginLibraryRef::VERSION_STRINGS).ok();
    let library_version = VersionNumber::new(lib_header.version_strings()).ok();
    let library_is_older = match (host_version, library_version) {
        (Some(h), Some(l)) => (l.major, l.minor, l.patch) < (h.major, h.minor, h.patch),
        _ => false,
    };
    layout::check_layouts(host_layout, library_layout, library_is_older).map_err(|errors| {
        log::debug!(
            "{}: the full root-module layout report:\n{errors}",
            crate::display::path(path)
        );
        incompatible(layout::summarize(&errors), errors.to_string())
    })
}

#[cfg(unix)]
fn open_library(path: &Path) -> Result<Library, libloading::Error> {
    use libloading::os::unix::{Library as UnixLibrary, RTLD_LOCAL, RTLD_NOW};
    // RTLD_NOW: resolve every symbol now, so a library with a missing
    // dependency is refused here instead of crashing at its first call.
    // SAFETY: loading a library runs its initialisation routines; that is
    // the documented contract of `PluginHost::load_dir` (load only trusted
    // files), and the file was vetted (headers, segments) so the loader
    // maps it without reading past its end.
    unsafe { UnixLibrary::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map(Library::from)
}

#[cfg(not(unix))]
fn open_library(path: &Path) -> Result<Library, libloading::Error> {
    // SAFETY: as on Unix: loading runs the library's initialisation
    // routines, which `PluginHost::load_dir` documents.
    unsafe { Library::new(path) }
}

fn abi_header_version(header: &AbiHeader) -> String {
    if header.magic_string != AbiHeader::VALUE.magic_string {
        return "an unknown abi_stable header".to_owned();
    }
    format!("{}.{}", header.abi_major, header.abi_minor)
}

fn library_error(path: &Path, error: LibraryError) -> LoadError {
    let kind = match error {
        LibraryError::AbiInstability(report) => LoadErrorKind::IncompatibleFramework {
            summary: "the root module's layout differs".to_owned(),
            details: report.to_string(),
        },
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => LoadErrorKind::IncompatibleFramework {
            summary: format!(
                "the plugin uses {} {actual_version}, the host {expected_version}",
                PluginLibraryRef::NAME
            ),
            details: String::new(),
        },
        LibraryError::InvalidAbiHeader(found) => LoadErrorKind::AbiStableMismatch {
            expected: abi_header_version(&AbiHeader::VALUE),
            found: abi_header_version(&found),
        },
        other => LoadErrorKind::InitFailed {
            reason: other.to_string(),
        },
    };
    LoadError::new(path, kind)
}

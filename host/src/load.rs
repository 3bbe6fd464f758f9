//! Step 2: open the library and read its root module. This is where
//! plugboard runs a library's code for the first time, and one of the two
//! modules with `unsafe` (the other is `dispense`).

use std::path::Path;

use abi_stable::{
    library::{
        AbiHeader, AbiHeaderRef, LibHeader, LibraryError, RootModule,
        ROOT_MODULE_LOADER_NAME_WITH_NUL,
    },
    sabi_types::VersionNumber,
    StableAbi,
};
use libloading::Library;
use plugboard_interface::PluginLibraryRef;

use crate::{dispense, layout, LoadError};

/// Opens the library at `load_path` (the vetted private copy of `path`) and
/// initialises its plugboard root module, which it returns; the library is
/// leaked for the life of the process. Errors name `path`.
///
/// The file is opened with the platform loader, which runs its constructors.
/// The library is never closed: objects dispensed from it may outlive every
/// handle the host keeps.
pub(crate) fn open(path: &Path, load_path: &Path) -> Result<PluginLibraryRef, LoadError> {
    let library = open_library(load_path).map_err(|e| LoadError::OpenFailed {
        path: path.to_owned(),
        reason: loader_message(&e),
    })?;
    // Never unloaded: dispensed objects point into the library's code and data.
    let library: &'static Library = Box::leak(Box::new(library));

    // SAFETY: the symbol, when present, is the `static LibHeader` that
    // `#[export_root_module]` defines; `AbiHeaderRef` is a transparent
    // reference to its first field (`AbiHeader`, `#[repr(C)]`), so the
    // symbol's address read as an `AbiHeaderRef` is valid for `'static`
    // because the library is leaked above.
    let header: AbiHeaderRef =
        match unsafe { library.get::<AbiHeaderRef>(ROOT_MODULE_LOADER_NAME_WITH_NUL.as_bytes()) } {
            Ok(symbol) => *symbol,
            Err(_) => {
                return Err(LoadError::NotAPlugin {
                    path: path.to_owned(),
                })
            }
        };

    if !header.is_valid() {
        return Err(LoadError::AbiStableMismatch {
            path: path.to_owned(),
            expected: abi_header_version(&AbiHeader::VALUE),
            found: abi_header_version(&header),
        });
    }
    let lib_header: &'static LibHeader = header.upgrade().map_err(|e| library_error(path, e))?;
    check_root_layout(path, lib_header)?;
    // SAFETY: `check_root_layout` verified the library's root-module layout
    // against this host's `PluginLibrary`: either it is compatible as is, or
    // the library is older and its layout is this host's with trailing
    // prefix fields missing, which the `Option`-returning accessors of
    // later fields handle. The constructor it runs catches panics
    // (`abi_stable`'s `export_root_module`).
    unsafe { lib_header.init_root_module_with_unchecked_layout::<PluginLibraryRef>() }
        .map_err(|e| library_error(path, e))
}

/// Checks the library's root-module layout against the host's, in both
/// directions for a library built against an older `plugboard-interface`
/// (see `dispense::check` for why the reverse check is needed and sound).
fn check_root_layout(path: &Path, lib_header: &LibHeader) -> Result<(), LoadError> {
    let incompatible = |summary: String, details: String| LoadError::IncompatibleFramework {
        path: path.to_owned(),
        summary,
        host_version: env!("CARGO_PKG_VERSION"),
        details,
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
    dispense::check_layouts(host_layout, library_layout, library_is_older).map_err(|errors| {
        log::debug!(
            "{}: the full root-module layout report:\n{errors}",
            path.display()
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
    // files), and nothing else about the call can break memory safety.
    unsafe { UnixLibrary::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map(Library::from)
}

#[cfg(not(unix))]
fn open_library(path: &Path) -> Result<Library, libloading::Error> {
    // SAFETY: as on Unix: loading runs the library's initialisation
    // routines, which `PluginHost::load_dir` documents.
    unsafe { Library::new(path) }
}

/// The loader's own message, without libloading's wrapper text.
fn loader_message(error: &libloading::Error) -> String {
    let text = error.to_string();
    // dlerror() repeats the (private copy's) path first: "/p/x.so: file too short".
    match text.split_once(": ") {
        Some((head, rest)) if head.contains('/') || head.contains('\\') => rest.to_owned(),
        _ => text,
    }
}

pub(crate) fn describe_file_type(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_socket() {
            return "socket";
        }
        if ft.is_fifo() {
            return "FIFO";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "device";
        }
    }
    if ft.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

fn abi_header_version(header: &AbiHeader) -> String {
    if header.magic_string != AbiHeader::VALUE.magic_string {
        return "an unknown abi_stable header".to_owned();
    }
    format!("{}.{}", header.abi_major, header.abi_minor)
}

fn library_error(path: &Path, error: LibraryError) -> LoadError {
    match error {
        LibraryError::AbiInstability(report) => LoadError::IncompatibleFramework {
            path: path.to_owned(),
            summary: "the root module's layout differs".to_owned(),
            host_version: env!("CARGO_PKG_VERSION"),
            details: report.to_string(),
        },
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => LoadError::IncompatibleFramework {
            path: path.to_owned(),
            summary: format!(
                "the plugin uses {} {actual_version}, the host {expected_version}",
                PluginLibraryRef::NAME
            ),
            host_version: env!("CARGO_PKG_VERSION"),
            details: String::new(),
        },
        LibraryError::InvalidAbiHeader(found) => LoadError::AbiStableMismatch {
            path: path.to_owned(),
            expected: abi_header_version(&AbiHeader::VALUE),
            found: abi_header_version(&found),
        },
        other => LoadError::InitFailed {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    }
}

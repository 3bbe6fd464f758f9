//! Shared set-up for plugboard's integration tests: builds the real plugin
//! libraries once per test process and copies them into throw-away plugin
//! folders.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use std::sync::atomic::{AtomicUsize, Ordering};

use abi_stable::{sabi_trait::TD_Opaque, std_types::RResult};
use plugboard_demo::{AddHelper, AddHelperBox};
use plugboard_host::{testing::build_cdylibs, PluginHost, PluginHostBuilder, LIBRARY_EXTENSION};
use plugboard_interface::PluginError;

/// Every plugin and fixture library the tests use, by package name.
pub const PACKAGES: &[&str] = &[
    "greeter",
    "greeter-formal",
    "kv",
    "toolbox",
    "fixture-not-a-plugin",
    "fixture-wrong-cookie",
    "fixture-versioned-greeter",
    "fixture-fake-greeter",
    "fixture-panicky",
    "fixture-panic-in-init",
    "fixture-chatty",
    "fixture-marker",
    "fixture-calc",
    "fixture-greeter-next",
    "counter",
    "compat-plugin-1_0",
    "compat-plugin-1_1",
    "compat-plugin-2_0",
    "compat-plugin-1_0-silent",
    "compat-plugin-root-next",
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/suite is two folders below the workspace root")
        .to_owned()
}

/// The built library of `package` (built on first use, once per process).
pub fn library(package: &str) -> PathBuf {
    static BUILT: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        build_cdylibs(workspace_root(), PACKAGES).expect("building the plugin libraries")
    });
    built
        .get(package)
        .unwrap_or_else(|| panic!("{package} is not in PACKAGES"))
        .clone()
}

/// A temporary plugins folder.
pub struct PluginDir {
    dir: tempfile::TempDir,
}

impl PluginDir {
    /// An empty folder.
    pub fn new() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary folder");
        // 0700 whatever the umask: the host refuses group-writable folders.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))
            .expect("chmod the folder");
        Self { dir }
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies the library of `package` in, under its platform file name
    /// (`lib<name>.so` on Linux); returns the copy's path.
    pub fn add(&self, package: &str) -> PathBuf {
        let src = library(package);
        let name = src.file_name().expect("a file name").to_owned();
        let dst = self.path().join(name);
        fs::copy(&src, &dst).expect("copying a plugin library");
        owner_only_writable(&dst);
        dst
    }

    /// Copies the library of `package` in as `file_stem.<ext>`.
    pub fn add_as(&self, package: &str, file_stem: &str) -> PathBuf {
        let dst = self.file(file_stem);
        fs::copy(library(package), &dst).expect("copying a plugin library");
        owner_only_writable(&dst);
        dst
    }

    /// Writes `bytes` to `file_stem.<ext>`.
    pub fn write(&self, file_stem: &str, bytes: &[u8]) -> PathBuf {
        let dst = self.file(file_stem);
        fs::write(&dst, bytes).expect("writing a fixture file");
        owner_only_writable(&dst);
        dst
    }

    /// The path `file_stem.<ext>` in this folder.
    pub fn file(&self, file_stem: &str) -> PathBuf {
        self.path().join(format!("{file_stem}.{LIBRARY_EXTENSION}"))
    }
}

/// 0755: whatever the umask (0002 on many desktops), the copy passes the
/// host's strict-permissions check, which these tests do not mean to test.
fn owner_only_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod a fixture");
}

impl Default for PluginDir {
    fn default() -> Self {
        Self::new()
    }
}

/// A host configured like the demo application: its cookie, protocol 1,
/// and the `add-helper` service (interfaces are checked at dispense time).
pub fn demo_host() -> PluginHost {
    demo_builder().build()
}

/// The builder behind [`demo_host`], to configure further.
pub fn demo_builder() -> PluginHostBuilder {
    PluginHost::builder()
        .handshake(plugboard_demo::HANDSHAKE)
        .protocol_versions([plugboard_demo::PROTOCOL_VERSION])
        .service::<AddHelperBox>(plugboard_demo::ADD_HELPER_SERVICE, || {
            AddHelperBox::from_value(CountingAdder, TD_Opaque)
        })
}

/// How many times any host's [`CountingAdder`] has been called in this
/// process.
pub static ADDER_CALLS: AtomicUsize = AtomicUsize::new(0);

/// An `AddHelper` that counts its calls (in [`ADDER_CALLS`]).
pub struct CountingAdder;

impl AddHelper for CountingAdder {
    fn sum(&self, a: i64, b: i64) -> RResult<i64, PluginError> {
        ADDER_CALLS.fetch_add(1, Ordering::SeqCst);
        a.checked_add(b)
            .ok_or_else(|| PluginError::failed("overflow"))
            .into()
    }
}

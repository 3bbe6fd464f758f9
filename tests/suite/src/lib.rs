//! Shared set-up for plugboard's integration tests: builds the real plugin
//! libraries once per test process, copies them into throw-away plugin
//! folders, and runs child processes (the CLIs, a test in a process of its
//! own) with their output read line by line.

use std::{
    collections::BTreeMap,
    fs,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, OnceLock,
    },
    time::Duration,
};

pub mod attack;
mod measure;
mod output;
mod permissions;
mod processes;
pub mod watching;

pub use measure::{bytes_read, open_descriptors, open_descriptors_of};
pub use output::{json_keys, refusal_kinds, sorted, stderr, stdout};
#[cfg(windows)]
pub use permissions::grant_everyone;
pub use permissions::{private_dir, set_mode};
pub use processes::{process_gone, under_wine, ProcessWatch};

use plugboard_demo::AddHelper;
use plugboard_host::{testing::build_cdylibs, PluginHost, PluginHostBuilder, LIBRARY_EXTENSION};
use plugboard_interface::PluginError;

/// Every plugin and fixture library the tests use, by package name.
pub const PACKAGES: &[&str] = &[
    "greeter",
    "greeter-formal",
    "kv",
    "toolbox",
    "counter",
    "fixture-not-a-plugin",
    "fixture-wrong-cookie",
    "fixture-versioned-greeter",
    "fixture-fake-greeter",
    "fixture-panicky",
    "fixture-panic-in-init",
    "fixture-chatty",
    "fixture-marker",
    "fixture-forged",
    "fixture-calc",
    "fixture-greeter-next",
    "fixture-crashy",
    "fixture-types",
    "compat-plugin-1_0",
    "compat-plugin-1_1",
    "compat-plugin-2_0",
    "compat-plugin-1_0-silent",
    "compat-plugin-root-next",
    "compat-plugin-handwritten-1_0",
    "compat-plugin-handwritten-1_1",
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/suite is two folders below the workspace root")
        .to_owned()
}

/// The built library of `package` (all of [`PACKAGES`] are built on first
/// use, once per process).
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

/// The file name cargo gives the `cdylib` of crate `name` on this platform:
/// `lib<name>.so` on Linux, `lib<name>.dylib` on macOS, `<name>.dll` on
/// Windows (`-` becomes `_`).
pub fn lib_name(name: &str) -> String {
    format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    )
}

/// A temporary plugins folder.
pub struct PluginDir {
    dir: tempfile::TempDir,
}

impl PluginDir {
    /// An empty folder.
    pub fn new() -> Self {
        Self { dir: private_dir() }
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies the library of `package` in, under its platform file name
    /// (`lib<name>.so` on Linux); returns the copy's path.
    pub fn add(&self, package: &str) -> PathBuf {
        let src = library(package);
        let dst = self.path().join(src.file_name().expect("a file name"));
        self.copy_in(&src, &dst)
    }

    /// Copies the library of `package` in as `file_stem.<ext>`.
    pub fn add_as(&self, package: &str, file_stem: &str) -> PathBuf {
        self.copy_in(&library(package), &self.file(file_stem))
    }

    /// Writes `bytes` to `file_stem.<ext>`.
    pub fn write(&self, file_stem: &str, bytes: &[u8]) -> PathBuf {
        let dst = self.file(file_stem);
        fs::write(&dst, bytes).expect("writing a fixture file");
        set_mode(&dst, 0o755);
        dst
    }

    /// Writes `bytes` under a temporary name and renames the file over
    /// `dst`, as an installer should; returns `dst`.
    pub fn install(&self, bytes: &[u8], dst: &Path) -> PathBuf {
        let tmp = self.path().join(".incoming.tmp");
        fs::write(&tmp, bytes).expect("writing the new version");
        set_mode(&tmp, 0o755);
        fs::rename(&tmp, dst).expect("renaming it into place");
        dst.to_owned()
    }

    /// The path `file_stem.<ext>` in this folder.
    pub fn file(&self, file_stem: &str) -> PathBuf {
        self.path().join(format!("{file_stem}.{LIBRARY_EXTENSION}"))
    }

    /// The path `file_stem.<ext>` in this folder, for any file name (one
    /// that is not UTF-8, say).
    pub fn file_named(&self, file_stem: &std::ffi::OsStr) -> PathBuf {
        let mut name = file_stem.to_owned();
        name.push(".");
        name.push(LIBRARY_EXTENSION);
        self.path().join(name)
    }

    /// 0755 whatever the umask (0002 on many desktops): the copy passes the
    /// host's strict-permissions check, which these tests do not mean to test.
    fn copy_in(&self, src: &Path, dst: &Path) -> PathBuf {
        fs::copy(src, dst).expect("copying a plugin library");
        set_mode(dst, 0o755);
        dst.to_owned()
    }
}

impl Default for PluginDir {
    fn default() -> Self {
        Self::new()
    }
}

/// A plugins folder with the demo application's five plugins.
pub fn demo_dir() -> PluginDir {
    let dir = PluginDir::new();
    for package in ["greeter", "greeter-formal", "kv", "toolbox", "counter"] {
        dir.add(package);
    }
    dir
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
        .service::<dyn AddHelper, _>(plugboard_demo::ADD_HELPER_SERVICE, || CountingAdder)
}

/// The host configuration of the isolation tests, and of the program their
/// hosts run isolated plugins in (`plugboard-test-runner`, which must
/// register the same interfaces and services): the demo's, with every demo
/// interface, `Calc`, the crashing fixture's `Crashy` and the type-coverage
/// fixture's `Types` registered.
pub fn isolation_builder() -> PluginHostBuilder {
    use plugboard_demo::{Calc, Counter, Greeter, KeyValue};
    demo_builder()
        .interface::<dyn Greeter>()
        .interface::<dyn KeyValue>()
        .interface::<dyn Counter>()
        .interface::<dyn Calc>()
        .interface::<dyn fixture_crash_interface::Crashy>()
        .interface::<dyn fixture_types_interface::Types>()
}

/// How many times any host's [`CountingAdder`] has been called in this
/// process.
pub static ADDER_CALLS: AtomicUsize = AtomicUsize::new(0);

/// An `AddHelper` that counts its calls (in [`ADDER_CALLS`]).
pub struct CountingAdder;

impl AddHelper for CountingAdder {
    fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError> {
        ADDER_CALLS.fetch_add(1, Ordering::SeqCst);
        a.checked_add(b)
            .ok_or_else(|| PluginError::failed("overflow"))
    }
}

/// The variable the `fixture-marker` library's constructor reads: the file
/// it creates when it runs.
pub const MARKER_VARIABLE: &str = "PLUGBOARD_TEST_MARKER";

/// Where the `fixture-marker` library's constructor leaves its marker, for
/// a test that runs in a process of its own (see [`Marker::in_child`]).
pub struct Marker {
    path: PathBuf,
}

/// Set in a test's child process (see [`rerun_in_child`]).
const CHILD_VARIABLE: &str = "PLUGBOARD_TEST_CHILD";

/// Whether this process is a test's child process (see [`rerun_in_child`]).
pub fn is_child() -> bool {
    std::env::var_os(CHILD_VARIABLE).is_some()
}

/// Runs the test `test` (its full name within the test binary) again in a
/// child process of this test binary, with `envs` set from the start (so no
/// test changes the process-wide environment), and returns its output once
/// it passed (it panics if not). In the child ([`is_child`]), returns
/// `None`: the test then runs its body.
pub fn rerun_in_child(
    test: &str,
    envs: &[(&str, &std::ffi::OsStr)],
) -> Option<std::process::Output> {
    if is_child() {
        return None;
    }
    let out = child_command(test)
        .envs(envs.iter().copied())
        .output()
        .expect("running the test in a child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the test failed in its child process ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

/// The command that runs the test `test` (its full name within the test
/// binary) alone, in a child process of this test binary where
/// [`is_child`] is true; see [`rerun_in_child`].
pub fn child_command(test: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VARIABLE, "1");
    command
}

impl Marker {
    /// Runs the test `test` again in a child process with the marker
    /// variable set (see [`rerun_in_child`]), and returns:
    /// - in the child, `Some(marker)`: run the test's body;
    /// - in the parent, `None`, once the child passed (it panics if not).
    pub fn in_child(test: &str) -> Option<Marker> {
        if is_child() {
            let path = std::env::var_os(MARKER_VARIABLE).expect("the marker variable is set");
            return Some(Marker { path: path.into() });
        }
        let dir = private_dir();
        let marker = dir.path().join("constructor-ran");
        rerun_in_child(test, &[(MARKER_VARIABLE, marker.as_os_str())]);
        None
    }

    /// Whether the library's constructor has run.
    pub fn ran(&self) -> bool {
        self.path.exists()
    }

    /// How many times a `fixture-marker` library's constructor has run in
    /// this process (each run appends one line).
    pub fn runs(&self) -> usize {
        fs::read_to_string(&self.path).map_or(0, |text| text.lines().count())
    }

    /// The marker file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A child process whose standard output is read line by line.
pub struct LineReader {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl LineReader {
    /// Starts `command` with its standard output piped.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the child process");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line starting with `prefix`, waiting at most 30 s in all
    /// (lines before it are kept for the failure message).
    pub fn next_line(&mut self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no `{prefix}` line within 30 s; saw {:#?}", self.seen),
            }
        }
    }

    /// The lines read so far that did not match.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for LineReader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

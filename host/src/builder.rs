//! `PluginHostBuilder`: a host's configuration, fixed once built.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{atomic::AtomicU64, Arc},
    time::Duration,
};

use plugboard_interface::{Exports, HandshakeConfig, PanicPolicy, PluginInterface};

use crate::{
    check::InterfaceSpec,
    isolation::{Isolate, RestartPolicy, Settings},
    services::{ServiceSpec, Shared},
    vet::{self, ChecksumsError, VetPolicy},
    DispenseError, DynamicPlugin, PluginHost,
};

/// Why a builder setting was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The checksum list has a malformed line.
    #[error("the checksum list is malformed: {0}")]
    Checksums(ChecksumsError),
    /// The text is not an ed25519 public key.
    #[error("not a public key: {reason}")]
    TrustKey {
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A registered interface: its checks, and how to dispense it without the
/// type (for [`PluginHost::verify`]).
#[derive(Clone, Copy)]
pub(crate) struct Registered {
    pub(crate) spec: InterfaceSpec,
    pub(crate) probe: fn(&PluginHost, &str) -> Result<(), DispenseError>,
    pub(crate) dynamic: fn(&PluginHost, &str) -> Result<DynamicPlugin, DispenseError>,
}

/// A host's fixed configuration.
pub(crate) struct Config {
    pub(crate) handshake: HandshakeConfig,
    pub(crate) protocols: Vec<u32>,
    pub(crate) plugins_dir: Option<PathBuf>,
    pub(crate) interfaces: Vec<Registered>,
    pub(crate) specs: Vec<InterfaceSpec>,
    pub(crate) panic_policy: PanicPolicy,
    pub(crate) vet: VetPolicy,
    pub(crate) limits: crate::mapped::Limits,
    pub(crate) debounce: Duration,
    pub(crate) shared: Arc<Shared>,
    pub(crate) isolation: Settings,
}

/// Configures a [`PluginHost`].
#[derive(Clone)]
pub struct PluginHostBuilder {
    handshake: HandshakeConfig,
    protocols: Vec<u32>,
    plugins_dir: Option<PathBuf>,
    interfaces: Vec<Registered>,
    host_name: String,
    host_version: String,
    services: BTreeMap<String, ServiceSpec>,
    panic_policy: PanicPolicy,
    vet_policy: VetPolicy,
    max_generations: usize,
    max_libraries: usize,
    debounce: Duration,
    isolation: Settings,
}

impl Default for PluginHostBuilder {
    fn default() -> Self {
        Self {
            handshake: HandshakeConfig {
                cookie_key: "",
                cookie_value: "",
            },
            protocols: vec![1],
            plugins_dir: None,
            interfaces: Vec::new(),
            host_name: "plugboard".to_owned(),
            host_version: plugboard_interface::VERSION.to_owned(),
            services: BTreeMap::new(),
            panic_policy: PanicPolicy::default(),
            vet_policy: VetPolicy::default(),
            max_generations: 8,
            max_libraries: 256,
            debounce: Duration::from_millis(250),
            isolation: Settings::default(),
        }
    }
}

impl PluginHostBuilder {
    /// The magic cookie plugins must carry: use the same
    /// [`HandshakeConfig`] constant as your plugins. Default: an empty
    /// cookie, which only plugins with an empty cookie match.
    pub fn handshake(mut self, handshake: HandshakeConfig) -> Self {
        self.handshake = handshake;
        self
    }

    /// The application protocol versions this host speaks (default: `[1]`).
    /// A library is loaded with the highest version both sides list.
    pub fn protocol_versions(mut self, versions: impl IntoIterator<Item = u32>) -> Self {
        let mut v: Vec<u32> = versions.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        self.protocols = v;
        self
    }

    /// Registers an interface this host uses, e.g.
    /// `.interface::<dyn Transformer>()`. Plugins that implement an
    /// interface with the same name are checked when they load (version,
    /// layout, methods, as [`PluginHost::dispense`] does) and refused if
    /// they cannot be used as `I`; the optional methods they lack are in the
    /// [`LoadReport`](crate::LoadReport). Interfaces not registered are still
    /// checked, at the first dispense.
    pub fn interface<I: ?Sized + PluginInterface>(mut self) -> Self {
        self.interfaces.retain(|r| r.spec.name != I::NAME);
        self.interfaces.push(Registered {
            spec: InterfaceSpec::of::<I>(),
            probe: |host, name| host.dispense::<I>(name).map(drop),
            dynamic: crate::dynamic::dispense::<I>,
        });
        self
    }

    /// The host's name and version, as plugins see them through
    /// `plugboard_interface::host()` (default: `plugboard` and the version
    /// of the plugboard-interface crate the host is built with, the ABI
    /// plugins share with it).
    pub fn host_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.host_name = name.into();
        self.host_version = version.into();
        self
    }

    /// Offers plugins a service of interface `S` under `name`: a plugin gets
    /// a new object made from `make`'s value with
    /// `plugboard_interface::service::<S>(name)` (for example
    /// `.service::<dyn AddHelper, _>("add-helper", || HostAdder)`), after the
    /// same interface, version, layout and method checks as dispensing, with
    /// the plugin as the expecting side. This is how a plugin calls back into
    /// the host, as in go-plugin's bidirectional example.
    pub fn service<S, T>(
        mut self,
        name: impl Into<String>,
        make: impl Fn() -> T + Send + Sync + 'static,
    ) -> Self
    where
        S: ?Sized + Exports<T>,
    {
        self.services
            .insert(name.into(), ServiceSpec::new::<S, T>(make));
        self
    }

    /// What plugins do after one of their calls panicked (default:
    /// [`PanicPolicy::KeepServing`]). The panic itself is always caught
    /// inside the plugin; with [`PanicPolicy::RefuseAfterPanic`] the library
    /// then answers every call and every dispense with a `Poisoned` error.
    pub fn panic_policy(mut self, policy: PanicPolicy) -> Self {
        self.panic_policy = policy;
        self
    }

    /// Whether to refuse files and folders that group or others can write,
    /// or that belong to another user than you or root (OpenSSH's
    /// StrictModes). Default: on (on Unix and Windows).
    ///
    /// # Platform-specific behaviour
    ///
    /// On Windows the check reads access control lists instead of modes: a
    /// file or folder that Everyone, Authenticated Users or BUILTIN\Users
    /// may write is refused
    /// ([`LoadErrorKind::InsecureAcl`](crate::LoadErrorKind::InsecureAcl));
    /// its owner is not checked. See docs/platforms.md.
    pub fn strict_permissions(mut self, strict: bool) -> Self {
        self.vet_policy.strict_permissions = strict;
        self
    }

    /// The largest plugin file the host reads (default: 256 MiB).
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.vet_policy.max_size = bytes;
        self
    }

    /// Loads only files whose SHA-256 the allowlist gives for their file
    /// name, like go-plugin's `SecureConfig`. `sums` is the text of a
    /// `sha256sum`-style file (`<hex>  <file name>` per line). Checked on the
    /// exact bytes that are then loaded.
    ///
    /// # Errors
    ///
    /// [`BuildError::Checksums`]: a line that is not `<64 hex digits> <name>`.
    pub fn checksums(mut self, sums: &str) -> Result<Self, BuildError> {
        let parsed = vet::read_checksums(sums).map_err(BuildError::Checksums)?;
        self.vet_policy
            .checksums
            .get_or_insert_with(BTreeMap::new)
            .extend(parsed);
        Ok(self)
    }

    /// Trusts an ed25519 public key (32 bytes in hex, as
    /// `plugboard_host::signing` writes them). Once any key is trusted,
    /// every library must have a detached signature `<file>.sig` by one of
    /// them.
    ///
    /// # Errors
    ///
    /// [`BuildError::TrustKey`]: not 64 hex digits of a valid ed25519 public
    /// key.
    pub fn trust_key(mut self, public_key_hex: &str) -> Result<Self, BuildError> {
        let bytes: [u8; 32] = vet::unhex(public_key_hex.trim())
            .and_then(|v| v.try_into().ok())
            .ok_or(BuildError::TrustKey {
                reason: "a public key is 64 hex digits",
            })?;
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| BuildError::TrustKey {
                reason: "the bytes are not a valid ed25519 public key",
            })?;
        self.vet_policy.trusted_keys.push(key);
        Ok(self)
    }

    /// At most this many libraries loaded from one file stay mapped in the
    /// host's process (default 8): its generations, counting those of a
    /// file removed and added again, and those refused after `dlopen` (whose
    /// init failed, say). An isolated plugin's library is mapped in its
    /// runner process, not counted here. A further version is refused
    /// ([`LoadErrorKind::TooManyGenerations`](crate::LoadErrorKind::TooManyGenerations))
    /// before it is vetted, and the previous one keeps serving. Libraries
    /// are never unloaded: only a restart gives their memory back.
    pub fn max_generations(mut self, generations: usize) -> Self {
        self.max_generations = generations.max(1);
        self
    }

    /// At most this many libraries stay mapped in total, from all files,
    /// counted as [`max_generations`](Self::max_generations) counts them
    /// (default 256). A further file is refused
    /// ([`LoadErrorKind::TooManyLibraries`](crate::LoadErrorKind::TooManyLibraries))
    /// before it is vetted. It bounds what a folder others can fill, or a
    /// file rewritten again and again, can cost the host.
    pub fn max_libraries(mut self, libraries: usize) -> Self {
        self.max_libraries = libraries.max(1);
        self
    }

    /// How long a file must be left alone before a watched folder acts on
    /// it (default 250 ms), so a file being copied in is not loaded
    /// half-written.
    pub fn debounce(mut self, quiet: Duration) -> Self {
        self.debounce = quiet;
        self
    }

    /// The folder [`PluginHost::load`], [`PluginHost::reload`] and
    /// [`PluginHost::watch`] read.
    pub fn plugins_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugins_dir = Some(dir.into());
        self
    }

    /// The folder set with [`plugins_dir`](Self::plugins_dir), if any.
    pub fn configured_plugins_dir(&self) -> Option<&std::path::Path> {
        self.plugins_dir.as_deref()
    }

    /// The host name set with [`host_info`](Self::host_info) (or the
    /// default).
    pub fn configured_host_name(&self) -> &str {
        &self.host_name
    }

    /// Runs plugins in processes of their own: every plugin
    /// ([`Isolate::All`], or `"all"`), the file providing a plugin name
    /// (`Isolate::Plugin`, or the name as text), or a file
    /// (`Isolate::File`, or a path). Call it once per rule. An isolated
    /// plugin's crash, abort, `exit` or hang is an error value instead of
    /// the end of the host; each call costs a round trip between processes.
    /// See [`isolation`](crate::isolation) for what it protects against,
    /// what it costs, and how the runner is started.
    pub fn isolate(mut self, which: impl Into<Isolate>) -> Self {
        self.isolation.rules.push(which.into());
        self
    }

    /// How long a call to an isolated plugin (and its load) may take before
    /// its process is stopped and the call returns a `TimedOut` error
    /// (default: 30 s). `None`: no limit.
    pub fn call_timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.isolation.call_timeout = limit.into();
        self
    }

    /// What happens after an isolated plugin's process crashed or was
    /// stopped (default: [`RestartPolicy::Never`]).
    pub fn restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.isolation.restart = policy;
        self
    }

    /// The most memory an isolated plugin's process may use, in bytes
    /// (default: no limit): its address space on Unix (`RLIMIT_AS`), its
    /// committed memory on Windows (the job object's process memory
    /// limit). A plugin that allocates past it is stopped and its calls
    /// report `Crashed`.
    pub fn isolated_memory_limit(mut self, bytes: u64) -> Self {
        self.isolation.memory_limit = Some(bytes);
        self
    }

    /// The program that runs isolated plugins (default: this program,
    /// started again). It must build a host with the same interfaces and
    /// services: see [`isolation`](crate::isolation).
    pub fn isolation_runner(mut self, program: impl Into<PathBuf>) -> Self {
        self.isolation.runner = Some(program.into());
        self
    }

    /// Builds the host; nothing is loaded yet.
    ///
    /// In a process a host started as the runner of an isolated plugin
    /// ([`isolation::is_runner`](crate::isolation::is_runner)), it does not
    /// return: it serves that plugin, with this configuration, and exits.
    pub fn build(self) -> PluginHost {
        if self.handshake.cookie_key.is_empty() {
            log::warn!(
                "this plugin host has no handshake (PluginHostBuilder::handshake): it refuses every plugin built with one"
            );
        }
        let specs = self.interfaces.iter().map(|r| r.spec).collect();
        let config = Config {
            handshake: self.handshake,
            protocols: self.protocols,
            plugins_dir: self.plugins_dir,
            interfaces: self.interfaces,
            specs,
            panic_policy: self.panic_policy,
            vet: self.vet_policy,
            limits: crate::mapped::Limits {
                per_path: self.max_generations,
                total: self.max_libraries,
            },
            debounce: self.debounce,
            shared: Arc::new(Shared {
                host_name: self.host_name,
                host_version: self.host_version,
                services: self.services,
                forwarded: AtomicU64::new(0),
            }),
            isolation: self.isolation,
        };
        if crate::isolation::is_runner() {
            crate::isolation::child::serve(config);
        }
        PluginHost::from_config(config)
    }
}

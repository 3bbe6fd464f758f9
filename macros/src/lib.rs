//! The procedural macros of plugboard: [`#[interface]`](macro@interface) and
//! [`export_plugins!`](export_plugins).
//!
//! Use them through `plugboard-interface` (`plugboard_interface::interface`,
//! `plugboard_interface::export_plugins!`), which re-exports both with the
//! documentation below and holds the types the generated code names. The two
//! crates are released together, at one version.
//!
//! ```
//! use plugboard_interface::{export_plugins, interface, HandshakeConfig, PluginError};
//!
//! pub const HANDSHAKE: HandshakeConfig =
//!     HandshakeConfig { cookie_key: "MYAPP_PLUGIN", cookie_value: "b9c1-myapp" };
//!
//! #[interface(version = "1.0.0")]
//! pub trait Greeter: Send + Sync {
//!     fn greet(&self, name: &str) -> Result<String, PluginError>;
//! }
//!
//! struct Hello;
//! impl Greeter for Hello {
//!     fn greet(&self, name: &str) -> Result<String, PluginError> {
//!         Ok(format!("Hello, {name}!"))
//!     }
//! }
//!
//! export_plugins! {
//!     handshake: HANDSHAKE,
//!     plugins: { "greeter": Greeter => Hello },
//! }
//! # fn main() {}
//! ```

use proc_macro::TokenStream;

mod export;
mod interface;
mod types;

/// Declares a plugin interface: a plain Rust trait that plugins implement and
/// hosts call, with everything the plugin boundary needs generated.
///
/// Plugins are `cdylib`s built separately from the host, possibly with
/// another compiler version, so nothing Rust-specific may cross between
/// them. `#[interface]` keeps the trait as you wrote it and generates, beside
/// it, a C-compatible vtable per implementing type, the conversions of every
/// argument and result at the boundary, a panic guard around every method,
/// the host's side of the trait (what `Plugin<dyn Trait>` dereferences to),
/// the data a host checks at load (name, version, every method's name and
/// `abi_stable` layout) and a method table for calls by name (the command
/// line's `call`). Nothing generated is written or kept in sync by hand.
///
/// # Examples
///
/// Three crates: the interface crate, which the application and its plugins
/// share; a plugin, a `cdylib` (`crate-type = ["cdylib"]` in its
/// `Cargo.toml`); and the application, the host.
///
/// ```no_run
/// # mod textops {
/// // The interface crate, `textops`.
/// use plugboard_interface::{interface, HandshakeConfig, PluginError};
///
/// pub const HANDSHAKE: HandshakeConfig =
///     HandshakeConfig { cookie_key: "TEXTOPS_PLUGIN", cookie_value: "2b7e-textops" };
///
/// /// Transforms text.
/// #[interface(version = "1.1.0")]
/// pub trait Transformer: Send + Sync {
///     fn name(&self) -> String;
///     fn transform(&self, input: &str) -> Result<String, PluginError>;
///     /// Plugins built against 1.0 lack it.
///     #[since("1.1.0")]
///     fn describe(&self) -> Result<String, PluginError>;
/// }
/// # }
///
/// // A plugin crate: plain Rust, no `guard`, no R-types.
/// use plugboard_interface::{export_plugins, PluginError};
/// use textops::{Transformer, HANDSHAKE};
///
/// struct Upper;
/// impl Transformer for Upper {
///     fn name(&self) -> String { "upper".into() }
///     fn transform(&self, input: &str) -> Result<String, PluginError> { Ok(input.to_uppercase()) }
///     fn describe(&self) -> Result<String, PluginError> { Ok("upper-cases text".into()) }
/// }
///
/// export_plugins! {
///     handshake: HANDSHAKE,
///     plugins: { "upper": Transformer => Upper },
/// }
///
/// // The application.
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     use plugboard_host::{Plugin, PluginHost};
///     use plugboard_interface::PluginErrorKind;
///     use textops::{Transformer, HANDSHAKE};
///
///     let host = PluginHost::builder().handshake(HANDSHAKE).interface::<dyn Transformer>().build();
///     let report = host.load_dir("plugins");
///     for refused in report.refused() {
///         eprintln!("{refused}");
///     }
///     let upper: Plugin<dyn Transformer> = host.dispense("upper")?;
///     assert_eq!(upper.transform("hi")?, "HI"); // a call through the vtable
///     assert_eq!(upper.name(), "upper"); // the interface's `name`, not `Plugin::name`
///     match upper.describe() {
///         Ok(text) => println!("{text}"),
///         // A plugin built against Transformer 1.0 has no `describe`.
///         Err(e) if e.kind() == PluginErrorKind::MethodMissing => println!("{e}"),
///         Err(e) => return Err(e.into()),
///     }
///     Ok(())
/// }
/// ```
///
/// # Arguments
///
/// * `version = "1.1.0"` (required): the interface's semantic version. The
///   methods without `#[since]` are its first release (`1.0.0`; for a `0.y`
///   version, `0.y.0`).
/// * `name = "..."` (optional): the interface's name as plugins and hosts
///   compare it; the trait's name by default. Renaming is a breaking change.
///
/// # Supported types
///
/// Arguments and results are written as plain Rust; each crosses the
/// boundary in a C-compatible form and is converted back on the other side.
///
/// | type | parameter | result | crosses as |
/// |---|---|---|---|
/// | `u8` ... `u64`, `usize`, `i8` ... `i64`, `isize`, `f32`, `f64`, `bool`, `()` | yes | yes | itself |
/// | `char` | yes | yes | `u32` (a value that is no `char` becomes U+FFFD) |
/// | `String` | yes | yes | `RString` |
/// | `Vec<T>` | yes | yes | `RVec<T>` |
/// | `Option<T>` | yes | yes | `ROption<T>` |
/// | `Result<T, PluginError>` | yes | yes | `RResult<T, PluginError>` |
/// | tuples of 1 to 4 of these | yes | yes | `Tuple1` ... `Tuple4` |
/// | `&str` | yes | borrowed from `self` | pointer and length, no copy |
/// | `&[T]` | yes (copied into an `RVec` if `T` is converted) | borrowed from `self`, `T` crossing as itself | pointer and length, no copy |
/// | abi_stable's R-types (`RString`, `RVec<T>`, `ROption<T>`, `RHashMap<K, V>`, ...) | yes | yes | themselves |
/// | `RStr<'_>`, `RSlice<'_, T>` | yes | borrowed from `self` | like `&str` and `&[T]` |
/// | your `#[derive(StableAbi)]` types (`#[repr(C)]` structs, `#[repr(u8)]` enums, ...) | yes | yes | themselves |
///
/// `T` is any type of the table, nested as deep as you like
/// (`Vec<Option<(String, Point)>>`, `Result<Result<u8, PluginError>,
/// PluginError>`); borrows only at the top of a parameter or result, with
/// elided lifetimes. Anything else — `u128`, `HashMap`, `Box`, `&mut T`,
/// tuples of 5, a borrow inside a container, a type without a stable layout —
/// is a compile error at your code that names the type and lists what is
/// supported. A type the interface crate defines itself needs
/// `#[derive(StableAbi)]` (from `abi_stable`, a dependency of the interface
/// crate); its layout is checked at load like the rest.
///
/// Calls by name (`call` on the command line, `DynamicPlugin` in a host)
/// read arguments and write results with serde: a method whose types all
/// implement `Serialize` and `Deserialize` is callable that way (a borrowed
/// result is copied first); the others are marked not callable in the
/// method table and refused with a reason.
///
/// # Methods
///
/// * take `&self` or `&mut self` (a host calls a `&mut self` method through
///   `&mut Plugin<dyn Trait>`), and at most 8 parameters;
/// * are not generic, `async`, `const`, `unsafe` or `extern`; the trait holds
///   only methods, and its supertraits can only be `Send` and `Sync` (which
///   every plugin type must then be: the host may share or move the object
///   across threads);
/// * may have a default body: it is the plugin's, run in the plugin when the
///   plugin does not override it;
/// * may return `Result<T, PluginError>`: the plugin's errors, its panics and
///   a missing `#[since]` method then come back as `Err` (`T` may itself be
///   any supported type, a `Result` too). `PluginError` must be written as
///   such: another error type, or an alias of `Result`, is a compile error.
///
/// # Panics
///
/// Every method runs under a panic guard inside the plugin; a plugin author
/// never writes one. A panic in a method returning `Result<_, PluginError>`
/// comes back as `Err` of kind `Panicked` with the panic's message. A panic
/// in any other method crosses the boundary as a value and is resumed in
/// the host's caller as a panic whose message names the plugin, the method
/// and the original message (`catch_unwind` catches it). Neither aborts the
/// host. The plugin's panic message and location go to the host's logger
/// (target `plugin::<library>::panic`), not to standard error. After a
/// panic, the host's `PanicPolicy` decides whether the library keeps
/// answering or refuses further calls (`Poisoned`). A segfault or an abort
/// in plugin code still ends the host.
///
/// # Evolution
///
/// A host and its plugins are built and upgraded at different times. The
/// rules, all enforced:
///
/// * **The first release is a prefix.** The methods without `#[since]` are
///   the interface's first release of its major version; they come first, and
///   every plugin of that major version has them.
/// * **Methods added later are marked `#[since("1.x.0")]`**, come after the
///   first release's methods in nondecreasing version order, and return
///   `Result<_, PluginError>`, so that a plugin built before they existed can
///   answer "missing". A since-version must be a semantic version of the same
///   major version (same minor for `0.y`), after its first release and not
///   after the interface's `version`. Each of these mistakes is a compile
///   error, as are a method without `#[since]` after one with it and a
///   `version` that is not semver.
/// * **The name, the version and the optional methods are derived** from the
///   attribute and the `#[since]` marks; they are never written by hand.
///
/// What happens when the versions differ (checked when the library loads if
/// the host registered the interface, else at the first dispense):
///
/// | plugin built against | host built against | outcome |
/// |---|---|---|
/// | 1.0 | 1.1 | loads; `describe` returns `Err` of kind `MethodMissing`, whose message names the plugin, its version, the method and the version that added it; `Plugin::provides(&p, "describe")` is false; the command line's `check` lists the missing methods |
/// | 1.1 | 1.0 | loads; the host does not know `describe` and never calls it |
/// | 1.1 | 1.1 | loads; every method is there |
/// | 2.x | 1.x | refused (`IncompatibleVersion`), before any of its code runs if the host registered the interface |
/// | 1.x, a method removed, renamed, reordered or its signature changed without a major bump | 1.y | refused at load (`LayoutMismatch`, naming the method) |
/// | 1.0 that lacks a method without `#[since]` (added to the first release later) | 1.1 | refused at load (`LayoutMismatch`) |
///
/// So: add a method at the end with `#[since("<new version>")]` and bump the
/// minor version; remove, rename, reorder or change a method only with a new
/// major version.
///
/// Interfaces written by hand with `abi_stable`'s `#[sabi_trait]` (and
/// `plugboard_interface::Interface`) keep loading; see the repository's
/// `docs/versioning.md` for their rules.
#[proc_macro_attribute]
pub fn interface(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(args as interface::Args);
    let item = syn::parse_macro_input!(item as syn::ItemTrait);
    interface::expand(args, item.clone())
        .unwrap_or_else(|error| {
            // The trait itself still compiles, so the mistake is the only
            // error the user sees.
            let mut tokens = error.into_compile_error();
            quote::ToTokens::to_tokens(&interface::without_since(item), &mut tokens);
            tokens
        })
        .into()
}

/// Exports a plugin library: its handshake, its metadata and its plugins.
///
/// Call it once, at the top level of a `cdylib` crate. It writes the
/// library's metadata to a link section (read by hosts and by `plugboard
/// inspect` without running the library) and exports the root module a host
/// loads: the handshake, one set of plugins per protocol version, and the
/// library's init and shutdown.
///
/// # Examples
///
/// ```
/// use plugboard_interface::{export_plugins, interface, HandshakeConfig, PluginError};
///
/// // Usually in the interface crate the plugin shares with its host:
/// pub const HANDSHAKE: HandshakeConfig =
///     HandshakeConfig { cookie_key: "MYAPP_PLUGIN", cookie_value: "b9c1-myapp" };
/// #[interface(version = "1.0.0")]
/// pub trait Greeter: Send + Sync {
///     fn greet(&self, name: &str) -> Result<String, PluginError>;
/// }
///
/// // The plugin:
/// struct Hello { punctuation: char }
/// impl Greeter for Hello {
///     fn greet(&self, name: &str) -> Result<String, PluginError> {
///         log::info!("greeting {name}"); // reaches the host's logger
///         Ok(format!("Hello, {name}{}", self.punctuation))
///     }
/// }
///
/// fn loaded() -> Result<(), PluginError> {
///     log::debug!("ready");
///     Ok(())
/// }
///
/// export_plugins! {
///     handshake: HANDSHAKE,
///     plugins: {
///         "greeter": Greeter => Hello { punctuation: '!' },
///         "calm-greeter": Greeter => Hello { punctuation: '.' },
///     },
///     on_load: loaded,
/// }
/// # fn main() {}
/// ```
///
/// # Fields
///
/// * `handshake:` (required) the `HandshakeConfig` the interface crate
///   shares with the host: a host refuses a library whose cookie differs,
///   before running any of its code.
/// * `plugins: { "name": Trait => value, ... }`: each plugin's name, the
///   `#[interface]` trait it implements, and an expression making its value,
///   evaluated (inside the plugin, under a panic guard) each time a host
///   dispenses the plugin. For a hand-written `#[sabi_trait]` interface,
///   `"name" => GreeterBox::from_value(Hello, TD_Opaque)`. The plugins are
///   offered under protocol version 1.
/// * `protocols: { 1 => { ... }, 2 => { ... } }`, instead of `plugins:` —
///   one set of plugins per application protocol version; a host uses the
///   highest version both sides list.
/// * `name:`, `version:`, `description:` (optional) the library's name,
///   version and description; by default the crate's own
///   (`CARGO_PKG_NAME`, `CARGO_PKG_VERSION`, `CARGO_PKG_DESCRIPTION`).
/// * `on_load:`, `on_unload:` (optional) functions
///   `fn() -> Result<(), PluginError>` run when a host initialises the
///   library (after its services and log bridge are in place) and when it
///   closes it. An error from `on_load` refuses the library.
#[proc_macro]
pub fn export_plugins(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as export::Input);
    export::expand(input).into()
}

//! The command-line grammar, with `clap`: the commands an application's
//! command line has ([`AppCli`]) and those of the generic `plugboard`
//! binary ([`GenericCli`]).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document (for `watch`, one JSON object per line).
    Json,
}

/// An application's command line.
#[derive(Parser)]
#[command(
    version,
    about = "Plugin tooling for this application: list, check and call its plugins."
)]
pub(crate) struct AppCli {
    /// Show the full reports behind refusals (e.g. abi_stable's layout dump).
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    #[command(subcommand)]
    pub(crate) command: AppCommand,
}

/// The generic `plugboard` binary's command line.
#[derive(Parser)]
#[command(
    name = "plugboard",
    version,
    about = "Tools for plugboard plugin files that need no application: inspect, vet, keygen, sign, verify."
)]
pub(crate) struct GenericCli {
    /// Show the full reports behind refusals.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    #[command(subcommand)]
    pub(crate) command: GenericCommand,
}

#[derive(Subcommand)]
pub(crate) enum AppCommand {
    /// One line per plugin file: loaded, with its plugins, or refused, with
    /// the reason.
    #[command(after_help = "Example:\n  APP list --plugins plugins.d\n  APP list --format json")]
    List(ReportArgs),
    /// The compatibility report for this application's interfaces: every
    /// file loads, every plugin implements an interface the application
    /// uses and can be dispensed; missing optional methods are shown. Exit
    /// code 0 only when everything passes (for CI).
    #[command(after_help = "Example:\n  APP check --plugins plugins.d --format json")]
    Check(ReportArgs),
    /// What a plugin file declares, read without running any of its code,
    /// and whether this application would load it.
    #[command(after_help = "Example:\n  APP inspect plugins.d/libgreeter.so")]
    Inspect(InspectArgs),
    /// Calls plugin methods: each argument is a JSON value, each result is
    /// printed as JSON. Several methods may follow each other; they are
    /// called on the same object.
    #[command(
        after_help = "Examples:\n  APP call greeter greet '\"Logan\"'\n  APP call kv put '\"lang\"' '\"rust\"' get '\"lang\"' list\n  APP call --format text greeter greet '\"Logan\"'"
    )]
    Call(CallArgs),
    /// Loads the folder, then follows it live: one line per file added,
    /// updated (a new generation beside the old), refused or removed. Stop
    /// with Ctrl-C.
    #[command(after_help = "Example:\n  APP watch --plugins plugins.d")]
    Watch(ReportArgs),
    /// Vets every file of a folder without loading anything.
    #[command(after_help = "Example:\n  APP vet plugins.d --trusted-key keys/plugboard.pub")]
    Vet(VetArgs),
    /// Makes an ed25519 key pair for signing plugins.
    #[command(after_help = "Example:\n  APP keygen --out keys")]
    Keygen(KeygenArgs),
    /// Signs plugin files (writes FILE.sig next to each FILE).
    #[command(after_help = "Example:\n  APP sign --key keys/plugboard.key plugins.d/*.so")]
    Sign(SignArgs),
    /// Checks plugin files' signatures against a public key.
    #[command(after_help = "Example:\n  APP verify --key keys/plugboard.pub plugins.d/*.so")]
    Verify(VerifyArgs),
}

#[derive(Subcommand)]
pub(crate) enum GenericCommand {
    /// What a plugin file declares (metadata, plugins, interfaces and
    /// versions, handshake, target, SHA-256), read without running any of
    /// its code.
    #[command(after_help = "Example:\n  plugboard inspect plugins.d/libgreeter.so --format json")]
    Inspect(InspectArgs),
    /// Vets every file of a folder without loading anything: file type and
    /// size, permissions (StrictModes), object checks, metadata, and, if
    /// asked, checksums and signatures.
    #[command(after_help = "Example:\n  plugboard vet plugins.d --trusted-key keys/plugboard.pub")]
    Vet(VetArgs),
    /// Makes an ed25519 key pair for signing plugins: plugboard.key (secret,
    /// keep it safe) and plugboard.pub (give it to hosts).
    #[command(after_help = "Example:\n  plugboard keygen --out keys")]
    Keygen(KeygenArgs),
    /// Signs plugin files: writes FILE.sig next to each FILE.
    #[command(after_help = "Example:\n  plugboard sign --key keys/plugboard.key plugins.d/*.so")]
    Sign(SignArgs),
    /// Checks plugin files' signatures against a public key.
    #[command(after_help = "Example:\n  plugboard verify --key keys/plugboard.pub plugins.d/*.so")]
    Verify(VerifyArgs),
}

/// A plugins folder and how to vet its files.
#[derive(Args)]
pub(crate) struct FolderArgs {
    /// The plugins folder [default: $PLUGBOARD_PLUGINS, else the
    /// application's own, else plugins.d].
    #[arg(long, env = "PLUGBOARD_PLUGINS", value_name = "DIR")]
    pub(crate) plugins: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) security: SecurityArgs,
    #[command(flatten)]
    pub(crate) isolation: IsolationArgs,
}

/// Which plugins run in processes of their own.
#[derive(Args, Default, Clone)]
pub(crate) struct IsolationArgs {
    /// Run this plugin (with the rest of its file) in a process of its own,
    /// so that a crash or a hang is an error instead of the end of this
    /// program; `all` for every plugin. Repeat for several.
    #[arg(long, value_name = "NAME|all")]
    pub(crate) isolate: Vec<String>,
    /// Stop an isolated plugin whose call takes longer than this many
    /// seconds [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub(crate) call_timeout: Option<f64>,
}

/// A plugins folder, and the output format (text by default).
#[derive(Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) folder: FolderArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,
}

/// How strictly files are vetted before they are loaded.
#[derive(Args, Default, Clone)]
pub(crate) struct SecurityArgs {
    /// Require every library to be signed by this public key (a file written
    /// by `keygen`); repeat for several keys.
    #[arg(long = "trusted-key", value_name = "FILE")]
    pub(crate) trusted_keys: Vec<PathBuf>,
    /// Load only files listed with their SHA-256 in this `sha256sum`-style
    /// file (`<hex>  <file name>` per line).
    #[arg(long, value_name = "FILE")]
    pub(crate) checksums: Option<PathBuf>,
    /// Accept files and folders that group or others can write.
    #[arg(long)]
    pub(crate) no_strict_permissions: bool,
}

#[derive(Args)]
pub(crate) struct InspectArgs {
    /// The library file.
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) security: SecurityArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,
}

#[derive(Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    pub(crate) folder: FolderArgs,
    /// Output format: each result as JSON (the default), or strings as
    /// plain text.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub(crate) format: Format,
    /// The plugin's name (see `list`).
    pub(crate) plugin: String,
    /// A method, then one JSON value per argument; more methods may follow.
    #[arg(required = true, num_args = 1.., value_name = "METHOD [ARGS]", allow_hyphen_values = true)]
    pub(crate) call: Vec<String>,
}

#[derive(Args)]
pub(crate) struct VetArgs {
    /// The folder.
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,
    #[command(flatten)]
    pub(crate) security: SecurityArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,
}

#[derive(Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the two files.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub(crate) out: PathBuf,
}

#[derive(Args)]
pub(crate) struct SignArgs {
    /// The secret key file written by `keygen`.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The library files to sign.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The public key file written by `keygen`.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The library files to check.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
}

//! Metadata a plugin library carries in a link section, so that a host can
//! read its handshake and plugin table **without running any of its code**.
//!
//! [`export_plugins!`](crate::export_plugins) writes it at compile time; the
//! host reads the section from the file's bytes with the `object` crate and
//! checks cookie, ABI, protocols and interface versions before `dlopen`.
//!
//! The format is text, one record per line, fields separated by tabs
//! (shown as `→`):
//!
//! ```text
//! PLUGBOARD-METADATA 1
//! abi → 1
//! cookie → <key> → <value>
//! library → <name> → <version>
//! description → <text>
//! target → <arch> → <os> → <env>
//! protocol → <n>
//! plugin → <protocol> → <name> → <interface> → <interface version>
//! end
//! ```
//!
//! Strings may not contain tabs or newlines (checked at compile time).

use std::fmt;

/// The name of the link section holding the metadata, per object format.
pub const SECTION_ELF: &str = ".plugboard";
/// The Mach-O segment and section names (`__DATA,__plugboard`).
pub const SECTION_MACHO: &str = "__plugboard";
/// The PE/COFF section name (at most 8 bytes).
pub const SECTION_PE: &str = ".plugbrd";

/// The first line of the metadata.
pub const MAGIC: &str = "PLUGBOARD-METADATA 1";

/// [`ABI_VERSION`](crate::ABI_VERSION) as text, for the metadata.
pub const ABI_VERSION_STR: &str = "1";

/// The target environment the plugin was compiled for (`gnu`, `musl`,
/// `msvc`, or empty).
pub const TARGET_ENV: &str = if cfg!(target_env = "gnu") {
    "gnu"
} else if cfg!(target_env = "musl") {
    "musl"
} else if cfg!(target_env = "msvc") {
    "msvc"
} else {
    ""
};

/// A metadata field, checked at compile time: no tabs, no newlines.
#[doc(hidden)]
pub const fn field(s: &'static str) -> &'static str {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\t' || bytes[i] == b'\n' || bytes[i] == b'\r' {
            panic!("plugboard metadata: names, versions, descriptions and cookies may not contain tabs or line breaks");
        }
        i += 1;
    }
    s
}

/// The total length of `parts` (implementation detail of the export macro).
#[doc(hidden)]
pub const fn encoded_len(parts: &[&str]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < parts.len() {
        total += parts[i].len();
        i += 1;
    }
    total
}

/// `parts` concatenated into an array (implementation detail of the export
/// macro; `N` must be [`encoded_len`] of `parts`).
#[doc(hidden)]
pub const fn encode<const N: usize>(parts: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    let mut i = 0;
    while i < parts.len() {
        let bytes = parts[i].as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            out[at] = bytes[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// The interface name of the type `make` returns (never calls `make`).
#[doc(hidden)]
pub const fn interface_name<I: crate::Interface>(_make: fn() -> I) -> &'static str {
    field(I::NAME)
}

/// The interface version of the type `make` returns (never calls `make`).
#[doc(hidden)]
pub const fn interface_version<I: crate::Interface>(_make: fn() -> I) -> &'static str {
    field(I::VERSION)
}

/// Where the plugin was compiled for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    /// `std::env::consts::ARCH`, e.g. `x86_64`.
    pub arch: String,
    /// `std::env::consts::OS`, e.g. `linux`.
    pub os: String,
    /// The target environment, e.g. `gnu` (may be empty).
    pub env: String,
}

impl Target {
    /// The target this code is compiled for.
    pub fn current() -> Self {
        Self {
            arch: std::env::consts::ARCH.to_owned(),
            os: std::env::consts::OS.to_owned(),
            env: TARGET_ENV.to_owned(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.arch, self.os)?;
        if !self.env.is_empty() {
            write!(f, "-{}", self.env)?;
        }
        Ok(())
    }
}

/// One plugin as the metadata lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginMetadata {
    /// The protocol version whose set lists it.
    pub protocol: u32,
    /// The plugin's name.
    pub name: String,
    /// The interface it implements.
    pub interface: String,
    /// The interface version it was built against.
    pub interface_version: String,
}

/// Everything a library's metadata section says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    /// The plugboard ABI version.
    pub abi: u32,
    /// The cookie key.
    pub cookie_key: String,
    /// The cookie value.
    pub cookie_value: String,
    /// The library's name.
    pub library: String,
    /// The library's version.
    pub version: String,
    /// The library's description.
    pub description: String,
    /// What it was compiled for.
    pub target: Target,
    /// The protocol versions offered.
    pub protocols: Vec<u32>,
    /// The plugins, for every protocol version.
    pub plugins: Vec<PluginMetadata>,
}

impl Metadata {
    /// The metadata in the section's text format (what
    /// [`export_plugins!`](crate::export_plugins) writes at compile time):
    /// [`parse`] of the result gives back an equal value, provided no string
    /// holds a tab or a line break.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{MAGIC}\nabi\t{}\ncookie\t{}\t{}\nlibrary\t{}\t{}\ndescription\t{}\ntarget\t{}\t{}\t{}\n",
            self.abi,
            self.cookie_key,
            self.cookie_value,
            self.library,
            self.version,
            self.description,
            self.target.arch,
            self.target.os,
            self.target.env
        );
        for p in &self.protocols {
            out.push_str(&format!("protocol\t{p}\n"));
        }
        for p in &self.plugins {
            out.push_str(&format!(
                "plugin\t{}\t{}\t{}\t{}\n",
                p.protocol, p.name, p.interface, p.interface_version
            ));
        }
        out.push_str("end\n");
        out
    }
}

/// Why metadata bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError {
    /// The 1-based line of the problem (0 when not about a line).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.reason)
        } else {
            write!(f, "line {}: {}", self.line, self.reason)
        }
    }
}

impl std::error::Error for MetadataError {}

/// Parses the metadata section's bytes. Bytes after the `end` line (link
/// padding) are ignored. Never panics, whatever the input.
///
/// # Errors
///
/// A [`MetadataError`] naming the line and the problem.
pub fn parse(bytes: &[u8]) -> Result<Metadata, MetadataError> {
    let err = |line: usize, reason: &str| MetadataError {
        line,
        reason: reason.to_owned(),
    };
    // Everything after the end record is link padding.
    const END: &[u8] = b"\nend\n";
    let Some(end) = bytes.windows(END.len()).position(|w| w == END) else {
        return Err(err(0, "the metadata has no end record (truncated?)"));
    };
    let text = std::str::from_utf8(&bytes[..end + END.len() - 1])
        .map_err(|_| err(0, "the metadata is not UTF-8 text"))?;
    let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, MAGIC)) => {}
        _ => return Err(err(1, "missing the PLUGBOARD-METADATA 1 header")),
    }
    let mut meta = Metadata::default();
    let (mut seen_abi, mut seen_cookie, mut seen_library) = (false, false, false);
    for (n, line) in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let number = |s: &str| s.parse::<u32>().map_err(|_| err(n, "expected a number"));
        match fields.as_slice() {
            ["end"] => {
                if !(seen_abi && seen_cookie && seen_library) {
                    return Err(err(n, "abi, cookie and library records are required"));
                }
                return Ok(meta);
            }
            ["abi", v] => {
                meta.abi = number(v)?;
                seen_abi = true;
            }
            ["cookie", key, value] => {
                meta.cookie_key = (*key).to_owned();
                meta.cookie_value = (*value).to_owned();
                seen_cookie = true;
            }
            ["library", name, version] => {
                meta.library = (*name).to_owned();
                meta.version = (*version).to_owned();
                seen_library = true;
            }
            ["description", text] => meta.description = (*text).to_owned(),
            ["target", arch, os, env] => {
                meta.target = Target {
                    arch: (*arch).to_owned(),
                    os: (*os).to_owned(),
                    env: (*env).to_owned(),
                }
            }
            ["protocol", v] => meta.protocols.push(number(v)?),
            ["plugin", protocol, name, interface, version] => meta.plugins.push(PluginMetadata {
                protocol: number(protocol)?,
                name: (*name).to_owned(),
                interface: (*interface).to_owned(),
                interface_version: (*version).to_owned(),
            }),
            _ => return Err(err(n, "unknown or malformed record")),
        }
    }
    Err(err(0, "the metadata has no end record (truncated?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "PLUGBOARD-METADATA 1\nabi\t1\ncookie\tK\tV\nlibrary\tgreeter\t0.1.0\ndescription\tSays hi\ntarget\tx86_64\tlinux\tgnu\nprotocol\t1\nplugin\t1\tgreeter\tGreeter\t1.1.0\nend\n";

    #[test]
    fn parses_a_sample_with_padding() {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        bytes.extend_from_slice(&[0, 0, 0xff]);
        let meta = parse(&bytes).unwrap();
        assert_eq!(meta.abi, 1);
        assert_eq!(
            (meta.cookie_key.as_str(), meta.cookie_value.as_str()),
            ("K", "V")
        );
        assert_eq!(meta.library, "greeter");
        assert_eq!(meta.target.to_string(), "x86_64-linux-gnu");
        assert_eq!(meta.protocols, [1]);
        assert_eq!(meta.plugins[0].interface_version, "1.1.0");
    }

    #[test]
    fn refuses_truncation_and_garbage() {
        assert!(parse(&SAMPLE.as_bytes()[..40]).is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"PLUGBOARD-METADATA 1\nabi\tx\nend\n").is_err());
        assert_eq!(parse(b"PLUGBOARD-METADATA 1\nend\n").unwrap_err().line, 2);
    }

    #[test]
    fn encodes_at_compile_time() {
        const PARTS: &[&str] = &["ab", "", "c"];
        const OUT: [u8; encoded_len(PARTS)] = encode(PARTS);
        assert_eq!(&OUT, b"abc");
    }
}

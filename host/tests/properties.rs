//! Property tests over the pre-load parsers (run in CI on stable Rust, in
//! bounded time): whatever the bytes, inspecting them returns a value or a
//! typed refusal — never a panic — and metadata survives a round trip.

use plugboard_host::testing::inspect_bytes;
use plugboard_interface::metadata::{self, Metadata, PluginMetadata, Target};
use proptest::prelude::*;

fn plugin_bytes() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| std::fs::read(plugboard_tests::library("greeter")).unwrap())
}

/// Text without tabs or line breaks (what the format allows in a field).
fn field() -> impl Strategy<Value = String> {
    "[^\t\n\r]{0,24}"
}

fn any_metadata() -> impl Strategy<Value = Metadata> {
    (
        (any::<u32>(), field(), field(), field(), field(), field()),
        (field(), field(), field()),
        proptest::collection::vec(any::<u32>(), 0..4),
        proptest::collection::vec((any::<u32>(), field(), field(), field()), 0..4),
    )
        .prop_map(
            |(
                (abi, key, value, library, version, description),
                (arch, os, env),
                protocols,
                plugins,
            )| {
                Metadata {
                    abi,
                    cookie_key: key,
                    cookie_value: value,
                    library,
                    version,
                    description,
                    target: Target { arch, os, env },
                    protocols,
                    plugins: plugins
                        .into_iter()
                        .map(
                            |(protocol, name, interface, interface_version)| PluginMetadata {
                                protocol,
                                name,
                                interface,
                                interface_version,
                            },
                        )
                        .collect(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn metadata_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = metadata::parse(&bytes);
    }

    #[test]
    fn metadata_round_trips(meta in any_metadata(), padding in proptest::collection::vec(any::<u8>(), 0..16)) {
        let mut bytes = meta.to_text().into_bytes();
        bytes.extend(padding);
        prop_assert_eq!(metadata::parse(&bytes).unwrap(), meta);
    }

    #[test]
    fn inspecting_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(inspect_bytes(&bytes).is_err());
    }

    #[test]
    fn inspecting_a_damaged_plugin_never_panics(
        cut in 0usize..1_000_000,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
    ) {
        let original = plugin_bytes();
        let mut bytes = original[..cut.min(original.len())].to_vec();
        for (at, value) in flips {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = value;
            }
        }
        let _ = inspect_bytes(&bytes);
    }
}

#[test]
fn the_macro_writes_what_to_text_writes() {
    let meta = inspect_bytes(plugin_bytes()).expect("the greeter plugin inspects");
    assert_eq!(meta.library, "greeter");
    // Parsing is exact, so equal values mean the two writers agree.
    assert_eq!(metadata::parse(meta.to_text().as_bytes()).unwrap(), meta);
    assert_eq!(meta.plugins[0].name, "greeter");
}

//! The greeter plugin, built and loaded into a host configured like the demo
//! application, with `plugboard_host::testing::check_cdylib`.

use plugboard_demo::{Greeter, KeyValue, HANDSHAKE, PROTOCOL_VERSION};
use plugboard_host::{testing, LoadErrorKind, Plugin, PluginHost, PluginHostBuilder};

fn demo_host() -> PluginHostBuilder {
    PluginHost::builder()
        .handshake(HANDSHAKE)
        .protocol_versions([PROTOCOL_VERSION])
        .interface::<dyn Greeter>()
        .interface::<dyn KeyValue>()
}

#[test]
fn passes_the_handshake_and_dispenses_every_plugin() {
    let checked = testing::check_cdylib(
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_PKG_NAME"),
        demo_host(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked.library.protocol, PROTOCOL_VERSION);
    let greeter: Plugin<dyn Greeter> = checked.host.dispense("greeter").unwrap();
    assert_eq!(greeter.greet("tests").unwrap(), "Hello, tests!");
    assert_eq!(greeter.shout("tests").unwrap(), "HELLO, TESTS!");
}

#[test]
fn is_refused_by_a_host_of_another_application() {
    let other = PluginHost::builder().handshake(plugboard_interface::HandshakeConfig {
        cookie_key: "SOME_OTHER_APP",
        cookie_value: "x",
    });
    let err = testing::check_cdylib(env!("CARGO_MANIFEST_DIR"), env!("CARGO_PKG_NAME"), other)
        .err()
        .expect("a foreign cookie is refused");
    match err {
        testing::PluginTestError::Refused(e) => {
            assert!(
                matches!(e.kind(), LoadErrorKind::CookieMismatch { .. }),
                "{e}"
            )
        }
        other => panic!("expected a refusal, got {other}"),
    }
}

#[test]
fn a_host_that_does_not_register_greeter_is_told_so() {
    let bare = PluginHost::builder().handshake(HANDSHAKE);
    let err = testing::check_cdylib(env!("CARGO_MANIFEST_DIR"), env!("CARGO_PKG_NAME"), bare)
        .err()
        .expect("unregistered interface");
    assert!(
        matches!(err, testing::PluginTestError::Unregistered { .. }),
        "{err}"
    );
}

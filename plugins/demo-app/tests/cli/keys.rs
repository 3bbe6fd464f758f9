//! `keygen` and `sign`: a key pair, a signed library, and loading with
//! the trusted key.

use plugboard_tests::{demo_dir, lib_name, stderr, stdout};

use super::demo_app;

#[test]
fn keygen_sign_and_load_with_a_trusted_key() {
    let keys = tempfile::tempdir().unwrap();
    let out = demo_app(&["keygen", "--out", keys.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = keys.path().join("plugboard.key");
    let public = keys.path().join("plugboard.pub");

    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let greeter = dir.path().join(lib_name("greeter"));
    let call = [
        "call",
        "--plugins",
        d,
        "--trusted-key",
        public.to_str().unwrap(),
        "greeter",
        "greet",
        "\"X\"",
    ];

    let out = demo_app(&call);
    assert_eq!(out.status.code(), Some(1), "unsigned: refused");

    let out = demo_app(&[
        "sign",
        "--key",
        secret.to_str().unwrap(),
        greeter.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = demo_app(&call);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "\"Hello, X!\"\n");

    // One byte changed: refused, with the reason in `list`.
    let mut bytes = std::fs::read(&greeter).unwrap();
    bytes[10_000] ^= 0xff;
    std::fs::write(&greeter, bytes).unwrap();
    assert_eq!(demo_app(&call).status.code(), Some(1));
    let text = stdout(&demo_app(&[
        "list",
        "--plugins",
        d,
        "--trusted-key",
        public.to_str().unwrap(),
    ]));
    let line = text
        .lines()
        .find(|l| l.contains(&lib_name("greeter")))
        .unwrap();
    assert!(
        line.starts_with("refused") && line.contains("bad signature"),
        "{line}"
    );
}

//! Isolated plugins on Windows, where they do not exist (the runner inherits
//! Unix socket pairs and pipes; see `plugboard_host::isolation`): a file the
//! host would isolate is refused with `Isolation`, saying why, and the
//! other files of the folder load as usual. The Unix tests are in
//! `isolation/`; demo-app's `--isolate` on Windows is tested in
//! plugins/demo-app/tests/cli/list.rs.
#![cfg(windows)]

use plugboard_demo::Greeter;
use plugboard_host::{LoadErrorKind, Plugin};
use plugboard_tests::{isolation_builder, PluginDir};

#[test]
fn an_isolated_load_is_refused_and_the_other_files_load() {
    let dir = PluginDir::new();
    dir.add("greeter");
    let kv = dir.add("kv");
    let host = isolation_builder().isolate("kv").build();
    let report = host.load_dir(dir.path());
    let refused: Vec<_> = report.refused().collect();
    assert_eq!(refused.len(), 1, "{report}");
    assert_eq!(refused[0].path(), kv);
    match refused[0].kind() {
        LoadErrorKind::Isolation { reason } => assert!(reason.contains("Unix"), "{reason}"),
        other => panic!("expected Isolation, got {other:?}"),
    }
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    assert_eq!(greeter.greet("Windows").unwrap(), "Hello, Windows!");
}

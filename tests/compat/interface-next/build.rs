//! Turns on the extra root-module field of this fixture build.

fn main() {
    println!("cargo:rustc-cfg=plugboard_next_root_field");
}
